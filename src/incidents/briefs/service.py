"""Making briefs and taking them through the editorial workflow: queued -> running -> draft (or
failed) -> approved -> published -> superseded or retracted. From the CLI in the foreground,
over the API in the background with a status to poll. Every step is an audit event."""

from __future__ import annotations

import hashlib
import io
import logging
import uuid
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import msgspec
from sqlalchemy import delete, func, literal, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.audit.service import Actor, EventDraft, append
from incidents.briefs.models import briefs
from incidents.briefs.schemas import (
    AuditSummary,
    Brief,
    BriefEdit,
    BriefRequest,
    BriefStatus,
    Retraction,
)
from incidents.db import Database
from incidents.errors import Conflict, Gone, NotFound, ValidationFailed
from incidents.ids import new_id
from incidents.taxonomy.service import TaxonomyRegistry
from incidents.trends.protection import Method

logger = logging.getLogger("incidents.briefs")
STALE_AFTER = timedelta(minutes=30)

Variant = Literal["html", "pdf", "json", "zip"]
VARIANTS: tuple[Variant, ...] = ("html", "pdf", "json", "zip")
# Each document's address under its brief, and its media type.
FILES = {"html": "brief.html", "pdf": "brief.pdf", "json": "data.json", "zip": "data.zip"}
MEDIA = {
    "html": "text/html",
    "pdf": "application/pdf",
    "json": "application/json",
    "zip": "application/zip",
}
_COLUMN = {
    "html": briefs.c.html,
    "pdf": briefs.c.pdf,
    "json": briefs.c.data_json,
    "zip": briefs.c.data_zip,
}
# Who may see a brief: the public sees what was published, and keeps seeing it (with its
# notice) once superseded or retracted.
PUBLIC_STATUSES = ("published", "superseded", "retracted")
WITH_DOCUMENTS = ("draft", "approved", *PUBLIC_STATUSES)
# action -> (statuses it applies to, the status it leads to)
TRANSITIONS: dict[str, tuple[tuple[BriefStatus, ...], BriefStatus]] = {
    "edit": (("draft", "approved"), "draft"),
    "approve": (("draft",), "approved"),
    "publish": (("approved",), "published"),
    "supersede": (("published",), "superseded"),
    "retract": (("published", "superseded"), "retracted"),
}
_DONE = {
    "edit": "edited",
    "approve": "approved",
    "publish": "published",
    "supersede": "superseded",
    "retract": "retracted",
}
DELETABLE: tuple[BriefStatus, ...] = ("failed", "draft")


def _brief(row: Any, *, secretariat: bool) -> Brief:
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


_SUMMARY = [column for column in briefs.c if column.name not in {c.name for c in _COLUMN.values()}]


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
            .returning(*_SUMMARY)
        )
    ).one()
    await append(
        connection,
        actor,
        [EventDraft("brief.requested", "brief", str(brief_id), None, msgspec.to_builtins(request))],
    )
    return _brief(row, secretariat=True)


def data_files(data: Any) -> tuple[bytes, bytes]:
    """(JSON, zip of one CSV and one Parquet per table): identical bytes for identical data.
    Status columns say which counts are in the band or withheld (never a bare blank)."""
    import polars as pl

    document = msgspec.json.encode(data, order="sorted")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, rows in sorted(data.tables.items()):
            frame = pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame()
            for extension in ("csv", "parquet"):
                content = io.BytesIO()
                if extension == "csv":
                    frame.with_columns(
                        [
                            pl.col(c).cast(pl.List(pl.String)).list.join(";")
                            for c, t in frame.schema.items()
                            if isinstance(t, pl.List)
                        ]
                    ).write_csv(content)
                else:
                    frame.write_parquet(content, compression="zstd", statistics=False)
                entry = zipfile.ZipInfo(f"{name}.{extension}", date_time=(1980, 1, 1, 0, 0, 0))
                entry.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(entry, content.getvalue())
    return document, buffer.getvalue()


