"""Organizations and their API keys: adding, changing, listing, issuing and revoking, and who
may manage which keys."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Collection
from datetime import UTC, datetime

import msgspec
from sqlalchemy import RowMapping, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.audit.service import Actor, EventDraft, append, key_fingerprint
from incidents.db import as_dict
from incidents.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from incidents.members import schemas
from incidents.members.authentication import Authenticator, new_key
from incidents.members.authentication import hash_key as hash_key
from incidents.members.models import api_keys, organizations
from incidents.transactions import after_commit


def _organization(row: RowMapping) -> schemas.Organization:
    return msgspec.convert(as_dict(row), schemas.Organization)


def _api_key(row: RowMapping) -> schemas.ApiKey:
    return msgspec.convert(
        {field: row[field] for field in schemas.ApiKey.__struct_fields__}, schemas.ApiKey
    )


def actor_for(principal: schemas.Principal) -> Actor:
    return Actor(
        label=f"{principal.organization_name} ({principal.key_prefix})",
        org_id=principal.organization_id,
        key_id=principal.key_id,
    )


def may_manage_keys_of(principal: schemas.Principal, organization_id: uuid.UUID) -> None:
    """An organization sees and revokes its own keys; the secretariat, everyone's."""
    if principal.kind != "secretariat" and principal.organization_id != organization_id:
        raise Forbidden(
            "Only the secretariat or the organization itself may see or revoke its keys"
        )


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
    authenticator: Authenticator | None = None,
) -> schemas.Organization:
    """Rename, deactivate or reactivate; with an ``authenticator``, its keys as it knew them are
    dropped once this commits (a deactivated organization's keys stop working there at once)."""
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
    if authenticator is not None:
        after_commit(connection, authenticator.forget)
    return after


async def issue_key(
    connection: AsyncConnection, actor: Actor, organization_id: uuid.UUID, label: str
) -> schemas.IssuedKey:
    organization = await get_organization(connection, organization_id)
    if not organization.active:
        raise Conflict(f"{organization.name} is inactive; reactivate it before issuing keys")
    made = new_key()
    table = api_keys
    row = (
        (
            await connection.execute(
                table.insert()
                .values(
                    organization_id=organization_id,
                    prefix=made.prefix,
                    key_hash=hash_key(made.key),
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
                    "prefix": made.prefix,
                    "label": label,
                    "key_hash_sha256": key_fingerprint(hash_key(made.key)),
                },
            )
        ],
    )
    return schemas.IssuedKey(**msgspec.structs.asdict(issued), key=made.key)


async def list_keys(
    connection: AsyncConnection,
    organization_id: uuid.UUID,
    seen_by: schemas.Principal | None = None,
) -> list[schemas.ApiKey]:
    """An organization's keys, never their secrets; ``seen_by`` is the key asking over the API
    (None: the operator at the console)."""
    if seen_by is not None:
        may_manage_keys_of(seen_by, organization_id)
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
    connection: AsyncConnection,
    by: schemas.Principal | Actor,
    key_id: uuid.UUID,
    authenticator: Authenticator | None = None,
) -> schemas.ApiKey:
    """Revoke a key, by a key over the API (its own organization's, or any for the secretariat)
    or by the operator at the console (an Actor). Revoking a revoked key changes nothing.

    With an ``authenticator``, the key is dropped from it once this commits: from then on, the
    key is refused by this process at once (see `Authenticator`)."""
    existing = await get_key(connection, str(key_id))
    if isinstance(by, schemas.Principal):
        may_manage_keys_of(by, existing.organization_id)
        actor = actor_for(by)
    else:
        actor = by
    table = api_keys
    row = (
        (
            await connection.execute(
                table.update()
                # Of two revocations at once, the second waits here and then finds none to do.
                .where(table.c.id == key_id, table.c.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
                .returning(table)
            )
        )
        .mappings()
        .one_or_none()
    )
    if row is None:
        return await get_key(connection, str(key_id))
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
    if authenticator is not None:
        after_commit(connection, functools.partial(authenticator.forget, key_id))
    return revoked


async def has_secretariat(connection: AsyncConnection) -> bool:
    table = organizations
    found = await connection.execute(
        select(table.c.id).where(table.c.kind == "secretariat").limit(1)
    )
    return found.first() is not None
