"""Web sessions: an API key exchanged at sign-in for a random token kept in an HttpOnly cookie.

The browser never keeps the key. The database keeps only the token's SHA-256, the key it acts
for, and when it ends: ``expires_at`` (absolute) and ``last_seen_at`` (idle). Every request
reads the session together with its key and organization, so a revoked key, an inactive
organization or an expired session ends it at the next request, on every worker.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta

import msgspec
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.members.models import api_keys, organizations
from incidents.members.schemas import Principal
from incidents.web.models import web_sessions

# How stale last_seen_at may get before a request writes it again: one write a minute per
# session rather than one per request (the idle timeout is exact to within this).
_TOUCH_INTERVAL = timedelta(minutes=1)
_TOKEN_PATTERN_LENGTH = 43  # secrets.token_urlsafe(32)


class Lifetimes(msgspec.Struct, frozen=True):
    absolute: timedelta
    idle: timedelta


class Session(msgspec.Struct, frozen=True):
    id: uuid.UUID
    principal: Principal
    expires_at: datetime


def hash_token(token: str) -> bytes:
    # 256 random bits: a fast hash is enough, there is nothing to brute-force.
    return hashlib.sha256(token.encode()).digest()


async def open_session(
    connection: AsyncConnection, principal: Principal, lifetimes: Lifetimes
) -> str:
    """Store a new session for the key ``principal`` signed in with; return its token."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    await connection.execute(
        web_sessions.insert().values(
            token_hash=hash_token(token),
            key_id=principal.key_id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetimes.absolute,
        )
    )
    # Sessions that ended long ago are swept by whoever signs in next: no job needed.
    await connection.execute(
        delete(web_sessions).where(web_sessions.c.expires_at < now - timedelta(days=1))
    )
    return token


async def resume_session(
    connection: AsyncConnection, token: str, lifetimes: Lifetimes
) -> Session | None:
    """The live session a cookie's token opens, or None (unknown, expired, idle too long, its
    key revoked or its organization inactive: each ends the session for good)."""
    if len(token) != _TOKEN_PATTERN_LENGTH:
        return None
    now = datetime.now(UTC)
    row = (
        await connection.execute(
            select(
                web_sessions.c.id,
                web_sessions.c.expires_at,
                web_sessions.c.last_seen_at,
                api_keys.c.id.label("key_id"),
                api_keys.c.prefix,
                api_keys.c.revoked_at,
                organizations.c.id.label("organization_id"),
                organizations.c.name,
                organizations.c.kind,
                organizations.c.jurisdiction,
                organizations.c.active,
            )
            .join(api_keys, api_keys.c.id == web_sessions.c.key_id)
            .join(organizations, organizations.c.id == api_keys.c.organization_id)
            .where(web_sessions.c.token_hash == hash_token(token))
        )
    ).one_or_none()
    if row is None:
        return None
    ended = (
        row.expires_at <= now
        or row.last_seen_at + lifetimes.idle <= now
        or row.revoked_at is not None
        or not row.active
    )
    if ended:
        await connection.execute(delete(web_sessions).where(web_sessions.c.id == row.id))
        return None
    if now - row.last_seen_at > _TOUCH_INTERVAL:
        await connection.execute(
            update(web_sessions).where(web_sessions.c.id == row.id).values(last_seen_at=now)
        )
    principal = Principal(
        organization_id=row.organization_id,
        organization_name=row.name,
        kind=row.kind,
        jurisdiction=row.jurisdiction,
        key_id=row.key_id,
        key_prefix=row.prefix,
    )
    return Session(id=row.id, principal=principal, expires_at=row.expires_at)


async def end_session(connection: AsyncConnection, token: str) -> None:
    await connection.execute(
        delete(web_sessions).where(web_sessions.c.token_hash == hash_token(token))
    )
