"""Idempotency-Key on POST: a retry with the same key and body gets the original answer and
creates nothing; the same key with another body is refused (422)."""

from __future__ import annotations

import functools
import hashlib
import inspect
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar, cast

import msgspec
from litestar import Request, Response
from litestar.di import NamedDependency
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


def _replayed(replay: Replay) -> Response[bytes]:
    return Response(
        content=replay.body,
        status_code=replay.status,
        media_type="application/json",
        headers={"Idempotent-Replayed": "true"},
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
    """Run ``work`` once per Idempotency-Key; without a key, simply run it. For the one handler
    that can only know its request's fingerprint after reading the body itself (the batch,
    streamed); every other POST takes the `idempotent` layer."""
    if key is not None:
        replay = await claim(connection, principal, key, await fingerprint())
        if replay is not None:
            return _replayed(replay)
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


H = TypeVar("H", bound=Callable[..., Awaitable[Any]])

# What the layer takes from each request, whether or not the handler itself names it.
_LAYER_PARAMETERS: dict[str, Any] = {
    "request": Request[Any, Any, Any],
    "db": NamedDependency[AsyncConnection],
    "principal": NamedDependency[Principal],
    "idempotency_key": IdempotencyKey,
}


def idempotent(handler: H) -> H:
    """The Idempotency-Key layer around a POST handler that answers a Struct (or a
    ``Response[Struct]`` for its headers): with a key, the first answer is stored in the
    request's transaction and a retry gets it back (``Idempotent-Replayed: true``) without the
    handler running again; without one, the handler simply runs.

    The handler declares only what it uses: the layer adds the request, the connection, the
    principal and the ``Idempotency-Key`` header to the signature Litestar reads (the header is
    documented in OpenAPI once, here), and the handler's own return type types the answer."""
    own = inspect.signature(handler)
    missing = [name for name in _LAYER_PARAMETERS if name not in own.parameters]

    @functools.wraps(handler)
    async def layer(*args: Any, **kwargs: Any) -> Any:
        taken = {name: kwargs.pop(name) for name in missing}
        values = {**kwargs, **taken}
        request: Request[Any, Any, Any] = values["request"]
        db: AsyncConnection = values["db"]
        principal: Principal = values["principal"]
        key: str | None = values["idempotency_key"]
        if key is None:
            return await handler(*args, **kwargs)
        fingerprint = request_hash(request.method, request.url.path, await request.body())
        replay = await claim(db, principal, key, fingerprint)
        if replay is not None:
            return _replayed(replay)
        answer = await handler(*args, **kwargs)
        status = request.route_handler.status_code
        headers: dict[str, str] = {}
        if isinstance(answer, Response):
            status = answer.status_code or status
            headers = dict(answer.headers)
            answer = answer.content
        body = msgspec.json.encode(answer)
        await remember(db, principal, key, status, body)
        return Response(
            content=body, status_code=status, media_type="application/json", headers=headers
        )

    extra = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=_LAYER_PARAMETERS[name],
            default=None if name == "idempotency_key" else inspect.Parameter.empty,
        )
        for name in missing
    ]
    layer.__signature__ = own.replace(  # type: ignore[attr-defined]
        parameters=[*own.parameters.values(), *extra]
    )
    layer.__annotations__ = {
        **handler.__annotations__,
        **{name: _LAYER_PARAMETERS[name] for name in missing},
    }
    return cast("H", layer)