def _documents(row: Any, data_json: bytes) -> dict[str, bytes]:
    """HTML and PDF from the stored figures and the brief's editorial state."""
    from incidents.briefs.render import Editorial, chart_set, html, pdf, view
    from incidents.briefs.schemas import BriefData

    data = msgspec.json.decode(data_json, type=BriefData)
    superseded = f"/api/v1/briefs/{row.superseded_by}/brief.html" if row.superseded_by else None
    editorial = Editorial(
        status=row.status,
        executive_summary=row.executive_summary,
        issuing_body=row.issuing_body,
        issued_on=row.issued_on,
        version=row.version,
        superseded_by=superseded,
        retraction_notice=row.retraction_notice,
        retracted_on=row.retracted_at.date() if row.retracted_at else None,
    )
    page = view(data, editorial, row.data_hash)
    charts_svg = chart_set(data)
    return {"html": html(page, charts_svg).encode(), "pdf": pdf(page, charts_svg)}


async def _render(connection: AsyncConnection, brief_id: uuid.UUID) -> None:
    row = (await connection.execute(select(briefs).where(briefs.c.id == brief_id))).one()
    if row.data_json is None:
        return
    documents = _documents(row, bytes(row.data_json))
    await connection.execute(update(briefs).where(briefs.c.id == brief_id).values(**documents))


async def run(
    database: Database,
    taxonomy: TaxonomyRegistry,
    brief_id: uuid.UUID,
    method: Method,
    progress: Callable[[str], None] | None = None,
) -> None:
    """Compute a queued brief and store it as a draft (or its failure)."""
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
        data = await compute(database.url, taxonomy, request, method, progress)
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
            await _render(connection, brief_id)
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


async def _row(connection: AsyncConnection, brief_id: uuid.UUID, *, secretariat: bool) -> Any:
    query = select(*_SUMMARY).where(briefs.c.id == brief_id)
    if not secretariat:
        query = query.where(briefs.c.status.in_(PUBLIC_STATUSES))
    row = (await connection.execute(query)).one_or_none()
    if row is None:
        raise NotFound(f"No brief {brief_id}")
    return row


async def get(connection: AsyncConnection, brief_id: uuid.UUID, *, secretariat: bool) -> Brief:
    return _brief(
        await _row(connection, brief_id, secretariat=secretariat), secretariat=secretariat
    )


async def listing(connection: AsyncConnection, *, secretariat: bool) -> list[Brief]:
    query = select(*_SUMMARY).order_by(briefs.c.created_at.desc())
    if not secretariat:
        query = query.where(briefs.c.status.in_(PUBLIC_STATUSES))
    return [_brief(row, secretariat=secretariat) for row in await connection.execute(query)]


async def content(
    connection: AsyncConnection, brief_id: uuid.UUID, variant: Variant, *, secretariat: bool
) -> bytes:
    row = await _row(connection, brief_id, secretariat=secretariat)
    if row.status not in WITH_DOCUMENTS:
        raise Conflict(f"The brief is {row.status}; its documents exist once it is made")
    if row.status == "retracted" and variant != "html":
        raise Gone(
            f"The brief was retracted: {row.retraction_notice} "
            f"(the notice stays at /api/v1/briefs/{brief_id}/brief.html)"
        )
    value = (
        await connection.execute(select(_COLUMN[variant]).where(briefs.c.id == brief_id))
    ).scalar_one()
    return bytes(value)


async def _step(
    connection: AsyncConnection,
    actor: Actor,
    brief_id: uuid.UUID,
    action: str,
    values: dict[str, Any],
    payload: dict[str, Any] | None = None,
) -> Any:
    row = await _row(connection, brief_id, secretariat=True)
    allowed, target = TRANSITIONS[action]
    if row.status not in allowed:
        raise Conflict(
            f"A brief can be {_DONE[action]} only when "
            f"{' or '.join(allowed)}; this one is {row.status}"
        )
    await connection.execute(
        update(briefs).where(briefs.c.id == brief_id).values(status=target, **values)
    )
    await append(
        connection,
        actor,
        [
            EventDraft(
                f"brief.{action}",
                "brief",
                str(brief_id),
                {"status": row.status},
                {"status": target, **(payload or {})},
            )
        ],
    )
    return row


