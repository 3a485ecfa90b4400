"""Reading the audit log as the secretariat may: filtered pages, oldest first, with the content
of drafts left out (a draft is its submitter's alone; its events say that it changed).

Events written since drafts were kept out of the log hold no draft content; older ones do, and
cannot be rewritten without breaking the chain, so they are redacted here, as they are read.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.audit.models import audit_events
from incidents.db import as_dict
from incidents.oversight.replay import CREATING_ACTIONS
from incidents.pagination import Page
from incidents.reports.integrity import without_draft_content


class Event(msgspec.Struct, kw_only=True):
    seq: int
    id: uuid.UUID
    occurred_at: datetime
    actor: str
    actor_organization_id: uuid.UUID | None
    actor_key_id: uuid.UUID | None
    action: str
    entity_type: str
    entity_id: str
    before: Any
    after: Any
    hash: str
    redacted: bool = False
    """About a draft: says that it changed, not what it says (drafts are their submitter's)."""


class EventFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Which events to list: those matching every value given."""

    entity_type: str | None = None
    entity_id: str | None = None
    action: str | None = None
    actor_organization: uuid.UUID | None = None


class _Stored(msgspec.Struct, kw_only=True):
    """An event as stored, with the status its report had just before it."""

    seq: int
    id: uuid.UUID
    occurred_at: datetime
    actor_label: str
    actor_org_id: uuid.UUID | None
    actor_key_id: uuid.UUID | None
    action: str
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    hash: bytes
    status_before: str | None


# The status a report had just before an event: what tells an event about a draft.
_EARLIER = audit_events.alias("earlier")
_STATUS_BEFORE = case(
    (
        audit_events.c.entity_type == "report",
        select(_EARLIER.c.after["status"].astext)
        .where(
            _EARLIER.c.entity_type == audit_events.c.entity_type,
            _EARLIER.c.entity_id == audit_events.c.entity_id,
            _EARLIER.c.seq < audit_events.c.seq,
            _EARLIER.c.after.has_key("status"),
        )
        .order_by(_EARLIER.c.seq.desc())
        .limit(1)
        .correlate(audit_events)
        .scalar_subquery(),
    ),
).label("status_before")


_LISTED = [
    *(column for column in audit_events.c if column.name in _Stored.__struct_fields__),
    _STATUS_BEFORE,
]


def _event(row: _Stored) -> Event:
    before, after = row.before, row.after
    about_draft = row.entity_type == "report" and (
        (after or {}).get("status") == "draft"
        if row.action in CREATING_ACTIONS
        else row.status_before == "draft"
    )
    if about_draft:
        # Only the secretariat reads the log, and it never submits a report: a draft's
        # content stays with its submitter, who reads it through the report's revisions.
        before, after = without_draft_content(before, after, keep_digest=False)
    return Event(
        seq=row.seq,
        id=row.id,
        occurred_at=row.occurred_at,
        actor=row.actor_label,
        actor_organization_id=row.actor_org_id,
        actor_key_id=row.actor_key_id,
        action=row.action,
        entity_type=row.entity_type,
        entity_id=row.entity_id,
        before=before,
        after=after,
        hash=row.hash.hex(),
        redacted=about_draft,
    )


async def list_events(
    connection: AsyncConnection, filters: EventFilter, *, cursor: str | None, limit: int
) -> Page[Event]:
    """A page of events in chain order; ``cursor`` is the seq the previous page ended at."""
    table = audit_events
    query = select(*_LISTED).order_by(table.c.seq).limit(limit + 1)
    for column, value in (
        (table.c.entity_type, filters.entity_type),
        (table.c.entity_id, filters.entity_id),
        (table.c.action, filters.action),
        (table.c.actor_org_id, filters.actor_organization),
    ):
        if value is not None:
            query = query.where(column == value)
    if cursor is not None:
        query = query.where(table.c.seq > int(cursor))
    rows = (await connection.execute(query)).mappings().all()
    items = [_event(msgspec.convert(as_dict(row), _Stored)) for row in rows[:limit]]
    return Page(items=items, next=str(items[-1].seq) if len(rows) > limit else None)
