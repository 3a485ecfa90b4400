"""The audit log over HTTP, for the secretariat: read events, verify the log and the tables."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.audit.models import audit_events
from incidents.audit.replay import CREATING_ACTIONS
from incidents.audit.verify import VerifyResult, verify_database
from incidents.members.guards import require_secretariat
from incidents.openapi import problems
from incidents.pagination import DEFAULT_PAGE_SIZE, PageSize
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


class AuditController(Controller):
    path = "/api/v1/audit"
    tags = ("Audit",)
    guards = [require_secretariat]  # noqa: RUF012 - Litestar's own attribute type

    @get(
        "/",
        operation_id="ListAuditEvents",
        summary="Audit events, oldest first, filtered",
        responses=problems(401, 403, 422),
    )
    async def list_events(
        self,
        db: NamedDependency[AsyncConnection],
        entity_type: Annotated[str | None, QueryParameter(required=False, max_length=40)] = None,
        entity_id: Annotated[str | None, QueryParameter(required=False, max_length=80)] = None,
        action: Annotated[str | None, QueryParameter(required=False, max_length=60)] = None,
        actor_organization: Annotated[uuid.UUID | None, QueryParameter(required=False)] = None,
        cursor: Annotated[
            str | None,
            QueryParameter(
                required=False, pattern=r"^\d{1,18}$", description="Events after this seq"
            ),
        ] = None,
        limit: PageSize = DEFAULT_PAGE_SIZE,
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
        rows = (await db.execute(query)).all()
        items = [_event(row) for row in rows[:limit]]
        return EventPage(items=items, next=str(items[-1].seq) if len(rows) > limit else None)

    @get(
        "/verify",
        operation_id="VerifyAudit",
        summary="Walk the hash chain and compare every live table with the log's replay",
        description=(
            "Names every event edited, deleted or cut off, and every difference between the "
            "live tables (reports, revisions, incidents, organizations, keys, taxonomy versions) "
            "and the state the log implies. `incremental=true` checks only what changed since "
            "the latest checkpoint (recorded by `incidents audit verify`), plus every deletion."
        ),
        responses=problems(401, 403, 422),
    )
    async def verify_chain(
        self,
        state: State,
        expect_head: Annotated[
            str | None,
            QueryParameter(
                required=False,
                pattern=r"^[0-9a-f]{64}$",
                description="A head hash recorded earlier",
            ),
        ] = None,
        incremental: Annotated[
            bool,
            QueryParameter(
                required=False, description="From the latest checkpoint instead of everything"
            ),
        ] = False,
    ) -> VerifyResult:
        return await verify_database(
            state.database, expected_head=expect_head, incremental=incremental
        )


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
