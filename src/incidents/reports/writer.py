"""The one writer of reports. A new report is the same rows whoever files it and however: its
incident (unless it joins one), its report row, its first revision and an audit event, built
here from a typed item. Filed alone they go in with one statement (single.py); in batches,
imports and the synthetic generator they are copied (binary COPY) a buffer at a time. A
correction or a changed re-import is a new revision, the derived columns and an audit event,
written here too.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.audit.service import Actor, EventDraft, append
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
