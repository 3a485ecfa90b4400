"""`incidents taxonomy`: check taxonomy files, release a version, compare two, rebuild geography."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from incidents.cli.shared import cli_actor, fail, load_settings, run_with_database
from incidents.db import Database

if TYPE_CHECKING:
    from incidents.taxonomy.schemas import LoadResult, TaxonomyDocument


@click.group()
def taxonomy() -> None:
    """The shared taxonomy: check files, load versions, compare versions."""


@taxonomy.command("check")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def taxonomy_check(directory: str | None) -> None:
    """Validate the taxonomy files in DIRECTORY (default: the shipped taxonomy) and their
    translations (every label and definition in every language of translations/manifest.toml).

    Prints each problem as FILE  CODE  REASON and exits 1 if there is any.
    """
    from incidents.languages.catalogs import check_translations
    from incidents.taxonomy.files import TaxonomyInvalid, read_directory

    folder = Path(directory) if directory else load_settings().taxonomy_dir
    try:
        document = read_directory(folder)
        problems = check_translations(folder, document)
    except TaxonomyInvalid as invalid:
        problems = invalid.problems
    if problems:
        for problem in problems:
            click.echo(f"{problem.file}  {problem.code or '-'}  {problem.reason}")
        click.echo(f"{len(problems)} problem(s) in {folder}", err=True)
        sys.exit(1)
    codes = sum(len(dimension.codes) for dimension in document.dimensions)
    click.echo(
        f"{folder}: version {document.manifest.version} is valid "
        f"({len(document.dimensions)} dimensions, {codes} codes, "
        f"{len(document.crosswalks)} crosswalks, {len(document.geography)} countries)"
    )
    click.echo(_languages_line(folder))


def _languages_line(folder: Path) -> str:
    from incidents.languages.catalogs import read_translations

    translations, _ = read_translations(folder)
    states = translations.manifest.catalogs
    reviewed = [code for code, state in states.items() if state.reviewed_by_native_speaker]
    awaiting = [code for code, state in states.items() if not state.reviewed_by_native_speaker]
    line = f"every label and definition present in {len(states)} languages ({', '.join(states)})"
    if reviewed:
        line += f"; reviewed by a native speaker: {', '.join(reviewed)}"
    if awaiting:
        line += f"; awaiting native review: {', '.join(awaiting)}"
    return line


@taxonomy.command("glossary")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.option(
    "--lang",
    "languages",
    multiple=True,
    help="A language to include (repeat; default all six, in the UN order).",
)
@click.option("--definitions", is_flag=True, help="Add each code's definition in each language.")
@click.option(
    "--write",
    "write_to",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the Markdown to this file instead of printing it (e.g. docs/glossary.md).",
)
def taxonomy_glossary(
    directory: str | None, languages: tuple[str, ...], definitions: bool, write_to: str | None
) -> None:
    """The taxonomy's terms side by side in each language, as Markdown."""
    from incidents.languages import LANGUAGES
    from incidents.languages.catalogs import read_translations
    from incidents.languages.glossary import glossary
    from incidents.taxonomy.files import TaxonomyInvalid, read_directory

    folder = Path(directory) if directory else load_settings().taxonomy_dir
    unknown = [code for code in languages if code not in LANGUAGES]
    if unknown:
        fail(f"--lang {unknown[0]!r} is not one of: {', '.join(LANGUAGES)}")
    try:
        document = read_directory(folder)
    except TaxonomyInvalid as invalid:
        fail(f"{folder} is not a valid taxonomy ({len(invalid.problems)} problems)")
    translations, _ = read_translations(folder)
    text = glossary(document, translations, languages or LANGUAGES, definitions=definitions)
    if write_to is None:
        click.echo(text, nl=False)
    else:
        Path(write_to).write_text(text, encoding="utf-8")
        click.echo(f"wrote {write_to}")


@taxonomy.command("load")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def taxonomy_load(directory: str | None) -> None:
    """Release the taxonomy in DIRECTORY into the database (loading it again changes nothing)."""
    from incidents.taxonomy.files import TaxonomyInvalid, read_directory
    from incidents.taxonomy.releases import store

    settings = load_settings()
    try:
        document = read_directory(Path(directory) if directory else settings.taxonomy_dir)
    except TaxonomyInvalid as invalid:
        for problem in invalid.problems:
            click.echo(f"{problem.file}  {problem.code or '-'}  {problem.reason}")
        sys.exit(1)

    async def work(database: Database) -> LoadResult:
        async with database.transaction() as connection:
            return await store(connection, cli_actor(), document)

    result = run_with_database(settings, work)
    state = "loaded" if result.created else "already loaded, nothing changed"
    click.echo(f"taxonomy version {result.version} {state} (sha256 {result.content_hash[:16]})")


@taxonomy.command("diff")
@click.argument("old")
@click.argument("new")
def taxonomy_diff(old: str, new: str) -> None:
    """Show codes added, retired and relabelled from OLD to NEW.

    Each is a version number in the database or a taxonomy directory.
    """
    from incidents.taxonomy.changes import diff
    from incidents.taxonomy.files import TaxonomyInvalid, read_directory
    from incidents.taxonomy.releases import document_of

    def from_database(versions: list[int]) -> dict[int, TaxonomyDocument]:
        async def work(database: Database) -> dict[int, TaxonomyDocument]:
            async with database.connect() as connection:
                return {v: await document_of(connection, v) for v in versions}

        return run_with_database(load_settings(), work)

    def resolve(reference: str, stored: dict[int, TaxonomyDocument]) -> TaxonomyDocument:
        if reference.isdigit():
            return stored[int(reference)]
        try:
            return read_directory(Path(reference))
        except TaxonomyInvalid as invalid:
            fail(f"{reference} is not a valid taxonomy ({len(invalid.problems)} problems)")

    numbers = [int(ref) for ref in (old, new) if ref.isdigit()]
    stored = from_database(numbers) if numbers else {}
    changes = diff(resolve(old, stored), resolve(new, stored))
    symbols = {
        "added": "+",
        "retired": "-",
        "relabelled": "~",
        "redefined": "~",
        "moved": ">",
        "crosswalk": "~",
    }
    for change in changes:
        where = f"{change.dimension}:{change.code}"
        click.echo(f"{symbols[change.kind]} {change.kind:<10} {where}  {change.detail}")
    click.echo(f"{len(changes)} change(s)")


@taxonomy.command("geography")
@click.option(
    "--write",
    "write_to",
    type=click.Path(file_okay=False),
    default=None,
    help="Write geography.csv into this taxonomy directory instead of printing it.",
)
def taxonomy_geography(write_to: str | None) -> None:
    """Regenerate the country table from pycountry and country_converter (development tools)."""
    from incidents.taxonomy.geography import FILE_NAME, build_rows, to_csv

    try:
        text = to_csv(build_rows())
    except ModuleNotFoundError as missing:
        fail(f"{missing.name} is needed to regenerate geography (uv sync installs it)")
    if write_to is None:
        click.echo(text, nl=False)
    else:
        (Path(write_to) / FILE_NAME).write_text(text, encoding="utf-8")
        click.echo(f"wrote {Path(write_to) / FILE_NAME}")
