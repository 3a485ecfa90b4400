"""API keys as bearer credentials: how a key looks and is stored, and key -> Principal."""

from __future__ import annotations

import hashlib
import re
import secrets
import string
import time
import uuid
from datetime import UTC, datetime, timedelta

import msgspec
from sqlalchemy import select, update

from incidents.db import Database, Seen, cache_generations, seen
from incidents.errors import Unauthorized
from incidents.members import schemas
from incidents.members.models import api_keys, organizations

KEY_SCHEME = "inc"
_PREFIX_ALPHABET = string.ascii_letters + string.digits
_KEY_PATTERN = re.compile(r"^inc_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{43}$")
_TOUCH_INTERVAL = timedelta(minutes=1)
_MAX_CACHED = 10_000


class NewKey(msgspec.Struct, frozen=True):
    prefix: str
    """The visible part, ``inc_<8 characters>``, to recognise the key by."""
    key: str
    """The whole key, ``<prefix>_<43 characters of secret>``: shown once, never stored."""


def hash_key(key: str) -> bytes:
    # Keys carry 256 random bits, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(key.encode()).digest()


def new_key() -> NewKey:
    prefix = f"{KEY_SCHEME}_" + "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(8))
    return NewKey(prefix=prefix, key=f"{prefix}_{secrets.token_urlsafe(32)}")


class _Cached(msgspec.Struct, frozen=True):
    until: float
    generation: int
    """The database's key generation the principal was read at (`cache_generations`)."""
    principal: schemas.Principal


class Authenticator:
    """Bearer key -> Principal, with a short cache so that a busy key costs one tiny query.

    A revocation committed through this process calls `forget` after its commit and is
    effective here at once. One committed through any other worker or host moves the database's
    key generation (a trigger on api_keys and organizations); a cached key is used only while
    the generation is still the one it was read at, checked on every request, so such a change
    holds here from the next request on.
    """

    def __init__(self, database: Database, cache_seconds: float) -> None:
        self._database = database
        self._cache_seconds = cache_seconds
        self._cache: dict[bytes, _Cached] = {}
        # Moves at every `forget`: a look-up that began before one may have read the key as it
        # was before the commit that called it, and must not be cached.
        self._generation = 0

    async def authenticate(self, authorization: str) -> schemas.Principal:
        principal, _ = await self.check(authorization)
        return principal

    async def check(self, authorization: str) -> tuple[schemas.Principal, Seen | None]:
        """The key's principal, and, when it came from the cache, what the check read (the
        newest taxonomy version with the key generation, in one round trip, so the request's
        taxonomy needs no second one)."""
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("Use the header `Authorization: Bearer <api key>`")
        if not _KEY_PATTERN.match(token):
            raise Unauthorized("The API key is malformed")
        digest = hash_key(token)
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is not None and cached.until > now:
            shared = await seen(self._database)
            if shared.keys == cached.generation:
                return cached.principal, shared
            # Some key or organization changed somewhere: whatever was read before may be stale.
            self._cache.clear()
        generation = self._generation
        principal, generation_read = await self._lookup(digest)
        if self._cache_seconds > 0 and generation == self._generation:
            if len(self._cache) >= _MAX_CACHED:
                self._cache.clear()
            self._cache[digest] = _Cached(now + self._cache_seconds, generation_read, principal)
        return principal, None

    def forget(self, key_id: uuid.UUID | None = None) -> None:
        """Drop cached keys (one, or all): call it once the change that ends them has committed
        (`incidents.transactions.after_commit`), never before."""
        self._generation += 1
        if key_id is None:
            self._cache.clear()
            return
        for digest, cached in list(self._cache.items()):
            if cached.principal.key_id == key_id:
                del self._cache[digest]

    async def _lookup(self, digest: bytes) -> tuple[schemas.Principal, int]:
        """The key's principal, and the key generation in the same snapshot: a change committed
        after this read moves the generation past the one returned."""
        keys = api_keys
        generation = (
            select(cache_generations.c.generation)
            .where(cache_generations.c.name == "keys")
            .scalar_subquery()
        )
        query = (
            select(
                keys.c.id,
                keys.c.prefix,
                keys.c.revoked_at,
                keys.c.last_used_at,
                organizations.c.id.label("organization_id"),
                organizations.c.name,
                organizations.c.kind,
                organizations.c.jurisdiction,
                organizations.c.active,
                generation.label("generation"),
            )
            .join(organizations, organizations.c.id == keys.c.organization_id)
            .where(keys.c.key_hash == digest)
        )
        async with self._database.transaction() as connection:
            row = (await connection.execute(query)).one_or_none()
            if row is None or row.revoked_at is not None:
                raise Unauthorized("The API key is unknown or has been revoked")
            if not row.active:
                raise Unauthorized("The organization of this API key is inactive")
            now = datetime.now(UTC)
            if row.last_used_at is None or now - row.last_used_at > _TOUCH_INTERVAL:
                # Waits for a revocation in progress on this key; once that commits, the key
                # is no longer one to touch, and no longer one to let in.
                touched = await connection.execute(
                    update(keys)
                    .where(keys.c.id == row.id, keys.c.revoked_at.is_(None))
                    .values(last_used_at=now)
                )
                if touched.rowcount == 0:
                    raise Unauthorized("The API key is unknown or has been revoked")
        principal = schemas.Principal(
            organization_id=row.organization_id,
            organization_name=row.name,
            kind=row.kind,
            jurisdiction=row.jurisdiction,
            key_id=row.id,
            key_prefix=row.prefix,
        )
        return principal, row.generation
