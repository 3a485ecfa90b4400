"""The editorial workflow of a made brief: edit, approve, publish (superseding the series'
previous version), retract, delete; each step a transition checked against one table and
written to the audit log."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import delete, func, literal, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.audit.service import Actor, EventDraft, append
from incidents.briefs.documents import store_documents
from incidents.briefs.models import briefs
from incidents.briefs.reading import PUBLIC_STATUSES, get, row_of
from incidents.briefs.schemas import Brief, BriefEdit, BriefStatus, Retraction
from incidents.errors import Conflict, FieldError, ValidationFailed

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


async def _step(
    connection: AsyncConnection,
    actor: Actor,
    brief_id: uuid.UUID,
    action: str,
    values: dict[str, Any],
    payload: dict[str, Any] | None = None,
) -> Any:
    row = await row_of(connection, brief_id, secretariat=True)
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
    await store_documents(connection, brief_id)
    return await get(connection, brief_id, secretariat=True)


async def approve(connection: AsyncConnection, actor: Actor, brief_id: uuid.UUID) -> Brief:
    row = await row_of(connection, brief_id, secretariat=True)
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
    """Briefs of the same period, scope, kind and language are versions of one another (a brief
    in French is a translation beside the English one, not its replacement)."""
    language = row.parameters.get("language", "en")
    return (
        (briefs.c.period == row.period)
        & (briefs.c.parameters["scope"] == literal(row.parameters.get("scope", {}), JSONB))
        & (briefs.c.provisional == row.provisional)
        & (func.coalesce(briefs.c.parameters["language"].astext, "en") == language)
    )


async def publish(connection: AsyncConnection, actor: Actor, brief_id: uuid.UUID) -> Brief:
    """Publish an approved brief as the next version of its series; the version it replaces is
    marked superseded and points to it."""
    row = await row_of(connection, brief_id, secretariat=True)
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
        await store_documents(connection, old)
    await store_documents(connection, brief_id)
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
    await store_documents(connection, brief_id)
    return await get(connection, brief_id, secretariat=True)


async def remove(connection: AsyncConnection, actor: Actor, brief_id: uuid.UUID) -> None:
    row = await row_of(connection, brief_id, secretariat=True)
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


def check_edit(change: BriefEdit) -> None:
    """Nothing to change is a 422 naming the fields a brief edit takes."""
    if all(getattr(change, name) is msgspec.UNSET for name in BriefEdit.__struct_fields__):
        raise ValidationFailed(
            "Nothing to change",
            errors=[FieldError("body", "Give one of: " + ", ".join(BriefEdit.__struct_fields__))],
        )
