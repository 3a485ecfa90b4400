"""Incidents as a caller sees them: resolving references (after merges), summaries computed from
the reports the caller may see, lists and one incident whole."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Literal

import msgspec
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.errors import NotFound
from incidents.incidents import schemas
from incidents.incidents.models import incidents
from incidents.members.models import organizations
from incidents.members.schemas import OrganizationRef, Principal
from incidents.pagination import Number, decode_cursor, encode_cursor
from incidents.reports.access import visible
from incidents.reports.content import format_partial_date
from incidents.reports.models import reports
from incidents.reports.reading import by_id_or_ref

IncidentSort = Literal["newest", "oldest"]


class IncidentsPage(msgspec.Struct):
    items: list[schemas.IncidentSummary]
    next: str | None


def incident_not_found(reference: str) -> NotFound:
    """The one answer for an incident that does not exist and for one the caller may not see."""
    return NotFound(f"No incident {reference} that you can see")


async def resolve_incident(connection: AsyncConnection, reference: str) -> Any:
    """The incident row for a reference or id (merged or not), whoever may see it; 404 if there
    is none. Callers answering someone use `seen_incident`."""
    row = (
        await connection.execute(select(incidents).where(by_id_or_ref(incidents, reference)))
    ).first()
    if row is None:
        raise incident_not_found(reference)
    return row


async def seen_incident(
    connection: AsyncConnection, principal: Principal | None, reference: str
) -> tuple[Any, Any]:
    """(the incident ``reference`` names, the one now holding its reports: itself unless it
    was merged), provided the caller may see the latter. Otherwise the same 404 as for a
    reference that names nothing: a merged reference must not lead anyone to a survivor they
    may not see, nor tell a hidden incident from a missing one."""
    named = await resolve_incident(connection, reference)
    survivor = await survivor_of(connection, named)
    if not (await connection.execute(select(incident_visible(principal, survivor.id)))).scalar():
        raise incident_not_found(reference)
    return named, survivor


async def survivor_of(connection: AsyncConnection, incident: Any) -> Any:
    """Follow merges to the incident that now holds the reports."""
    seen = set()
    while incident.merged_into is not None and incident.id not in seen:
        seen.add(incident.id)
        incident = (
            await connection.execute(
                select(incidents).where(incidents.c.id == incident.merged_into)
            )
        ).one()
    return incident


async def summaries(
    connection: AsyncConnection,
    principal: Principal | None,
    incident_ids: Sequence[uuid.UUID],
) -> dict[uuid.UUID, schemas.IncidentSummary]:
    """Each incident as the caller sees it: computed from the reports the caller may see."""
    if not incident_ids:
        return {}
    rows = (
        await connection.execute(
            select(
                reports.c.incident_id,
                incidents.c.ref,
                incidents.c.created_at,
                reports.c.title,
                reports.c.status,
                reports.c.jurisdictions,
                reports.c.severity,
                reports.c.severity_ordinal,
                reports.c.harm_domains,
                reports.c.occurred_on,
                reports.c.number,
            )
            .join(incidents, incidents.c.id == reports.c.incident_id)
            .where(reports.c.incident_id.in_(list(incident_ids)), visible(principal))
            .order_by(reports.c.number)
        )
    ).all()
    grouped: dict[uuid.UUID, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row.incident_id, []).append(row)
    result = {}
    for incident_id, members in grouped.items():
        first = members[0]
        countries = sorted({country for member in members for country in member.jurisdictions})
        worst = max(members, key=lambda member: member.severity_ordinal or 0)
        result[incident_id] = schemas.IncidentSummary(
            id=incident_id,
            ref=first.ref,
            created_at=first.created_at,
            title=first.title,
            report_count=len(members),
            jurisdictions=countries,
            cross_border=len(countries) > 1,
            severity=worst.severity,
            harm_domains=sorted({code for member in members for code in member.harm_domains}),
            first_occurred_on=min(member.occurred_on for member in members),
            statuses=sorted({member.status for member in members}),
        )
    return result


async def list_incidents(
    connection: AsyncConnection,
    principal: Principal | None,
    conditions: Sequence[ColumnElement[bool]],
    *,
    cross_border: bool | None = None,
    sort: IncidentSort = "newest",
    cursor: str | None = None,
    limit: int = 50,
) -> IncidentsPage:
    """Incidents with at least one visible report matching the filters, newest (most recently
    opened) first, or oldest first."""
    matching = select(reports.c.incident_id).where(visible(principal), *conditions)
    query = select(incidents.c.id, incidents.c.number).where(
        incidents.c.merged_into.is_(None), incidents.c.id.in_(matching)
    )
    if cross_border is not None:
        # Cross-border as the caller sees it: its visible reports name more than one country.
        countries = (
            select(func.unnest(reports.c.jurisdictions).label("country"))
            .where(reports.c.incident_id == incidents.c.id, visible(principal))
            .correlate(incidents)
            .subquery()
        )
        spread = select(func.count(func.distinct(countries.c.country))).scalar_subquery()
        query = query.where(spread > 1 if cross_border else spread <= 1)
    newest = sort == "newest"
    if cursor:
        (number,) = decode_cursor(cursor, tuple[Number])
        query = query.where(incidents.c.number < number if newest else incidents.c.number > number)
    order = incidents.c.number.desc() if newest else incidents.c.number.asc()
    rows = (await connection.execute(query.order_by(order).limit(limit + 1))).all()
    page = rows[:limit]
    found = await summaries(connection, principal, [row.id for row in page])
    items = [found[row.id] for row in page if row.id in found]
    next_cursor = encode_cursor([page[-1].number]) if len(rows) > limit else None
    return IncidentsPage(items=items, next=next_cursor)


async def get_incident(
    connection: AsyncConnection, principal: Principal | None, incident: Any
) -> schemas.Incident:
    found = await summaries(connection, principal, [incident.id])
    summary = found.get(incident.id)
    if summary is None:
        raise incident_not_found(incident.ref)
    rows = await connection.execute(
        select(
            reports.c.id,
            reports.c.ref,
            reports.c.title,
            reports.c.status,
            reports.c.sharing,
            reports.c.occurred_on,
            reports.c.occurred_precision,
            reports.c.severity,
            organizations.c.id.label("organization_id"),
            organizations.c.name.label("organization_name"),
        )
        .join(organizations, organizations.c.id == reports.c.organization_id)
        .where(reports.c.incident_id == incident.id, visible(principal))
        .order_by(reports.c.number)
    )
    lines = [
        schemas.ReportLine(
            id=row.id,
            ref=row.ref,
            title=row.title,
            status=row.status,
            sharing=row.sharing,
            occurred_on=format_partial_date(row.occurred_on, row.occurred_precision),
            severity=row.severity,
            organization=OrganizationRef(id=row.organization_id, name=row.organization_name),
        )
        for row in rows
    ]
    return schemas.Incident(**msgspec.structs.asdict(summary), reports=lines)


def incident_visible(principal: Principal | None, incident_id: Any) -> ColumnElement[bool]:
    return (
        select(reports.c.id)
        .where(reports.c.incident_id == incident_id, visible(principal))
        .exists()
    )
