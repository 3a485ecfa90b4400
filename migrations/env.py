"""Alembic environment: runs on the connection handed in by incidents.migrate, or on
INCIDENTS_DATABASE_URL when Alembic is invoked directly (e.g. `uv run alembic revision`)."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import Connection, pool
from sqlalchemy.ext.asyncio import create_async_engine

from incidents.db import sqlalchemy_url
from incidents.schema import metadata

config = context.config


def run_on(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def run_from_environment() -> None:
    url = os.environ.get("INCIDENTS_DATABASE_URL")
    if not url:
        raise SystemExit("Set INCIDENTS_DATABASE_URL, or use `incidents db upgrade`")
    engine = create_async_engine(sqlalchemy_url(url), poolclass=pool.NullPool)
    async with engine.begin() as connection:
        await connection.run_sync(run_on)
    await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported")

given = config.attributes.get("connection")
if given is not None:
    run_on(given)
else:
    asyncio.run(run_from_environment())
