"""The batch upload's runs: a table through `mapped.import_table`, reports through the API
batch's `file_batch` (a preview in a savepoint rolled back), each summed up as an `Outcome`
for the preview and result page."""

from __future__ import annotations

import json
import tomllib
from collections.abc import AsyncIterator
from pathlib import PurePath
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.db import Database
from incidents.errors import FieldError, IncidentsError
from incidents.importers.mapped import Imported, import_table
from incidents.importers.mapping import MappingError
from incidents.importers.tables import TableError
from incidents.members.schemas import Principal
from incidents.members.service import actor_for
from incidents.reports import batch
from incidents.taxonomy.service import TaxonomyRegistry
from incidents.web import uploads

MAX_FILE_BYTES = 5_000_000
"""The uploaded file, at most (the CLI takes larger files)."""
MAX_PROBLEMS_SHOWN = 500
REPORTS = {
    ".ndjson": "application/x-ndjson",
    ".jsonl": "application/x-ndjson",
    ".json": "application/json",
}


def with_filer(text: str, name: str) -> tuple[str, int]:
    """The mapping with an `organization` line if it has none (the web files as the signed-in
    organization whatever the mapping names), and how many lines were added before it."""
    try:
        parsed = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return text, 0
    if "organization" in parsed:
        return text, 0
    return f"organization = {json.dumps(name)}\n{text}", 1


def mapping_errors(error: MappingError, shift: int) -> list[FieldError]:
    return [
        FieldError(
            "mapping",
            f"line {problem.line - shift}: {problem.message}"
            if problem.line > shift
            else problem.message,
        )
        for problem in error.problems
    ]


class Outcome(msgspec.Struct, kw_only=True):
    """What a preview or an import found, for the page."""

    kind: str
    read: int = 0
    would_import: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    written: bool = False
    refused_by_reason: dict[str, int] = {}
    defaulted: dict[str, int] = {}
    coverage: list[Any] = []
    problems: list[tuple[str, str, str]] = []
    """(where: the file's line or the report's position, column or field, message)."""
    more_problems: int = 0
    notice: str | None = None


def from_table(result: Imported) -> Outcome:
    problems = [
        (str(problem.row) if problem.row else "-", problem.column, problem.message)
        for problem in result.problems
    ]
    return Outcome(
        kind="table",
        read=result.read,
        would_import=result.read - result.rejected,
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
        rejected=result.rejected,
        written=result.written,
        refused_by_reason=result.refused_by_reason,
        defaulted=result.defaulted,
        coverage=result.coverage,
        problems=problems[:MAX_PROBLEMS_SHOWN],
        more_problems=max(0, len(problems) - MAX_PROBLEMS_SHOWN),
    )


async def run_table(
    database: Database,
    principal: Principal,
    taxonomy: TaxonomyRegistry,
    upload: uploads.Upload,
    *,
    dry_run: bool,
    partial: bool = False,
) -> tuple[Imported, int]:
    text, shift = with_filer(upload.mapping or "", principal.organization_name)
    result = await import_table(
        database,
        taxonomy.current,
        upload.data,
        upload.filename,
        text,
        actor_for(principal),
        dry_run=dry_run,
        partial=partial,
        sheet=upload.sheet,
        filer=principal.organization_name,
    )
    return result, shift


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def run_reports(
    db: AsyncConnection,
    principal: Principal,
    taxonomy: TaxonomyRegistry,
    upload: uploads.Upload,
    *,
    dry_run: bool,
) -> Outcome:
    """The API's batch endpoint's own checks and writes; a preview runs them in a savepoint
    rolled back, so that it reports exactly what confirming would do and stores nothing."""
    media_type = REPORTS[PurePath(upload.filename).suffix.casefold()]
    outcome = Outcome(kind="reports")
    try:
        body = batch.Body(_chunks(upload.data), media_type, MAX_FILE_BYTES, b"")
        items = await batch.read_batch(principal, body)
        outcome.read = len(items)
        savepoint = await db.begin_nested()
        try:
            created = await batch.file_batch(db, principal, items, taxonomy)
        except BaseException:
            await savepoint.rollback()  # the request's transaction stays usable
            raise
        if dry_run:
            await savepoint.rollback()
        else:
            await savepoint.commit()
        outcome.would_import = created.created
        outcome.created = 0 if dry_run else created.created
        outcome.written = not dry_run
    except IncidentsError as error:
        errors = getattr(error, "errors", None) or [FieldError("file", str(error))]
        outcome.rejected = len({e.index for e in errors if e.index is not None}) or outcome.read
        outcome.notice = str(error)
        outcome.problems = [
            (str(e.index + 1) if e.index is not None else "-", e.field, e.message)
            for e in errors[:MAX_PROBLEMS_SHOWN]
        ]
    return outcome


async def outcome_of(
    database: Database,
    db: AsyncConnection,
    principal: Principal,
    taxonomy: TaxonomyRegistry,
    upload: uploads.Upload,
    *,
    dry_run: bool,
    partial: bool = False,
) -> Outcome:
    if upload.kind == "reports":
        return await run_reports(db, principal, taxonomy, upload, dry_run=dry_run)
    try:
        result, _ = await run_table(
            database, principal, taxonomy, upload, dry_run=dry_run, partial=partial
        )
    except MappingError as error:
        _, shift = with_filer(upload.mapping or "", principal.organization_name)
        problems = [("-", e.field, e.message) for e in mapping_errors(error, shift)]
        return Outcome(kind="table", problems=problems, notice="The mapping has problems")
    except TableError as error:
        return Outcome(kind="table", problems=[("-", "file", str(error))], notice=str(error))
    return from_table(result)
