"""Reading briefs: who sees which (the public sees what was published, and keeps seeing it with
its notice once superseded or retracted; the secretariat sees every brief) and their documents."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.briefs.documents import COLUMN, FILES, Variant
from incidents.briefs.models import briefs
from incidents.briefs.schemas import AuditSummary, Brief
from incidents.errors import Conflict, Gone, NotFound

PUBLIC_STATUSES = ("published", "superseded", "retracted")
WITH_DOCUMENTS = ("draft", "approved", *PUBLIC_STATUSES)


def as_brief(row: Any, *, secretariat: bool) -> Brief:
    base = f"/api/v1/briefs/{row.id}"
    links = {"self": base}
    if row.status in WITH_DOCUMENTS:
        links.update({variant: f"{base}/{name}" for variant, name in FILES.items()})
    if row.superseded_by:
        links["superseded_by"] = f"/api/v1/briefs/{row.superseded_by}"
    return Brief(
        id=row.id,
        period=row.period,
        scope=row.parameters.get("scope", {}),
        provisional=row.provisional,
        status=row.status,
        error=row.error if secretariat else None,
        created_at=row.created_at,
        finished_at=row.finished_at,
        created_by=row.created_by if secretariat else msgspec.UNSET,
        taxonomy_version=row.taxonomy_version,
        input_hash=row.input_hash,
        data_hash=row.data_hash,
        audit=msgspec.convert(row.audit, AuditSummary) if row.audit else None,
        executive_summary=row.executive_summary,
        issuing_body=row.issuing_body,
        issued_on=row.issued_on,
        version=row.version,
        approved_at=row.approved_at,
        published_at=row.published_at,
        superseded_by=row.superseded_by,
        retracted_at=row.retracted_at,
        retraction_notice=row.retraction_notice,
        links=links,
    )


# Every column but the documents: what a brief's summary is read from.
SUMMARY = [column for column in briefs.c if column.name not in {c.name for c in COLUMN.values()}]


async def row_of(connection: AsyncConnection, brief_id: uuid.UUID, *, secretariat: bool) -> Any:
    query = select(*SUMMARY).where(briefs.c.id == brief_id)
    if not secretariat:
        query = query.where(briefs.c.status.in_(PUBLIC_STATUSES))
    row = (await connection.execute(query)).one_or_none()
    if row is None:
        raise NotFound(f"No brief {brief_id}")
    return row


async def get(connection: AsyncConnection, brief_id: uuid.UUID, *, secretariat: bool) -> Brief:
    return as_brief(
        await row_of(connection, brief_id, secretariat=secretariat), secretariat=secretariat
    )


async def listing(connection: AsyncConnection, *, secretariat: bool) -> list[Brief]:
    query = select(*SUMMARY).order_by(briefs.c.created_at.desc())
    if not secretariat:
        query = query.where(briefs.c.status.in_(PUBLIC_STATUSES))
    return [as_brief(row, secretariat=secretariat) for row in await connection.execute(query)]


async def content(
    connection: AsyncConnection, brief_id: uuid.UUID, variant: Variant, *, secretariat: bool
) -> bytes:
    row = await row_of(connection, brief_id, secretariat=secretariat)
    if row.status not in WITH_DOCUMENTS:
        raise Conflict(f"The brief is {row.status}; its documents exist once it is made")
    if row.status == "retracted" and variant != "html":
        raise Gone(
            f"The brief was retracted: {row.retraction_notice} "
            f"(the notice stays at /api/v1/briefs/{brief_id}/brief.html)"
        )
    value = (
        await connection.execute(select(COLUMN[variant]).where(briefs.c.id == brief_id))
    ).scalar_one()
    return bytes(value)
