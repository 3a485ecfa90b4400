"""Idempotency-Key on POST: a retry with the same key and body gets the original answer and
creates nothing; the same key with another body is refused (422)."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import msgspec
from litestar import Request, Response
from litestar.params import HeaderParameter
from sqlalchemy import (
    Column,
    DateTime,
    LargeBinary,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Uuid,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.db import metadata
from incidents.errors import Conflict, FieldError, ValidationFailed
from incidents.members.schemas import Principal

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("organization_id", Uuid, nullable=False),
    Column("key", String(255), nullable=False),
    Column("request_hash", LargeBinary(32), nullable=False),
    Column("status", SmallInteger),
    Column("response", LargeBinary),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("organization_id", "key"),
)


HEADER = "Idempotency-Key"
KEEP_FOR = timedelta(hours=24)
MAX_KEY_LENGTH = 255


def fingerprint_prefix(method: str, path: str) -> bytes:
    return method.encode() + b" " + path.encode() + b"\n"


def request_hash(method: str, path: str, body: bytes) -> bytes:
    return hashlib.sha256(fingerprint_prefix(method, path) + body).digest()


class Replay(msgspec.Struct):
    status: int
    body: bytes


async def claim(
    connection: AsyncConnection, principal: Principal, key: str, fingerprint: bytes
) -> Replay | None:
    """Take the key for this request, or return the answer a previous request stored under it.

    A concurrent request with the same key waits on the primary key until the first commits
    (then replays its answer) or rolls back (then proceeds as if it were first).
    """
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailed(
            "Invalid Idempotency-Key",
            errors=[FieldError(HEADER, f"1 to {MAX_KEY_LENGTH} printable characters")],
        )
    claimed = await connection.execute(
        insert(idempotency_keys)
        .values(organization_id=principal.organization_id, key=key, request_hash=fingerprint)
        .on_conflict_do_nothing()
        .returning(idempotency_keys.c.key)
    )
    if claimed.first() is not None:
        return None
    where = (
        idempotency_keys.c.organization_id == principal.organization_id,
        idempotency_keys.c.key == key,
    )
    existing = (
        await connection.execute(select(idempotency_keys).where(*where).with_for_update())
    ).one()
    if existing.created_at < datetime.now(UTC) - KEEP_FOR:
        await connection.execute(
            update(idempotency_keys)
            .where(*where)
            .values(
                request_hash=fingerprint, status=None, response=None, created_at=datetime.now(UTC)
            )
        )
        return None
    if existing.request_hash != fingerprint:
        raise ValidationFailed(
            "This Idempotency-Key was used for a different request",
            errors=[
                FieldError(HEADER, "Already used with another body or endpoint; use a new key")
            ],
        )
    if existing.status is None:
        raise Conflict("A request with this Idempotency-Key is still being processed")
    return Replay(status=existing.status, body=existing.response)


async def remember(
    connection: AsyncConnection, principal: Principal, key: str, status: int, body: bytes
) -> None:
    await connection.execute(
        update(idempotency_keys)
        .where(
            idempotency_keys.c.organization_id == principal.organization_id,
            idempotency_keys.c.key == key,
        )
        .values(status=status, response=body)
    )


async def run_once(
    connection: AsyncConnection,
    principal: Principal,
    key: str | None,
    fingerprint: Callable[[], Awaitable[bytes]],
    work: Callable[[], Awaitable[Any]],
    *,
    status: int,
    headers: Callable[[Any], dict[str, str]] | None = None,
) -> Response[bytes]:
    """Run ``work`` once per Idempotency-Key; without a key, simply run it."""
    if key is not None:
        replay = await claim(connection, principal, key, await fingerprint())
        if replay is not None:
            return Response(
                content=replay.body,
                status_code=replay.status,
                media_type="application/json",
                headers={"Idempotent-Replayed": "true"},
            )
    result = await work()
    body = msgspec.json.encode(result)
    if key is not None:
        await remember(connection, principal, key, status, body)
    return Response(
        content=body,
        status_code=status,
        media_type="application/json",
        headers=headers(result) if headers else {},
    )


IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        max_length=255,
        description="Retrying with the same key and body returns the first answer",
    ),
]


async def once(
    request: Request[Any, Any, Any],
    db: AsyncConnection,
    principal: Principal,
    key: str | None,
    work: Callable[[], Awaitable[Any]],
    *,
    status: int = 200,
    headers: Callable[[Any], dict[str, str]] | None = None,
) -> Response[bytes]:
    """Run ``work`` once per Idempotency-Key (the POST handlers' one line of plumbing)."""

    async def fingerprint() -> bytes:
        return request_hash(request.method, request.url.path, await request.body())

    return await run_once(db, principal, key, fingerprint, work, status=status, headers=headers)
