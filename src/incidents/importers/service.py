"""Running an import: read and map the source, check every record, then write all or nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.audit.service import Actor
from incidents.db import Database
from incidents.importers import aiid, ndjson
from incidents.importers.records import Prepared, Problem, Record, Summary, prepare, write
from incidents.members import schemas as member_schemas
from incidents.members import service as members
from incidents.reports.content import check, derive
from incidents.reports.filing import content_of
from incidents.reports.writer import NewReport
from incidents.taxonomy.service import Taxonomy


async def _find(connection: AsyncConnection, name: str) -> member_schemas.Organization | None:
    for organization in await members.list_organizations(connection):
        if organization.name == name:
            return organization
    return None


def _missing(name: str) -> Problem:
    return Problem(
        0,
        "organization",
        f"No organization named {name!r}; add it with `incidents members add-org`",
    )


async def _run(
    database: Database,
    taxonomy: Taxonomy,
    actor: Actor,
    organization_name: str,
    records: Iterable[tuple[Record, list[Problem]]],
    summary: Summary,
    *,
    complete: bool,
    dry_run: bool,
    create_source: bool = False,
) -> Summary:
    collected: list[Record] = []
    for record, problems in records:
        summary.problems.extend(problems)
        collected.append(record)
    async with database.transaction() as connection:
        organization = await _find(connection, organization_name)
        if organization is None and not create_source:
            summary.problems.append(_missing(organization_name))
        jurisdiction = organization.jurisdiction if organization else None
        prepared, problems = prepare(collected, taxonomy, jurisdiction, complete=complete)
        summary.problems.extend(problems)
        summary.problems.sort(key=lambda problem: (problem.row, problem.column))
        if summary.problems or dry_run:
            return summary
        if organization is None:
            organization = await members.create_organization(
                connection,
                actor,
                member_schemas.OrganizationCreate(name=organization_name, kind="source"),
                taxonomy.countries,
            )
        return await write(connection, organization.id, jurisdiction, actor, prepared, summary)


async def import_aiid(
    database: Database, taxonomy: Taxonomy, directory: Path, actor: Actor, *, dry_run: bool = False
) -> Summary:
    summary = Summary()
    records = list(aiid.read_snapshot(directory, taxonomy, summary))
    return await _run(
        database,
        taxonomy,
        actor,
        aiid.rules().organization,
        records,
        summary,
        complete=False,
        dry_run=dry_run,
        create_source=True,
    )


async def import_ndjson(
    database: Database,
    taxonomy: Taxonomy,
    path: Path,
    actor: Actor,
    *,
    organization: str | None = None,
    dry_run: bool = False,
) -> Summary:
    """Reports in this API's own format (an NDJSON download), into this registry.

    Each line's organization is matched by name (or all go to ``organization``); reports that
    shared an incident there share one here; the original id becomes the external reference,
    so importing the same file again changes nothing.
    """
    summary = Summary()
    today = datetime.now(UTC).date()
    by_filer: dict[str, list[tuple[int, NewReport]]] = {}
    for row, report, problem, owner in ndjson.read_ndjson(path, summary):
        if problem is not None or report is None:
            summary.problems.append(problem or Problem(row, "$", "Unreadable line"))
            continue
        filer = organization or owner
        if not filer:
            summary.problems.append(
                Problem(row, "organization", "No organization; pass --organization")
            )
            continue
        content = content_of(report)
        errors = check(content, taxonomy, today, complete=False)
        summary.problems.extend(Problem(row, error.field, error.message) for error in errors)
        if errors:
            continue
        incident = report.incident
        group = incident.get("ref") if isinstance(incident, dict) else incident
        reference = report.external_ref or (f"report:{report.id}" if report.id else None)
        by_filer.setdefault(filer, []).append(
            (
                row,
                NewReport(
                    content=content,
                    # The filer's jurisdiction is set once the filer is found (below).
                    derived=derive(content, taxonomy, None),
                    version=taxonomy.version,
                    status=report.status,
                    sharing=report.sharing,
                    external_ref=reference,
                    group=str(group) if group else None,
                ),
            )
        )
    async with database.transaction() as connection:
        filers = {}
        for name, items in by_filer.items():
            found = await _find(connection, name)
            if found is None:
                summary.problems.append(msgspec.structs.replace(_missing(name), row=items[0][0]))
            else:
                filers[name] = found
        if summary.problems or dry_run:
            return summary
        groups: dict[str, tuple[uuid.UUID, str]] = {}
        for name, items in by_filer.items():
            found = filers[name]
            prepared = [
                Prepared(
                    row=row,
                    item=msgspec.structs.replace(
                        item, derived=derive(item.content, taxonomy, found.jurisdiction)
                    ),
                )
                for row, item in items
            ]
            await write(connection, found.id, found.jurisdiction, actor, prepared, summary, groups)
    return summary
