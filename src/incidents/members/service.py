"""Organizations and API keys: creation, listing, issuing, revoking and authenticating."""

from __future__ import annotations

import hashlib
import re
import secrets
import string
import time
import uuid
from collections.abc import Collection
from datetime import UTC, datetime, timedelta

import msgspec
from sqlalchemy import RowMapping, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.audit.service import Actor, EventDraft, append, key_fingerprint
from incidents.db import Database, as_dict
from incidents.errors import Conflict, FieldError, NotFound, Unauthorized, ValidationFailed
from incidents.members import schemas
from incidents.members.models import api_keys, organizations

KEY_SCHEME = "inc"
_PREFIX_ALPHABET = string.ascii_letters + string.digits
_KEY_PATTERN = re.compile(r"^inc_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{43}$")
_TOUCH_INTERVAL = timedelta(minutes=1)


def _organization(row: RowMapping) -> schemas.Organization:
    return msgspec.convert(as_dict(row), schemas.Organization)


def _api_key(row: RowMapping) -> schemas.ApiKey:
    return msgspec.convert(
        {field: row[field] for field in schemas.ApiKey.__struct_fields__}, schemas.ApiKey
    )


def hash_key(key: str) -> bytes:
    # Keys carry 256 random bits, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(key.encode()).digest()


def new_key() -> tuple[str, str]:
    """(prefix, full key): ``inc_<8 visible chars>_<43 chars of secret>``."""
    prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(8))
    return f"{KEY_SCHEME}_{prefix}", f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"


async def create_organization(
    connection: AsyncConnection,
    actor: Actor,
    data: schemas.OrganizationCreate,
    known_countries: Collection[str],
) -> schemas.Organization:
    errors = []
    if data.kind == "regulator" and data.jurisdiction is None:
        errors.append(FieldError("jurisdiction", "Required for a regulator"))
    if data.jurisdiction is not None and data.jurisdiction not in known_countries:
        errors.append(FieldError("jurisdiction", "Not an ISO 3166-1 alpha-2 country code"))
    if errors:
        raise ValidationFailed("The organization is not valid", errors=errors)
    table = organizations
    try:
        async with connection.begin_nested():
            row = (
                (
                    await connection.execute(
                        table.insert()
                        .values(name=data.name, kind=data.kind, jurisdiction=data.jurisdiction)
                        .returning(table)
                    )
                )
                .mappings()
                .one()
            )
    except IntegrityError:
        raise Conflict(f"An organization named {data.name!r} already exists") from None
    organization = _organization(row)
    await append(
        connection,
        actor,
        [
            EventDraft(
                "organization.created",
                "organization",
                str(organization.id),
                None,
                msgspec.to_builtins(organization),
            )
        ],
    )
    return organization


async def get_organization(
    connection: AsyncConnection, organization_id: uuid.UUID
) -> schemas.Organization:
    table = organizations
    row = (
        (await connection.execute(select(table).where(table.c.id == organization_id)))
        .mappings()
        .one_or_none()
    )
    if row is None:
        raise NotFound(f"No organization {organization_id}")
    return _organization(row)


async def list_organizations(
    connection: AsyncConnection, *, kind: str | None = None
) -> list[schemas.Organization]:
    table = organizations
    query = select(table).order_by(table.c.name)
    if kind is not None:
        query = query.where(table.c.kind == kind)
    return [_organization(row) for row in (await connection.execute(query)).mappings()]


async def update_organization(
    connection: AsyncConnection,
    actor: Actor,
    organization_id: uuid.UUID,
    data: schemas.OrganizationUpdate,
) -> schemas.Organization:
    before = await get_organization(connection, organization_id)
    changes = {
        field: value
        for field in ("name", "active")
        if (value := getattr(data, field)) is not msgspec.UNSET
    }
    if not changes:
        return before
    table = organizations
    try:
        async with connection.begin_nested():
            row = (
                (
                    await connection.execute(
                        table.update()
                        .where(table.c.id == organization_id)
                        .values(**changes)
                        .returning(table)
                    )
                )
                .mappings()
                .one()
            )
    except IntegrityError:
        raise Conflict(f"An organization named {changes.get('name')!r} already exists") from None
    after = _organization(row)
    await append(
        connection,
        actor,
        [
            EventDraft(
                "organization.updated",
                "organization",
                str(organization_id),
                {key: getattr(before, key) for key in changes},
                {key: getattr(after, key) for key in changes},
            )
        ],
    )
    return after