async def edit(
    connection: AsyncConnection, actor: Actor, brief_id: uuid.UUID, change: BriefEdit
) -> Brief:
    values = {
        name: getattr(change, name)
        for name in BriefEdit.__struct_fields__
        if getattr(change, name) is not msgspec.UNSET
    }
    await _step(
        connection,
        actor,
        brief_id,
        "edit",
        {**values, "approved_at": None},
        {name: str(value) if value is not None else None for name, value in values.items()},
    )
    await _render(connection, brief_id)
    return await get(connection, brief_id, secretariat=True)


async def approve(connection: AsyncConnection, actor: Actor, brief_id: uuid.UUID) -> Brief:
    row = await _row(connection, brief_id, secretariat=True)
    problems = []
    if not (row.audit or {}).get("passed"):
        problems.append("its disclosure audit did not pass: it cannot be published")
    if not row.issuing_body:
        problems.append("it names no issuing body")
    if not row.issued_on:
        problems.append("it has no date of issue")
    if problems:
        raise Conflict("The brief cannot be approved: " + "; ".join(problems))
    await _step(connection, actor, brief_id, "approve", {"approved_at": datetime.now(UTC)})
    return await get(connection, brief_id, secretariat=True)


def _series(row: Any) -> Any:
    """Briefs of the same period, scope and kind are versions of one another."""
    return (
        (briefs.c.period == row.period)
        & (briefs.c.parameters["scope"] == literal(row.parameters.get("scope", {}), JSONB))
        & (briefs.c.provisional == row.provisional)
    )


async def publish(connection: AsyncConnection, actor: Actor, brief_id: uuid.UUID) -> Brief:
    """Publish an approved brief as the next version of its series; the version it replaces is
    marked superseded and points to it."""
    row = await _row(connection, brief_id, secretariat=True)
    if row.status != "approved":
        await _step(connection, actor, brief_id, "publish", {})  # raises the conflict
    series = _series(row)
    last = (
        await connection.execute(
            select(func.max(briefs.c.version)).where(series, briefs.c.status.in_(PUBLIC_STATUSES))
        )
    ).scalar_one()
    version = (last or 0) + 1
    replaced = (
        (
            await connection.execute(
                select(briefs.c.id).where(series, briefs.c.status == "published")
            )
        )
        .scalars()
        .all()
    )
    await _step(
        connection,
        actor,
        brief_id,
        "publish",
        {"published_at": datetime.now(UTC), "version": version},
        {"version": version, "data_hash": row.data_hash},
    )
    for old in replaced:
        await _step(
            connection, actor, old, "supersede", {"superseded_by": brief_id}, {"by": str(brief_id)}
        )
        await _render(connection, old)
    await _render(connection, brief_id)
    return await get(connection, brief_id, secretariat=True)


async def retract(
    connection: AsyncConnection, actor: Actor, brief_id: uuid.UUID, retraction: Retraction
) -> Brief:
    await _step(
        connection,
        actor,
        brief_id,
        "retract",
        {"retracted_at": datetime.now(UTC), "retraction_notice": retraction.notice},
        {"notice": retraction.notice},
    )
    await _render(connection, brief_id)
    return await get(connection, brief_id, secretariat=True)


async def remove(connection: AsyncConnection, actor: Actor, brief_id: uuid.UUID) -> None:
    row = await _row(connection, brief_id, secretariat=True)
    if row.status not in DELETABLE:
        raise Conflict(
            f"Only {' or '.join(DELETABLE)} briefs can be deleted; this one is {row.status} "
            "(retract a published brief instead)"
        )
    await connection.execute(delete(briefs).where(briefs.c.id == brief_id))
    await append(
        connection,
        actor,
        [EventDraft("brief.deleted", "brief", str(brief_id), {"status": row.status}, None)],
    )


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


def check_edit(change: BriefEdit) -> None:
    """Nothing to change is a 422 naming the fields a brief edit takes."""
    if all(getattr(change, name) is msgspec.UNSET for name in BriefEdit.__struct_fields__):
        from incidents.errors import FieldError

        raise ValidationFailed(
            "Nothing to change",
            errors=[FieldError("body", "Give one of: " + ", ".join(BriefEdit.__struct_fields__))],
        )
