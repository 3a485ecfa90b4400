"""Making, storing and publishing briefs: from the CLI in the foreground, over the API in the
background with a status to poll."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import msgspec
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.audit.service import Actor, EventDraft, append
from incidents.db import Database
from incidents.errors import Conflict, NotFound
from incidents.ids import new_id
from incidents.taxonomy.service import TaxonomyRegistry
from incidents.trends.models import briefs
from incidents.trends.schemas import Brief, BriefRequest

logger = logging.getLogger("incidents.briefs")
STALE_AFTER = timedelta(minutes=30)

Variant = Literal["html", "pdf", "json", "zip"]
VARIANTS: tuple[Variant, ...] = ("html", "pdf", "json", "zip")
MEDIA = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "json": "application/json",
    "zip": "application/zip",
}


def _brief(row: Any) -> Brief:
    base = f"/api/v1/briefs/{row.id}"
    links = {"self": base}
    if row.status == "done":
        links.update({variant: f"{base}.{variant}" for variant in MEDIA})
    return Brief(
        id=row.id,
        period=row.period,
        scope=row.parameters.get("scope", {}),
        status=row.status,
        error=row.error,
        created_at=row.created_at,
        finished_at=row.finished_at,
        created_by=row.created_by,
        taxonomy_version=row.taxonomy_version,
        input_hash=row.input_hash,
        data_hash=row.data_hash,
        published_at=row.published_at,
        links=links,
    )


_SUMMARY = [
    column for column in briefs.c if column.name not in {"html", "pdf", "data_json", "data_zip"}
]


async def queue(connection: AsyncConnection, actor: Actor, request: BriefRequest) -> Brief:
    brief_id = new_id()
    row = (
        await connection.execute(
            briefs.insert()
            .values(
                id=brief_id,
                period=request.period,
                parameters=msgspec.to_builtins(request),
                status="queued",
                created_by=actor.label,
            )
            .returning(*_SUMMARY)
        )
    ).one()
    await append(
        connection,
        actor,
        [EventDraft("brief.requested", "brief", str(brief_id), None, msgspec.to_builtins(request))],
    )
    return _brief(row)


async def run(
    database: Database,
    url: str,
    taxonomy: TaxonomyRegistry,
    brief_id: uuid.UUID,
    k: int,
    progress: Callable[[str], None] | None = None,
) -> None:
    """Compute a queued brief and store it (or its failure): in the background or the foreground."""
    async with database.transaction() as connection:
        row = (await connection.execute(select(briefs).where(briefs.c.id == brief_id))).one()
        await connection.execute(
            update(briefs)
            .where(briefs.c.id == brief_id)
            .values(status="running", started_at=datetime.now(UTC))
        )
    request = msgspec.convert(row.parameters, BriefRequest)
    # Polars, Arrow and Typst load only when a brief is made: a worker that never makes one
    # stays small.
    from incidents.trends.briefs import make

    try:
        made = await make(url, taxonomy, request, k, progress)
    except Exception as error:
        logger.exception("brief %s failed", brief_id)
        message = (
            getattr(error, "detail", None) or f"{type(error).__name__}: the brief could not be made"
        )
        async with database.transaction() as connection:
            await connection.execute(
                update(briefs)
                .where(briefs.c.id == brief_id)
                .values(status="failed", error=str(message)[:2000], finished_at=datetime.now(UTC))
            )
        raise
    async with database.transaction() as connection:
        await connection.execute(
            update(briefs)
            .where(briefs.c.id == brief_id)
            .values(
                status="done",
                finished_at=datetime.now(UTC),
                taxonomy_version=made.data.taxonomy_version,
                input_hash=made.data.input_hash,
                data_hash=made.data_hash,
                html=made.html,
                pdf=made.pdf,
                data_json=made.json,
                data_zip=made.zip,
            )
        )
        await append(
            connection,
            Actor(label="system:briefs"),
            [
                EventDraft(
                    "brief.generated",
                    "brief",
                    str(brief_id),
                    None,
                    {"input_hash": made.data.input_hash, "data_hash": made.data_hash},
                )
            ],
        )


async def get(connection: AsyncConnection, brief_id: uuid.UUID, *, secretariat: bool) -> Brief:
    query = select(*_SUMMARY).where(briefs.c.id == brief_id)
    if not secretariat:
        query = query.where(briefs.c.published_at.is_not(None))
    row = (await connection.execute(query)).one_or_none()
    if row is None:
        raise NotFound(f"No brief {brief_id}" + ("" if secretariat else " published"))
    return _brief(row)


async def listing(connection: AsyncConnection, *, secretariat: bool) -> list[Brief]:
    query = select(*_SUMMARY).order_by(briefs.c.created_at.desc())
    if not secretariat:
        query = query.where(briefs.c.published_at.is_not(None))
    return [_brief(row) for row in await connection.execute(query)]


async def content(
    connection: AsyncConnection, brief_id: uuid.UUID, variant: Variant, *, secretariat: bool
) -> bytes:
    brief = await get(connection, brief_id, secretariat=secretariat)
    if brief.status != "done":
        raise Conflict(f"The brief is {brief.status}; its documents exist once it is done")
    column = {
        "html": briefs.c.html,
        "pdf": briefs.c.pdf,
        "json": briefs.c.data_json,
        "zip": briefs.c.data_zip,
    }
    value = (
        await connection.execute(select(column[variant]).where(briefs.c.id == brief_id))
    ).scalar_one()
    return bytes(value)


async def publish(connection: AsyncConnection, actor: Actor, brief_id: uuid.UUID) -> Brief:
    brief = await get(connection, brief_id, secretariat=True)
    if brief.status != "done":
        raise Conflict(f"Only a finished brief can be published; this one is {brief.status}")
    if brief.published_at is None:
        await connection.execute(
            update(briefs).where(briefs.c.id == brief_id).values(published_at=datetime.now(UTC))
        )
        await append(
            connection,
            actor,
            [
                EventDraft(
                    "brief.published", "brief", str(brief_id), None, {"data_hash": brief.data_hash}
                )
            ],
        )
    return await get(connection, brief_id, secretariat=True)


async def fail_interrupted(database: Database) -> None:
    """Briefs left queued or running by a process that stopped will not finish: say so."""
    async with database.transaction() as connection:
        await connection.execute(
            update(briefs)
            .where(
                briefs.c.status.in_(("queued", "running")),
                briefs.c.created_at < datetime.now(UTC) - STALE_AFTER,
            )
            .values(
                status="failed",
                error="interrupted: the service stopped before it finished",
                finished_at=datetime.now(UTC),
            )
        )
