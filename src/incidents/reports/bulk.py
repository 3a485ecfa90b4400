"""Writing many reports at once with binary COPY: the batch endpoint, imports and re-imports.

One path for every bulk writer, so that each report gets the same rows as one filed over the
API: its incident, its first revision, and an audit event recording the content hash.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

import msgspec
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.audit.service import Actor, EventDraft, append
from incidents.db import copy_rows
from incidents.ids import new_id, reference
from incidents.reports.integrity import content_digest, report_event, salt_for
from incidents.reports.models import report_revisions, reports
from incidents.reports.schemas import ReportContent

REPORT_COLUMNS = [
    "id",
    "number",
    "year",
    "incident_id",
    "organization_id",
    "status",
    "sharing",
    "revision",
    "taxonomy_version",
    "external_ref",
    "created_at",
    "updated_at",
    "submitted_at",
    "reviewed_at",
    "title",
    "summary",
    "language",
    "event_type",
    "severity",
    "severity_ordinal",
    "eu_categories",
    "harm_domains",
    "harm_types",
    "affected_groups",
    "sectors",
    "causal_entity",
    "causal_intent",
    "causal_timing",
    "system_type",
    "ai_tasks",
    "lifecycle_stage",
    "autonomy_level",
    "ai_system_name",
    "developer",
    "deployer",
    "reporting_jurisdiction",
    "affected_jurisdictions",
    "jurisdictions",
    "occurred_on",
    "occurred_precision",
    "detected_on",
    "people_affected",
    "deaths",
    "injuries",
]
REVISION_COLUMNS = [
    "report_id",
    "revision",
    "content",
    "sharing",
    "taxonomy_version",
    "created_at",
    "actor_org_id",
    "actor_key_id",
    "actor_label",
    "salt",
]
REVIEWED = ("accepted", "rejected")


class Filer(msgspec.Struct, frozen=True):
    organization_id: uuid.UUID
    jurisdiction: str | None


class NewReport(msgspec.Struct, kw_only=True):
    content: ReportContent
    derived: dict[str, Any]
    version: int
    status: str
    sharing: str
    external_ref: str | None = None
    incident: tuple[uuid.UUID, str] | None = None
    """An existing incident to join; otherwise a new one."""
    group: str | None = None
    """New reports with the same group share one new incident (e.g. an export's incident)."""


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
            report_id = new_id()
            row = {
                "id": report_id,
                "number": number,
                "year": now.year,
                "incident_id": incident[0],
                "organization_id": filer.organization_id,
                "status": item.status,
                "sharing": item.sharing,
                "revision": 1,
                "taxonomy_version": item.version,
                "external_ref": item.external_ref,
                "created_at": now,
                "updated_at": now,
                "submitted_at": None if item.status == "draft" else now,
                "reviewed_at": now if item.status in REVIEWED else None,
                **item.derived,
            }
            content = msgspec.to_builtins(item.content)
            salt = salt_for(item.status)
            revision_rows.append(
                (
                    report_id,
                    1,
                    msgspec.json.encode(content).decode(),
                    item.sharing,
                    item.version,
                    now,
                    actor.org_id,
                    actor.key_id,
                    actor.label,
                    salt,
                )
            )
            ref = reference("RPT", now.year, number)
            drafts.append(
                report_event(
                    action,
                    report_id,
                    None,
                    {
                        "ref": ref,
                        "incident": incident[1],
                        "organization": str(filer.organization_id),
                        "status": item.status,
                        "status_reason": None,
                        "sharing": item.sharing,
                        "taxonomy_version": item.version,
                        "external_ref": item.external_ref,
                        "title": item.content.title,
                        "content_sha256": content_digest(content, salt),
                    },
                    draft=item.status == "draft",
                )
            )
            written.append(Written(report_id, ref, incident[1]))
            yield tuple(row[column] for column in REPORT_COLUMNS)

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


async def replace_content(
    connection: AsyncConnection, actor: Actor, report: Any, item: NewReport
) -> None:
    """A re-import that changed: a new revision, the derived columns, and its audit event
    (which records the status, sharing level and taxonomy version it leaves, changed or not)."""
    now = datetime.now(UTC)
    revision = report.revision + 1
    content = msgspec.to_builtins(item.content)
    leaves_draft = report.status == "draft" and item.status != "draft"
    await connection.execute(
        update(reports)
        .where(reports.c.id == report.id)
        .values(
            revision=revision,
            sharing=item.sharing,
            status=item.status,
            taxonomy_version=item.version,
            updated_at=now,
            **({"submitted_at": now} if leaves_draft else {}),
            **item.derived,
        )
    )
    if report.status == "draft":
        await connection.execute(
            update(report_revisions)
            .where(
                report_revisions.c.report_id == report.id,
                report_revisions.c.revision == report.revision,
            )
            .values(draft_only=True)
        )
    salt = salt_for(item.status)
    await connection.execute(
        insert(report_revisions).values(
            report_id=report.id,
            revision=revision,
            content=content,
            sharing=item.sharing,
            taxonomy_version=item.version,
            created_at=now,
            actor_org_id=actor.org_id,
            actor_key_id=actor.key_id,
            actor_label=actor.label,
            salt=salt,
        )
    )
    await append(
        connection,
        actor,
        [
            report_event(
                "report.updated",
                report.id,
                {"revision": report.revision},
                {
                    "revision": revision,
                    "source": "re-import",
                    "status": item.status,
                    "sharing": item.sharing,
                    "taxonomy_version": item.version,
                    "content_sha256": content_digest(content, salt),
                },
                draft=report.status == "draft",
            )
        ],
    )
