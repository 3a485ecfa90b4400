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
from incidents.audit.replay import CREATING_ACTIONS
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


class EventPage(msgspec.Struct, kw_only=True):
    items: list[Event]
    next: str | None


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


def _event(row: Any) -> Event:
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
        hash=bytes(row.hash).hex(),
        redacted=about_draft,
    )


async def list_events(
    connection: AsyncConnection,
    *,
    entity_type: str | None,
    entity_id: str | None,
    action: str | None,
    actor_organization: uuid.UUID | None,
    cursor: str | None,
    limit: int,
) -> EventPage:
    table = audit_events
    query = select(table, _STATUS_BEFORE).order_by(table.c.seq).limit(limit + 1)
    for column, value in (
        (table.c.entity_type, entity_type),
        (table.c.entity_id, entity_id),
        (table.c.action, action),
        (table.c.actor_org_id, actor_organization),
    ):
        if value is not None:
            query = query.where(column == value)
    if cursor is not None:
        query = query.where(table.c.seq > int(cursor))
    rows = (await connection.execute(query)).all()
    items = [_event(row) for row in rows[:limit]]
    return EventPage(items=items, next=str(items[-1].seq) if len(rows) > limit else None)
