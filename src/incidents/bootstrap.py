"""What `serve` does before it listens: migrate, load the taxonomy, make sure someone can log in."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import func, select

from incidents.audit.service import Actor
from incidents.config import Settings
from incidents.db import Database, create_engine
from incidents.members import schemas, service
from incidents.members.models import api_keys, organizations
from incidents.migrate import upgrade
from incidents.reports.models import reports
from incidents.taxonomy import releases
from incidents.taxonomy.files import read_directory
from incidents.taxonomy.geography import known_country_codes
from incidents.taxonomy.service import TaxonomyRegistry, content_hash

SYSTEM_ACTOR = Actor(label="system:bootstrap")
FIRST_SECRETARIAT = "Secretariat"


async def load_shipped_taxonomy(database: Database, settings: Settings) -> str | None:
    """Load the taxonomy the package ships unless the database already has it (or a newer one)."""
    document = read_directory(settings.taxonomy_dir)
    version = document.manifest.version
    async with database.transaction() as connection:
        loaded = await releases.versions_in_database(connection)
        if loaded and max(loaded) > version:
            return None
        if version in loaded:
            stored = await releases.document_of(connection, version)
            if content_hash(stored) != content_hash(document):
                return (
                    f"warning: the shipped taxonomy differs from the released version {version} "
                    "in the database; give the change a new version number to release it"
                )
            return None
        await releases.store(connection, SYSTEM_ACTOR, document)
    return f"Loaded taxonomy version {version}"


async def ensure_secretariat(database: Database, settings: Settings) -> str | None:
    async with database.transaction() as connection:
        if await service.has_secretariat(connection):
            return None
        organization = await service.create_organization(
            connection,
            SYSTEM_ACTOR,
            schemas.OrganizationCreate(name=FIRST_SECRETARIAT, kind="secretariat"),
            known_country_codes(settings.taxonomy_dir),
        )
        issued = await service.issue_key(
            connection, SYSTEM_ACTOR, organization.id, "first secretariat key"
        )
    return f"New database: secretariat API key (shown once, store it now): {issued.key}"


DEMO_REPORTS = 3_000
DEMO_KEY_LABEL = "demo"


DEMO_KEYS_FILE = "demo-keys.json"


def _stored_demo_keys(path: Path) -> dict[str, str]:
    try:
        stored = msgspec.json.decode(path.read_bytes(), type=dict[str, str])
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return {}
    return stored


async def _still_valid(connection: Any, key: str, organization_id: Any) -> bool:
    row = (
        await connection.execute(
            select(api_keys.c.id).where(
                api_keys.c.key_hash == service.hash_key(key),
                api_keys.c.organization_id == organization_id,
                api_keys.c.revoked_at.is_(None),
            )
        )
    ).first()
    return row is not None


async def prepare_demo(database: Database, data_dir: Path) -> list[str]:
    """A small generated registry (once), and demo keys for three roles that stay the same from
    one start to the next: kept (readable by this user only) in the data directory, and issued
    anew only when one was revoked or the file is gone."""
    from incidents.synthetic.generate import generate

    registry = TaxonomyRegistry()
    async with database.transaction() as connection:
        await registry.refresh(connection, force=True)
        empty = (await connection.execute(select(reports.c.id).limit(1))).first() is None
    messages = []
    if empty:
        summary = await generate(database, registry.current, reports_wanted=DEMO_REPORTS, seed=1)
        messages.append(
            f"Demo registry: {summary.reports:,} synthetic reports, {summary.incidents:,} incidents"
        )
    async with database.transaction() as connection:
        busiest = (
            await connection.execute(
                select(organizations.c.id, organizations.c.name)
                .join(reports, reports.c.organization_id == organizations.c.id)
                .where(organizations.c.kind == "regulator")
                .group_by(organizations.c.id, organizations.c.name)
                .order_by(func.count().desc(), organizations.c.name)
                .limit(1)
            )
        ).one()
        chosen = [("regulator", busiest.id, busiest.name)]
        for role, kind in (("researcher", "research"), ("secretariat", "secretariat")):
            found = (await service.list_organizations(connection, kind=kind))[0]
            chosen.append((role, found.id, found.name))
        path = data_dir / DEMO_KEYS_FILE
        stored = _stored_demo_keys(path)
        kept: dict[str, str] = {}
        for role, organization_id, name in chosen:
            key = stored.get(role)
            if key is None or not await _still_valid(connection, key, organization_id):
                for old in await service.list_keys(connection, organization_id):
                    if old.label == DEMO_KEY_LABEL and old.revoked_at is None:
                        await service.revoke_key(connection, SYSTEM_ACTOR, old.id)
                key = (
                    await service.issue_key(
                        connection, SYSTEM_ACTOR, organization_id, DEMO_KEY_LABEL
                    )
                ).key
            kept[role] = key
            messages.append(f"Demo {role} key ({name}): {key}")
    _store_demo_keys(path, kept)
    return messages


def _store_demo_keys(path: Path, keys: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(msgspec.json.encode(keys))


async def prepare(settings: Settings, url: str, *, demo: bool = False) -> list[str]:
    """Bring the database to a usable state; return the lines to print for the operator."""
    database = Database(create_engine(url, pool_size=2))
    try:
        await upgrade(database.engine)
        messages = [
            await load_shipped_taxonomy(database, settings),
            await ensure_secretariat(database, settings),
        ]
        if demo:
            messages.extend(await prepare_demo(database, settings.data_dir))
    finally:
        await database.dispose()
    return [message for message in messages if message]
