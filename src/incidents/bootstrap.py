"""What `serve` does before it listens: migrate, load the taxonomy, make sure someone can log in."""

from __future__ import annotations

from incidents.audit.service import Actor
from incidents.config import Settings
from incidents.db import Database, create_engine
from incidents.members import schemas, service
from incidents.migrate import upgrade
from incidents.taxonomy.geography import known_country_codes

SYSTEM_ACTOR = Actor(label="system:bootstrap")
FIRST_SECRETARIAT = "Secretariat"


async def prepare(settings: Settings, url: str, *, demo: bool = False) -> list[str]:
    """Bring the database to a usable state; return the lines to print for the operator."""
    database = Database(create_engine(url, pool_size=2))
    messages: list[str] = []
    try:
        await upgrade(database.engine)
        async with database.transaction() as connection:
            if not await service.has_secretariat(connection):
                organization = await service.create_organization(
                    connection,
                    SYSTEM_ACTOR,
                    schemas.OrganizationCreate(name=FIRST_SECRETARIAT, kind="secretariat"),
                    known_country_codes(settings.taxonomy_dir),
                )
                issued = await service.issue_key(
                    connection, SYSTEM_ACTOR, organization.id, "first secretariat key"
                )
                messages.append(
                    f"New database: secretariat API key (shown once, store it now): {issued.key}"
                )
    finally:
        await database.dispose()
    return messages
