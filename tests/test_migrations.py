"""The migrations build the schema the code declares, and can be undone and redone."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect

from incidents.db import create_engine
from incidents.migrate import current_revision, downgrade, head_revision, upgrade
from incidents.schema import metadata
from tests.conftest import cloned_database


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_upgrade_downgrade_upgrade(server_url: str, template_url: str) -> None:
    async with cloned_database(server_url, template_url) as url:
        engine = create_engine(url, pool_size=1)
        try:
            async with engine.connect() as connection:
                assert await current_revision(connection) == head_revision()
                assert await connection.run_sync(_differences) == []
            await downgrade(engine, "base")
            async with engine.connect() as connection:
                assert await current_revision(connection) is None
                assert await connection.run_sync(_tables) == {"alembic_version"}
            await upgrade(engine)
            async with engine.connect() as connection:
                assert await current_revision(connection) == head_revision()
                assert await connection.run_sync(_differences) == []
        finally:
            await engine.dispose()
