"""`incidents import`: outside incident data in (AIID snapshots, mapped CSV, NDJSON exports)."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from incidents.cli.shared import (
    cli_actor,
    fail,
    load_settings,
    run_with_database,
    taxonomy_registry,
)
from incidents.db import Database

if TYPE_CHECKING:
    from incidents.importers.records import Summary
    from incidents.taxonomy.service import Taxonomy

Import = Callable[[Database, "Taxonomy"], Awaitable["Summary"]]


@click.group("import")
def imports() -> None:
    """Bring outside incident data in: the AI Incident Database, mapped tables, NDJSON exports."""


def _run_import(work: Import, dry_run: bool) -> None:
    """Run ``work`` against the current taxonomy (the shipped one loaded first, if newer), then
    print what it read, wrote and refused; exit 1 when anything was refused."""
    from incidents.bootstrap import load_shipped_taxonomy

    settings = load_settings()

    async def run(database: Database) -> Summary:
        await load_shipped_taxonomy(database, settings)
        registry = await taxonomy_registry(database)
        return await work(database, registry.current)

    try:
        summary = run_with_database(settings, run)
    except (FileNotFoundError, ValueError) as error:
        fail(str(error))
    for problem in summary.problems:
        where = f"row {problem.row}, " if problem.row else ""
        click.echo(f"{where}column {problem.column}: {problem.message}")
    click.echo(
        f"read {summary.read:,}  created {summary.created:,}  updated {summary.updated:,}  "
        f"unchanged {summary.unchanged:,}"
    )
    for field, count in sorted(summary.unmapped.items()):
        click.echo(f"unmapped {field}: {count:,} (kept as unclassified)")
    if summary.problems:
        click.echo(f"{len(summary.problems):,} problem(s); nothing was written", err=True)
        sys.exit(1)
    if dry_run:
        click.echo("dry run: everything is valid; nothing was written")


@imports.command("aiid")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check everything, write nothing.")
def import_aiid(directory: Path, dry_run: bool) -> None:
    """Import an AI Incident Database snapshot (incidents.csv, classifications_MIT.csv, and
    classifications_CSETv1.csv when present). Re-importing changes only what changed."""
    from incidents.importers.service import import_aiid as run

    _run_import(
        lambda database, taxonomy: run(database, taxonomy, directory, cli_actor(), dry_run=dry_run),
        dry_run,
    )


@imports.command("csv")
@click.argument(
    "file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--mapping",
    "mapping_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML file mapping the file's columns and values onto report fields (see README).",
)
@click.option("--sheet", default=None, help="The sheet of an .xlsx or .ods file (default: first).")
@click.option(
    "--dry-run", is_flag=True, help="Check every row, print every problem, write nothing."
)
@click.option(
    "--partial",
    is_flag=True,
    help="Import the good rows; write the refused ones with their reasons (see --rejected).",
)
@click.option(
    "--rejected",
    "rejected_path",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where --partial writes the refused rows (default: FILE.rejected.csv).",
)
@click.option(
    "--check-mapping",
    is_flag=True,
    help="Check the mapping alone (and FILE's columns, if given); read no rows.",
)
def import_csv(
    file: Path | None,
    mapping_path: Path,
    sheet: str | None,
    dry_run: bool,
    partial: bool,
    rejected_path: Path | None,
    check_mapping: bool,
) -> None:
    """Import any incident list (CSV, .xlsx, .ods) through a mapping file: all rows or none,
    or with --partial the good rows. Re-running the same import changes nothing."""
    from incidents.cli.imports_table import check_mapping_only, run_table_import

    if check_mapping:
        check_mapping_only(mapping_path, file, sheet)
        return
    if file is None:
        fail("Give the FILE to import (or --check-mapping to check the mapping alone)")
    run_table_import(
        file, mapping_path, sheet, dry_run=dry_run, partial=partial, rejected=rejected_path
    )


@imports.command("suggest")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--sheet", default=None, help="The sheet of an .xlsx or .ods file (default: first).")
@click.option(
    "--output",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the mapping here (default: print it).",
)
def import_suggest(file: Path, sheet: str | None, output: Path | None) -> None:
    """Write a starting mapping for FILE: recognised columns mapped, country and date columns
    detected, each coded column's values listed with their counts for you to fill in."""
    from incidents.importers.suggest import suggest
    from incidents.importers.tables import TableError
    from incidents.taxonomy.files import read_directory
    from incidents.taxonomy.service import Taxonomy

    taxonomy = Taxonomy(read_directory(load_settings().taxonomy_dir))
    try:
        text = suggest(file.read_bytes(), file.name, taxonomy, sheet=sheet)
    except TableError as error:
        fail(str(error))
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)


@imports.command("ndjson")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--organization",
    default=None,
    help="File every report under this organization (default: each line's own, by name).",
)
@click.option("--dry-run", is_flag=True, help="Check every line, write nothing.")
def import_ndjson(file: Path, organization: str | None, dry_run: bool) -> None:
    """Import reports in this API's own NDJSON format (e.g. /api/v1/reports.ndjson of another
    instance). Reports that shared an incident there share one here."""
    from incidents.importers.service import import_ndjson as run

    _run_import(
        lambda database, taxonomy: run(
            database, taxonomy, file, cli_actor(), organization=organization, dry_run=dry_run
        ),
        dry_run,
    )
