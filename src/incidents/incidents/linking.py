"""Linking reports into incidents: the incident a filer names, new incidents, moving a report and
merging incidents (the secretariat). Every change appends its audit event."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.audit.service import EventDraft, append
from incidents.errors import Conflict, FieldError, NotFound, ValidationFailed
from incidents.ids import new_id
from incidents.incidents.models import incidents
from incidents.incidents.reading import seen_incident
from incidents.members.schemas import Principal
from incidents.members.service import actor_for
from incidents.reports import schemas as report_schemas
from incidents.reports.models import reports
from incidents.reports.reading import get_report


async def linked_incident(
    connection: AsyncConnection, principal: Principal, reference: str, *, field: str = "incident"
) -> Any:
    """The incident a filer names, after merges; it must hold a report the filer can see."""
    try:
        return (await seen_incident(connection, principal, reference))[1]
    except NotFound:
        raise ValidationFailed(
            "Unknown incident",
            errors=[FieldError(field, f"No incident {reference} that you can see")],
        ) from None


async def _new_incident(connection: AsyncConnection, at: datetime) -> tuple[uuid.UUID, str]:
    incident_id = new_id()
    ref = (
        await connection.execute(
            insert(incidents).values(id=incident_id, year=at.year).returning(incidents.c.ref)
        )
    ).scalar_one()
    return incident_id, ref


async def move_report(
    connection: AsyncConnection, principal: Principal, reference: str, target: str | None
) -> report_schemas.Report:
    """The secretariat moves a report to another incident (or to a new one of its own)."""
    report = await get_report(connection, principal, reference)
    now = datetime.now(UTC)
    if target is None:
        destination = await _new_incident(connection, now)
    else:
        found = (await seen_incident(connection, principal, target))[1]
        destination = (found.id, found.ref)
    if destination[0] == report.incident.id:
        return report
    await connection.execute(
        update(reports)
        .where(reports.c.id == report.id)
        .values(incident_id=destination[0], updated_at=now)
    )
    await append(
        connection,
        actor_for(principal),
        [
            EventDraft(
                "report.moved",
                "report",
                str(report.id),
                {"incident": report.incident.ref},
                {"incident": destination[1]},
            )
        ],
    )
    return await get_report(connection, principal, str(report.id))


async def merge_incidents(
    connection: AsyncConnection, principal: Principal, source_reference: str, into_reference: str
) -> Any:
    """Move every report of one incident into another; the merged one redirects there forever."""
    source = (await seen_incident(connection, principal, source_reference))[0]
    if source.merged_into is not None:
        raise Conflict(f"{source.ref} was already merged")
    survivor = (await seen_incident(connection, principal, into_reference))[1]
    if survivor.id == source.id:
        raise ValidationFailed(
            "An incident cannot be merged into itself",
            errors=[FieldError("into", "Name a different incident")],
        )
    moved = (
        (
            await connection.execute(
                update(reports)
                .where(reports.c.incident_id == source.id)
                .values(incident_id=survivor.id)
                .returning(reports.c.ref)
            )
        )
        .scalars()
        .all()
    )
    now = datetime.now(UTC)
    await connection.execute(
        update(incidents)
        .where(incidents.c.id == source.id)
        .values(merged_into=survivor.id, merged_at=now)
    )
    # Keep redirects one hop long: what pointed at the merged incident now points at the survivor.
    await connection.execute(
        update(incidents)
        .where(incidents.c.merged_into == source.id)
        .values(merged_into=survivor.id)
    )
    await append(
        connection,
        actor_for(principal),
        [
            EventDraft(
                "incident.merged",
                "incident",
                str(source.id),
                {"ref": source.ref},
                {"merged_into": survivor.ref, "reports_moved": sorted(moved)},
            )
        ],
    )
    return survivor
