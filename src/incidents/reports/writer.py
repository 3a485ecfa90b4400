"""The one writer of reports. A new report is the same rows whoever files it and however: its
incident (unless it joins one), its report row, its first revision and an audit event, built
here from a typed item. Filed alone they go in with one statement; in batches, imports and the
synthetic generator they are copied (binary COPY) a buffer at a time. A correction or a changed
re-import is a new revision, the derived columns and an audit event, written here too.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

import msgspec
from sqlalchemy import TextClause, insert, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.audit.service import Actor, EventDraft, append
from incidents.db import copy_rows
from incidents.ids import new_id, reference
from incidents.reports.content import Derived
from incidents.reports.integrity import content_digest, report_event, salt_for
from incidents.reports.models import report_revisions, reports
from incidents.reports.schemas import ReportContent
from incidents.reports.states import Status, reviewed_at, submitted_at


class ReportRow(Derived, kw_only=True):
    """One row of ``reports``: the derived columns, then the report's own state."""

    id: uuid.UUID
    number: int | None
    """None when filed alone: PostgreSQL draws it (batches reserve theirs first)."""
    year: int
    incident_id: uuid.UUID
    organization_id: uuid.UUID
    status: str
    status_reason: str | None
    sharing: str
    revision: int
    taxonomy_version: int
    external_ref: str | None
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    reviewed_at: datetime | None


class RevisionRow(msgspec.Struct, kw_only=True):
    """One row of ``report_revisions``: the content as stored (canonical JSON text)."""

    report_id: uuid.UUID
    revision: int
    content: str
    sharing: str
    taxonomy_version: int
    created_at: datetime
    actor_org_id: uuid.UUID | None
    actor_key_id: uuid.UUID | None
    actor_label: str
    salt: bytes | None


REPORT_COLUMNS: tuple[str, ...] = ReportRow.__struct_fields__
REVISION_COLUMNS: tuple[str, ...] = RevisionRow.__struct_fields__


def canonical(content: ReportContent) -> tuple[Any, str]:
    """(the content as plain values, its stored JSON text)."""
    stored = msgspec.to_builtins(content)
    return stored, msgspec.json.encode(stored).decode()


def first_rows(
    *,
    report_id: uuid.UUID,
    number: int | None,
    incident_id: uuid.UUID,
    organization_id: uuid.UUID,
    content: ReportContent,
    derived: Derived,
    status: str,
    sharing: str,
    version: int,
    external_ref: str | None,
    actor: Actor,
    at: datetime,
    status_reason: str | None = None,
) -> tuple[ReportRow, RevisionRow, str]:
    """A new report's row and first revision, and its content hash for the audit event."""
    row = ReportRow(
        **msgspec.structs.asdict(derived),
        id=report_id,
        number=number,
        year=at.year,
        incident_id=incident_id,
        organization_id=organization_id,
        status=status,
        status_reason=status_reason,
        sharing=sharing,
        revision=1,
        taxonomy_version=version,
        external_ref=external_ref,
        created_at=at,
        updated_at=at,
        submitted_at=submitted_at(status, at),
        reviewed_at=reviewed_at(status, at),
    )
    stored, text_form = canonical(content)
    salt = salt_for(status)
    revision = RevisionRow(
        report_id=report_id,
        revision=1,
        content=text_form,
        sharing=sharing,
        taxonomy_version=version,
        created_at=at,
        actor_org_id=actor.org_id,
        actor_key_id=actor.key_id,
        actor_label=actor.label,
        salt=salt,
    )
    return row, revision, content_digest(stored, salt)


def creation_event(
    row: ReportRow, ref: str, incident_ref: str, digest: str, title: str, action: str
) -> EventDraft:
    """The audit event a new report's rows come with (filed, imported or generated alike)."""
    return report_event(
        action,
        row.id,
        None,
        {
            "ref": ref,
            "incident": incident_ref,
            "organization": str(row.organization_id),
            "status": row.status,
            "status_reason": row.status_reason,
            "sharing": row.sharing,
            "taxonomy_version": row.taxonomy_version,
            "external_ref": row.external_ref,
            "title": title,
            "content_sha256": digest,
        },
        draft=row.status == Status.DRAFT,
    )


