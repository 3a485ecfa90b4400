"""`incidents import csv`: a mapped table in, with progress, and what it did printed by reason."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from incidents.cli.progress import Progress
from incidents.cli.shared import (
    cli_actor,
    fail,
    load_settings,
    run_with_database,
    taxonomy_registry,
)
from incidents.db import Database

if TYPE_CHECKING:
    from incidents.importers.mapped import Imported
    from incidents.taxonomy.service import Taxonomy


def _current_taxonomy() -> Taxonomy:
    from incidents.bootstrap import load_shipped_taxonomy

    settings = load_settings()

    async def run(database: Database) -> Taxonomy:
        await load_shipped_taxonomy(database, settings)
        return (await taxonomy_registry(database)).current

    return run_with_database(settings, run)


def check_mapping_only(mapping_path: Path, file: Path | None, sheet: str | None) -> None:
    """Every problem of the mapping with its line; with FILE, the columns it names too."""
    from incidents.importers.mapped import missing_columns
    from incidents.importers.mapping import MappingError, parse_mapping
    from incidents.importers.tables import TableError, read_table

    taxonomy = _current_taxonomy()
    try:
        mapping = parse_mapping(mapping_path.read_text(encoding="utf-8"), taxonomy)
    except MappingError as error:
        for problem in error.problems:
            click.echo(f"{mapping_path.name}: {problem}")
        fail(f"{len(error.problems):,} problem(s) in the mapping")
    if file is not None:
        try:
            table = read_table(file.read_bytes(), file.name, mapping.layout(sheet))
        except TableError as error:
            fail(str(error))
        missing = missing_columns(mapping, table)
        for column in missing:
            click.echo(f"column {column.column}: {column.message}")
        if missing:
            fail(f"{len(missing):,} column(s) missing from {file.name}")
    click.echo("the mapping is valid")


def run_table_import(
    file: Path,
    mapping_path: Path,
    sheet: str | None,
    *,
    dry_run: bool,
    partial: bool,
    rejected: Path | None,
) -> None:
    from incidents.bootstrap import load_shipped_taxonomy
    from incidents.importers.mapped import import_table
    from incidents.importers.mapping import MappingError
    from incidents.importers.tables import TableError

    settings = load_settings()
    data, mapping_text = file.read_bytes(), mapping_path.read_text(encoding="utf-8")

    async def run(database: Database) -> Imported:
        await load_shipped_taxonomy(database, settings)
        registry = await taxonomy_registry(database)
        with Progress() as progress:
            return await import_table(
                database,
                registry.current,
                data,
                file.name,
                mapping_text,
                cli_actor(),
                dry_run=dry_run,
                partial=partial,
                sheet=sheet,
                progress=progress,
            )

    try:
        result = run_with_database(settings, run)
    except MappingError as error:
        for problem in error.problems:
            click.echo(f"{mapping_path.name}: {problem}")
        fail(f"{len(error.problems):,} problem(s) in the mapping; nothing was read")
    except TableError as error:
        fail(str(error))
    _print(result)
    if result.rejected_rows is not None:
        target = rejected or file.with_name(f"{file.stem}.rejected.csv")
        target.write_bytes(result.rejected_rows)
        click.echo(f"rejected rows, with their reasons, written to {target}")
    if result.problems:
        state = "the other rows were written" if result.written else "nothing was written"
        click.echo(f"{len(result.problems):,} problem(s); {state}", err=True)
        sys.exit(1)
    if dry_run:
        click.echo("dry run: everything is valid; nothing was written")


def _print(result: Imported) -> None:
    # Every problem, however many: a dry run exists to list them all.
    for problem in result.problems:
        where = f"line {problem.row}, " if problem.row else ""
        click.echo(f"{where}column {problem.column}: {problem.message}")
    click.echo(
        f"read {result.read:,}  created {result.created:,}  updated {result.updated:,}  "
        f"unchanged {result.unchanged:,}  refused {result.rejected:,}"
    )
    for reason, rows in result.refused_by_reason.items():
        click.echo(f"  refused {rows:,} row(s): {reason}")
    for field, rows in result.defaulted.items():
        click.echo(f"default {field}: filled {rows:,} row(s)")
    for field, count in sorted(result.unmapped.items()):
        click.echo(f"unmapped {field}: {count:,} (kept as unclassified)")
    for coverage in result.coverage:
        rules = ", ".join(f"{label} {rows:,}" for label, rows in coverage.by_rule.items())
        click.echo(
            f"coverage {coverage.field} ({coverage.column}): {coverage.rows:,} row(s) with a "
            f"value; matched by {rules or 'nothing'}"
        )
        if coverage.unmatched:
            missed = ", ".join(f"{value!r} {count:,}" for value, count in coverage.unmatched)
            click.echo(f"  unmatched, most frequent first: {missed}")
