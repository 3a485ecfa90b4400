"""A register's table (CSV, .xlsx, .ods) imported through a mapping alone.

All or nothing by default; ``partial`` imports the good rows and hands back the rejected ones
with their reasons, in the file's own layout. Every problem of every row is reported, named by
the file's line and column. Without an ``external_ref`` column, a row is known again by a
content key (a hash of its title, summary and occurrence date), so that re-running the same
import changes nothing. This is the one entry point the CLI and the web upload call.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable

import msgspec

from incidents.audit.service import Actor
from incidents.db import Database
from incidents.importers.mapping import Mapping, parse_mapping
from incidents.importers.records import Problem, Record, Summary, prepare, write
from incidents.importers.rejected import rejected_csv
from incidents.importers.tables import Table, read_table
from incidents.importers.translate import Coverage, Translator
from incidents.members import service as members
from incidents.taxonomy.service import Taxonomy

Progress = Callable[[str, int, int], None]
CONTENT_KEY = "content:"


class Imported(msgspec.Struct, kw_only=True):
    """What an import read, wrote and refused, and why."""

    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    """Rows refused (nothing is written unless ``partial``)."""
    written: bool = False
    refused_by_reason: dict[str, int] = {}
    """'column: reason' -> rows refused for it, most frequent first."""
    defaulted: dict[str, int] = {}
    """Field -> rows a [defaults] constant filled (fields the file lacks)."""
    unmapped: dict[str, int] = {}
    """Field -> values kept unclassified (on_unmapped = "unclassified")."""
    coverage: list[Coverage] = []
    problems: list[Problem] = []
    """Every problem: ``row`` is the file's line (0: the file or mapping as a whole)."""
    columns: list[str] = []
    """The columns found in the file (their names as the mapping uses them)."""
    rejected_rows: bytes | None = None
    """CSV of the refused rows with their reasons (``partial`` only), re-importable."""


def content_key(values: dict[str, object]) -> str:
    """A stable key for a row without an external reference: its title, summary and date."""
    parts = [" ".join(str(values.get(name) or "").split()) for name in ("title", "summary")]
    parts.append(str(values.get("occurred_on") or ""))
    digest = hashlib.sha256(msgspec.json.encode(parts)).hexdigest()
    return f"{CONTENT_KEY}{digest[:32]}"


def _reason(problem: Problem) -> str:
    """The reason without the row's own value, so that rows group by it."""
    message = re.sub(r"'[^']*'", "…", problem.message)
    return f"{problem.column}: {message}"


def missing_columns(mapping: Mapping, table: Table) -> list[Problem]:
    found = set(table.columns)
    listed = ", ".join(repr(column) for column in table.columns)
    return [
        Problem(0, spec.column, f"No such column in the file; its columns are: {listed}")
        for spec in mapping.specs().values()
        if spec.column is not None and spec.column not in found
    ]


async def import_table(
    database: Database,
    taxonomy: Taxonomy,
    data: bytes,
    filename: str,
    mapping_text: str,
    actor: Actor,
    *,
    dry_run: bool = False,
    partial: bool = False,
    sheet: str | None = None,
    progress: Progress | None = None,
    filer: str | None = None,
) -> Imported:
    """Raises MappingError (every problem of the mapping) or TableError (an unreadable file).
    ``filer``: the organization that files, whatever the mapping names (the web upload's
    signed-in organization)."""
    mapping = parse_mapping(mapping_text, taxonomy)
    if filer is not None:
        mapping = msgspec.structs.replace(mapping, organization=filer)
    table = read_table(data, filename, mapping.layout(sheet))
    result = Imported(columns=table.columns, read=len(table.rows))
    missing = missing_columns(mapping, table)
    if missing:
        result.problems = missing
        result.rejected = len(table.rows)
        return result
    summary = Summary(read=len(table.rows))
    translator = Translator(mapping, taxonomy, summary)
    records: list[Record] = []
    problems: list[Problem] = []
    total = len(table.rows)
    for done, (line, cells) in enumerate(table.rows, start=1):
        record, row_problems = translator.record(line, dict(zip(table.columns, cells, strict=True)))
        # A row without its own reference (no column, or an empty cell) is known by its content.
        if not record.values.get("external_ref"):
            record.values["external_ref"] = content_key(record.values)
            record.columns["external_ref"] = "(content key: title, summary, date)"
        records.append(record)
        problems.extend(row_problems)
        if progress is not None and (done % 500 == 0 or done == total):
            progress("checking rows", done, total)
    result.defaulted = {name: total for name in mapping.defaults if name not in mapping.fields}
    async with database.transaction() as connection:
        organization = next(
            (
                found
                for found in await members.list_organizations(connection)
                if found.name == mapping.organization
            ),
            None,
        )
        jurisdiction = organization.jurisdiction if organization else None
        prepared, checked = prepare(records, taxonomy, jurisdiction, complete=mapping.complete)
        # A cell already named as wrong is not named again for what follows from it (no value).
        named = {(problem.row, problem.column) for problem in problems}
        problems.extend(p for p in checked if (p.row, p.column) not in named)
        if organization is None:
            problems.append(
                Problem(
                    0,
                    "organization",
                    f"No organization named {mapping.organization!r}; "
                    "add it with `incidents members add-org`",
                )
            )
        problems.sort(key=lambda problem: (problem.row, problem.column))
        refused = {problem.row for problem in problems if problem.row}
        by_reason: Counter[str] = Counter()
        for reason, _line in {(_reason(problem), problem.row) for problem in problems}:
            by_reason[reason] += 1
        result.problems = problems
        result.refused_by_reason = dict(by_reason.most_common())
        result.rejected = len(refused)
        result.unmapped = summary.unmapped
        result.coverage = translator.coverage()
        fatal = organization is None or any(problem.row == 0 for problem in problems)
        if fatal or dry_run or (refused and not partial):
            return result
        assert organization is not None
        good = [entry for entry in prepared if entry.row not in refused]
        if progress is not None:
            progress("writing", 0, len(good))
        await write(connection, organization.id, jurisdiction, actor, good, summary)
        if progress is not None:
            progress("writing", len(good), len(good))
    result.created, result.updated, result.unchanged = (
        summary.created,
        summary.updated,
        summary.unchanged,
    )
    result.written = True
    if refused:
        result.rejected_rows = rejected_csv(table, sorted(refused), problems, mapping.delimiter)
    return result