def _filing_statement() -> TextClause:
    """One statement for a report filed alone: its incident (unless it joins one), the report
    row and its first revision, from the same rows a batch copies. A conflicting external_ref
    inserts no report, which the caller turns into 409 (the transaction then rolls back the
    incident)."""
    columns = [name for name in REPORT_COLUMNS if name != "number"]
    revision = list(REVISION_COLUMNS)
    values = {name: f":rev_{name}" for name in revision}
    values.update(report_id="filed.id", content="CAST(:rev_content AS jsonb)")
    return text(
        f"""
        WITH new_incident AS (
            INSERT INTO incidents (id, year)
            SELECT :incident_id, :year WHERE CAST(:new_incident AS boolean)
            RETURNING ref
        ), filed AS (
            INSERT INTO reports ({", ".join(columns)})
            VALUES ({", ".join(f":{name}" for name in columns)})
            ON CONFLICT (organization_id, external_ref) WHERE external_ref IS NOT NULL DO NOTHING
            RETURNING id, ref
        ), first_revision AS (
            INSERT INTO report_revisions ({", ".join(revision)})
            SELECT {", ".join(values[name] for name in revision)} FROM filed
        )
        SELECT (SELECT ref FROM filed) AS report_ref, (SELECT ref FROM new_incident) AS incident_ref
        """
    )


_FILE = _filing_statement()


async def insert_one(
    connection: AsyncConnection, row: ReportRow, revision: RevisionRow, *, new_incident: bool
) -> tuple[str | None, str | None]:
    """(the new report's ref or None on a taken external_ref, the new incident's ref or None)."""
    parameters = msgspec.structs.asdict(row)
    del parameters["number"]
    parameters.update(
        {f"rev_{name}": value for name, value in msgspec.structs.asdict(revision).items()}
    )
    parameters["new_incident"] = new_incident
    filed = (await connection.execute(_FILE, parameters)).one()
    return filed.report_ref, filed.incident_ref


class Filer(msgspec.Struct, frozen=True):
    organization_id: uuid.UUID
    jurisdiction: str | None


class NewReport(msgspec.Struct, kw_only=True):
    """A report to write: its content and what follows from it, checked by the caller."""

    content: ReportContent
    derived: Derived
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


class Current(msgspec.Struct, frozen=True):
    """Where a report stands before a new revision."""

    id: uuid.UUID
    revision: int
    status: str


async def write_revision(
    connection: AsyncConnection,
    actor: Actor,
    current: Current,
    item: NewReport,
    *,
    before: dict[str, Any],
    after: dict[str, Any],
    values: dict[str, Any] | None = None,
) -> bool:
    """A new revision of a report (an API correction or a changed re-import): the report row
    (revision, state, derived columns, ``values``), the revision, and its audit event with
    ``before``/``after`` plus the revision numbers and the content hash. False, writing
    nothing, when the report moved on meanwhile (another revision or status)."""
    now = datetime.now(UTC)
    number = current.revision + 1
    leaves_draft = current.status == Status.DRAFT and item.status != Status.DRAFT
    changed = await connection.execute(
        update(reports)
        .where(
            reports.c.id == current.id,
            reports.c.revision == current.revision,
            reports.c.status == current.status,
        )
        .values(
            revision=number,
            sharing=item.sharing,
            status=item.status,
            taxonomy_version=item.version,
            updated_at=now,
            **({"submitted_at": submitted_at(item.status, now)} if leaves_draft else {}),
            **msgspec.structs.asdict(item.derived),
            **(values or {}),
        )
        .returning(reports.c.id)
    )
    if changed.first() is None:
        return False
    if current.status == Status.DRAFT:
        # Replaced before the report was ever submitted: the submitter's working copy.
        await connection.execute(
            update(report_revisions)
            .where(
                report_revisions.c.report_id == current.id,
                report_revisions.c.revision == current.revision,
            )
            .values(draft_only=True)
        )
    stored, text_form = canonical(item.content)
    salt = salt_for(item.status)
    revision = RevisionRow(
        report_id=current.id,
        revision=number,
        content=text_form,
        sharing=item.sharing,
        taxonomy_version=item.version,
        created_at=now,
        actor_org_id=actor.org_id,
        actor_key_id=actor.key_id,
        actor_label=actor.label,
        salt=salt,
    )
    row = msgspec.structs.asdict(revision)
    row["content"] = stored
    await connection.execute(insert(report_revisions).values(**row))
    await append(
        connection,
        actor,
        [
            report_event(
                "report.updated",
                current.id,
                {"revision": current.revision, **before},
                {"revision": number, **after, "content_sha256": content_digest(stored, salt)},
                draft=current.status == Status.DRAFT,
            )
        ],
    )
    return True


async def replace_content(
    connection: AsyncConnection, actor: Actor, report: Any, item: NewReport
) -> None:
    """A re-import that changed: its event records the status, sharing level and taxonomy
    version it leaves, changed or not."""
    await write_revision(
        connection,
        actor,
        Current(report.id, report.revision, report.status),
        item,
        before={},
        after={
            "source": "re-import",
            "status": item.status,
            "sharing": item.sharing,
            "taxonomy_version": item.version,
        },
    )
