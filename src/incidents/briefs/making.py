"""Making a brief: queue the request, compute it in the background, store the data and its
documents as a draft (or the failure), and fail what a stopped process left running."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import msgspec
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.audit.service import Actor, EventDraft, append
from incidents.briefs.documents import data_files, store_documents
from incidents.briefs.models import briefs
from incidents.briefs.reading import SUMMARY, as_brief
from incidents.briefs.schemas import Brief, BriefRequest
from incidents.config import Settings
from incidents.db import Database
from incidents.ids import new_id
from incidents.taxonomy.service import TaxonomyRegistry
from incidents.trends.protection import Method

if TYPE_CHECKING:
    from incidents.trends.columnar import Copy

logger = logging.getLogger("incidents.briefs")
STALE_AFTER = timedelta(minutes=30)


async def queue(connection: AsyncConnection, actor: Actor, request: BriefRequest) -> Brief:
    brief_id = new_id()
    row = (
        await connection.execute(
            briefs.insert()
            .values(
                id=brief_id,
                period=request.period,
                parameters=msgspec.to_builtins(request),
                provisional=request.provisional,
                status="queued",
                created_by=actor.label,
            )
            .returning(*SUMMARY)
        )
    ).one()
    await append(
        connection,
        actor,
        [EventDraft("brief.requested", "brief", str(brief_id), None, msgspec.to_builtins(request))],
    )
    return as_brief(row, secretariat=True)


async def run(
    database: Database,
    taxonomy: TaxonomyRegistry,
    brief_id: uuid.UUID,
    method: Method,
    progress: Callable[[str], None] | None = None,
    copy: Copy | None = None,
) -> None:
    """Compute a queued brief and store it as a draft (or its failure); its reports are read
    from the trends' columnar ``copy`` when one is given."""
    async with database.transaction() as connection:
        row = (await connection.execute(select(briefs).where(briefs.c.id == brief_id))).one()
        await connection.execute(
            update(briefs)
            .where(briefs.c.id == brief_id)
            .values(status="running", started_at=datetime.now(UTC))
        )
    request = msgspec.convert(row.parameters, BriefRequest)
    # Polars, Arrow, SciPy and Typst load only when a brief is made: a worker that never makes
    # one stays small.
    from incidents.briefs.compute import compute

    try:
        data = await compute(database.url, taxonomy, request, method, progress, copy)
        document, archive = data_files(data)
        data_hash = hashlib.sha256(document).hexdigest()
        if progress:
            progress("rendering HTML and PDF")
        async with database.transaction() as connection:
            await connection.execute(
                update(briefs)
                .where(briefs.c.id == brief_id)
                .values(
                    status="draft",
                    finished_at=datetime.now(UTC),
                    taxonomy_version=data.taxonomy_version,
                    input_hash=data.input_hash,
                    data_hash=data_hash,
                    audit=msgspec.to_builtins(data.audit),
                    data_json=document,
                    data_zip=archive,
                )
            )
            await store_documents(connection, brief_id)
            await append(
                connection,
                Actor(label="system:briefs"),
                [
                    EventDraft(
                        "brief.generated",
                        "brief",
                        str(brief_id),
                        None,
                        {
                            "input_hash": data.input_hash,
                            "data_hash": data_hash,
                            "audit_passed": data.audit.passed,
                        },
                    )
                ],
            )
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


async def run_in_background(
    settings: Settings,
    database: Database,
    taxonomy: TaxonomyRegistry,
    brief_id: uuid.UUID,
    method: Method,
) -> None:
    """``run`` once a request has been answered, with the settings' trends copy: a failure is
    recorded on the brief and logged by ``run``."""
    from incidents.trends.columnar import copy_for

    try:
        await run(database, taxonomy, brief_id, method, copy=copy_for(settings, database))
    except Exception:
        return


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
