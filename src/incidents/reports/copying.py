"""Many reports at once with binary COPY: the batch endpoint, imports and re-imports. Report
numbers and incidents are reserved first, then rows are streamed a buffer at a time while the
next are still being built (or checked), then revisions and audit events follow; every row comes
from the one writer (writer.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.audit.service import Actor, EventDraft, append
from incidents.db import copy_rows
from incidents.ids import new_id, reference
from incidents.reports.writer import (
    REPORT_COLUMNS,
    REVISION_COLUMNS,
    Filer,
    NewReport,
    creation_event,
    first_rows,
)


class Written(msgspec.Struct):
    id: uuid.UUID
    ref: str
    incident: str


async def numbers(connection: AsyncConnection, sequence: str, count: int) -> list[int]:
    if count == 0:
        return []
    rows = await connection.exec_driver_sql(
        f"SELECT nextval('{sequence}') FROM generate_series(1, {int(count)})"
    )
    return [int(row[0]) for row in rows]


class Placement(NamedTuple):
    """Where a new report goes: an existing incident, a group's incident, or a new one."""

    incident: tuple[uuid.UUID, str] | None = None
    group: str | None = None


class Slot(NamedTuple):
    number: int
    incident: tuple[uuid.UUID, str]


class Reservation(msgspec.Struct):
    """Report numbers and incidents for a run of new reports, taken before any row is written
    (the incidents' rows go in first: reports reference them)."""

    at: datetime
    slots: list[Slot]
    new_incidents: list[tuple[uuid.UUID, int, int]]


async def reserve(
    connection: AsyncConnection,
    placements: Sequence[Placement],
    groups: dict[str, tuple[uuid.UUID, str]],
) -> Reservation:
    """A report number and an incident for each placement, in order. ``groups`` (group ->
    incident) is filled as new incidents open, so that a group keeps one incident across calls."""
    now = datetime.now(UTC)
    incident_numbers = iter(
        await numbers(connection, "incident_numbers", _new_incidents(placements, groups))
    )
    report_numbers = await numbers(connection, "report_numbers", len(placements))
    slots: list[Slot] = []
    new_incidents: list[tuple[uuid.UUID, int, int]] = []
    for placement, number in zip(placements, report_numbers, strict=True):
        if placement.incident is not None:
            incident = placement.incident
        elif placement.group is not None and placement.group in groups:
            incident = groups[placement.group]
        else:
            incident_number = next(incident_numbers)
            incident = (new_id(), reference("INC", now.year, incident_number))
            new_incidents.append((incident[0], incident_number, now.year))
            if placement.group is not None:
                groups[placement.group] = incident
        slots.append(Slot(number, incident))
    return Reservation(at=now, slots=slots, new_incidents=new_incidents)


async def write_reports(
    connection: AsyncConnection,
    filer: Filer,
    actor: Actor,
    items: Sequence[NewReport],
    *,
    action: str = "report.created",
    groups: dict[str, tuple[uuid.UUID, str]] | None = None,
) -> list[Written]:
    """COPY new reports (in order) with their incidents, revisions and audit events.

    ``groups`` (group -> incident) is filled as new incidents open; pass the same dict to
    several calls to keep one incident for a group across them.
    """
    if not items:
        return []
    reservation = await reserve(
        connection,
        [Placement(item.incident, item.group) for item in items],
        {} if groups is None else groups,
    )

    async def each() -> AsyncIterator[tuple[int, NewReport]]:
        for index, item in enumerate(items):
            yield index, item

    streamed = await stream_reports(connection, filer, actor, reservation, each(), action=action)
    return await complete(connection, actor, streamed)


class Streamed(msgspec.Struct):
    """Reports copied, with what `complete` still has to write for them."""

    revisions: list[tuple[Any, ...]]
    drafts: list[EventDraft]
    written: list[Written]


async def stream_reports(
    connection: AsyncConnection,
    filer: Filer,
    actor: Actor,
    reservation: Reservation,
    items: AsyncIterator[tuple[int, NewReport]],
    *,
    action: str = "report.created",
) -> Streamed:
    """COPY the new incidents, then reports as ``items`` yields them (each with its index in
    ``reservation``); `complete` then writes their revisions and audit events.

    The reports' rows are sent a buffer at a time while the next ones are still being built
    (or checked, for a batch): PostgreSQL stores and indexes one buffer on the other core while
    Python prepares the next, instead of the two taking turns. A caller that finds a bad item
    meanwhile raises before `complete`, so a rejected batch never takes the audit chain's head.
    """
    now = reservation.at
    await copy_rows(connection, "incidents", ["id", "number", "year"], reservation.new_incidents)
    revision_rows: list[tuple[Any, ...]] = []
    drafts: list[EventDraft] = []
    written: list[Written] = []

    async def report_rows() -> AsyncIterator[tuple[Any, ...]]:
        async for index, item in items:
            number, incident = reservation.slots[index]
            row, revision, digest = first_rows(
                report_id=new_id(),
                number=number,
                incident_id=incident[0],
                organization_id=filer.organization_id,
                content=item.content,
                derived=item.derived,
                status=item.status,
                sharing=item.sharing,
                version=item.version,
                external_ref=item.external_ref,
                actor=actor,
                at=now,
            )
            revision_rows.append(msgspec.structs.astuple(revision))
            ref = reference("RPT", now.year, number)
            drafts.append(creation_event(row, ref, incident[1], digest, item.content.title, action))
            written.append(Written(row.id, ref, incident[1]))
            yield msgspec.structs.astuple(row)

    await copy_rows(connection, "reports", REPORT_COLUMNS, report_rows())
    return Streamed(revisions=revision_rows, drafts=drafts, written=written)


async def complete(connection: AsyncConnection, actor: Actor, streamed: Streamed) -> list[Written]:
    """The first revisions and audit events of reports `stream_reports` copied."""
    await copy_rows(connection, "report_revisions", REVISION_COLUMNS, streamed.revisions)
    await append(connection, actor, streamed.drafts)
    return streamed.written


def _new_incidents(placements: Sequence[Placement], known: dict[str, Any]) -> int:
    groups: set[str] = set(known)
    count = 0
    for placement in placements:
        if placement.incident is None and (
            placement.group is None or placement.group not in groups
        ):
            count += 1
            if placement.group is not None:
                groups.add(placement.group)
    return count