async def issue_key(
    connection: AsyncConnection, actor: Actor, organization_id: uuid.UUID, label: str
) -> schemas.IssuedKey:
    organization = await get_organization(connection, organization_id)
    if not organization.active:
        raise Conflict(f"{organization.name} is inactive; reactivate it before issuing keys")
    prefix, key = new_key()
    table = api_keys
    row = (
        (
            await connection.execute(
                table.insert()
                .values(
                    organization_id=organization_id,
                    prefix=prefix,
                    key_hash=hash_key(key),
                    label=label,
                )
                .returning(table)
            )
        )
        .mappings()
        .one()
    )
    issued = _api_key(row)
    await append(
        connection,
        actor,
        [
            EventDraft(
                "api_key.issued",
                "api_key",
                str(issued.id),
                None,
                {
                    "organization_id": str(organization_id),
                    "prefix": prefix,
                    "label": label,
                    "key_hash_sha256": key_fingerprint(hash_key(key)),
                },
            )
        ],
    )
    return schemas.IssuedKey(**msgspec.structs.asdict(issued), key=key)


async def list_keys(
    connection: AsyncConnection, organization_id: uuid.UUID
) -> list[schemas.ApiKey]:
    await get_organization(connection, organization_id)
    table = api_keys
    rows = await connection.execute(
        select(table)
        .where(table.c.organization_id == organization_id)
        .order_by(table.c.created_at, table.c.id)
    )
    return [_api_key(row) for row in rows.mappings()]


async def get_key(connection: AsyncConnection, key_id_or_prefix: str) -> schemas.ApiKey:
    table = api_keys
    try:
        condition = table.c.id == uuid.UUID(key_id_or_prefix)
    except ValueError:
        condition = table.c.prefix == key_id_or_prefix
    row = (await connection.execute(select(table).where(condition))).mappings().one_or_none()
    if row is None:
        raise NotFound(f"No API key {key_id_or_prefix}")
    return _api_key(row)


async def revoke_key(
    connection: AsyncConnection, actor: Actor, key_id: uuid.UUID
) -> schemas.ApiKey:
    table = api_keys
    existing = await get_key(connection, str(key_id))
    if existing.revoked_at is not None:
        return existing
    row = (
        (
            await connection.execute(
                table.update()
                .where(table.c.id == key_id)
                .values(revoked_at=datetime.now(UTC))
                .returning(table)
            )
        )
        .mappings()
        .one()
    )
    revoked = _api_key(row)
    await append(
        connection,
        actor,
        [
            EventDraft(
                "api_key.revoked",
                "api_key",
                str(key_id),
                {"revoked_at": None},
                {"revoked_at": revoked.revoked_at},
            )
        ],
    )
    return revoked


async def has_secretariat(connection: AsyncConnection) -> bool:
    table = organizations
    found = await connection.execute(
        select(table.c.id).where(table.c.kind == "secretariat").limit(1)
    )
    return found.first() is not None


class Authenticator:
    """Bearer key -> Principal, with a short cache so that a busy key costs no query."""

    def __init__(self, database: Database, cache_seconds: float) -> None:
        self._database = database
        self._cache_seconds = cache_seconds
        self._cache: dict[bytes, tuple[float, schemas.Principal]] = {}

    async def authenticate(self, authorization: str) -> schemas.Principal:
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("Use the header `Authorization: Bearer <api key>`")
        if not _KEY_PATTERN.match(token):
            raise Unauthorized("The API key is malformed")
        digest = hash_key(token)
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > now:
            return cached[1]
        principal = await self._lookup(digest)
        if self._cache_seconds > 0:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (now + self._cache_seconds, principal)
        return principal

    def forget(self, key_id: uuid.UUID | None = None) -> None:
        """Drop cached keys (one, or all) so a revocation takes effect at once here."""
        if key_id is None:
            self._cache.clear()
            return
        for digest, (_, principal) in list(self._cache.items()):
            if principal.key_id == key_id:
                del self._cache[digest]

    async def _lookup(self, digest: bytes) -> schemas.Principal:
        keys = api_keys
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
                await connection.execute(
                    update(keys).where(keys.c.id == row.id).values(last_used_at=now)
                )
        return schemas.Principal(
            organization_id=row.organization_id,
            organization_name=row.name,
            kind=row.kind,
            jurisdiction=row.jurisdiction,
            key_id=row.id,
            key_prefix=row.prefix,
        )


def actor_for(principal: schemas.Principal) -> Actor:
    return Actor(
        label=f"{principal.organization_name} ({principal.key_prefix})",
        org_id=principal.organization_id,
        key_id=principal.key_id,
    )
