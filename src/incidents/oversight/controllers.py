"""The audit log over HTTP, for the secretariat: read events, verify the log and the tables."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.members.guards import require_secretariat
from incidents.openapi import problems
from incidents.oversight import events
from incidents.oversight.verify import VerifyResult, verify_database
from incidents.pagination import DEFAULT_PAGE_SIZE, Page, PageSize


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
    ) -> Page[events.Event]:
        filters = events.EventFilter(
            entity_type=entity_type,
            entity_id=entity_id,
            action=action,
            actor_organization=actor_organization,
        )
        return await events.list_events(db, filters, cursor=cursor, limit=limit)

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
