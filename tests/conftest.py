"""Real PostgreSQL for every test: an embedded cluster (or INCIDENTS_TEST_DATABASE_URL), a
database built by the migrations once, and one rolled-back transaction per test."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, cast

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from incidents.app import App, create_app, shutdown, startup
from incidents.bootstrap import load_shipped_taxonomy
from incidents.config import Settings
from incidents.db import Database, create_engine, database_name, libpq_url, with_database
from incidents.embedded import EmbeddedCluster
from incidents.migrate import upgrade
from tests.factories import Members, make_members

# The generated registry shared by the trends and briefs tests.
pytest_plugins = ["tests.registry"]


class SavepointDatabase(Database):
    """Every 'transaction' is a savepoint inside the test's own transaction, rolled back after."""

    def __init__(self, engine: AsyncEngine, connection: AsyncConnection) -> None:
        super().__init__(engine)
        self.connection = connection

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        async with self.connection.begin_nested():
            yield self.connection

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        yield self.connection

    async def dispose(self) -> None:
        """The session fixture owns the engine."""


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server for the session: INCIDENTS_TEST_DATABASE_URL, or an embedded one."""
    given = os.environ.get("INCIDENTS_TEST_DATABASE_URL")
    if given:
        yield given
        return
    cluster = EmbeddedCluster(tmp_path_factory.mktemp("postgres"), for_tests=True)
    cluster.start()
    try:
        yield cluster.admin_url("postgres")
    finally:
        cluster.stop()


async def _admin(server_url: str, statement: str) -> None:
    connection = await asyncpg.connect(libpq_url(server_url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
async def template_url(server_url: str) -> AsyncIterator[str]:
    """A database migrated to head once; tests clone it or run inside it."""
    name = f"incidents_template_{uuid.uuid4().hex[:8]}"
    await _admin(server_url, f'CREATE DATABASE "{name}"')
    url = with_database(server_url, name)
    engine = create_engine(url, pool_size=1)
    await upgrade(engine)
    database = Database(engine)
    await load_shipped_taxonomy(database, Settings())
    await database.dispose()
    yield url
    await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.asynccontextmanager
async def cloned_database(server_url: str, template_url: str) -> AsyncIterator[str]:
    """A database of its own, for tests that need real commits (concurrency, other processes)."""
    name = f"incidents_test_{uuid.uuid4().hex[:8]}"
    template = database_name(template_url)
    await _admin(server_url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield with_database(server_url, name)
    finally:
        await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
async def shared_database_url(server_url: str, template_url: str) -> AsyncIterator[str]:
    async with cloned_database(server_url, template_url) as url:
        yield url


@pytest.fixture(scope="session")
async def engine(shared_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(shared_database_url, pool_size=2)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """The test's transaction; everything the test and the app do is rolled back at its end."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        # Audit events are sealed into the chain by a deferred trigger when a transaction
        # commits; this one never commits, so seal each event at the end of its statement.
        await connection.execute(text("SET CONSTRAINTS audit_events_seal IMMEDIATE"))
        try:
            yield connection
        finally:
            await transaction.rollback()


@pytest.fixture
def database(engine: AsyncEngine, connection: AsyncConnection) -> SavepointDatabase:
    return SavepointDatabase(engine, connection)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database_url=None, data_dir=tmp_path, auth_cache_seconds=0)


@pytest.fixture
def app(settings: Settings, database: SavepointDatabase) -> App:
    return create_app(settings, database=database)


@contextlib.asynccontextmanager
async def serve_in_process(app: App) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client wired straight to the app, in the test's own event loop.

    Litestar's AsyncTestClient runs the app on another thread's event loop, where the test's
    database connection (and so its rolled-back transaction) cannot be used; httpx's ASGI
    transport plus the app's own startup and shutdown keeps everything on one loop.
    """
    await startup(app)
    try:
        # httpx types ASGI apps more loosely than Litestar types its scope; both are ASGI.
        transport = httpx.ASGITransport(app=cast(Any, app))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        await shutdown(app)


@pytest.fixture
async def client(app: App) -> AsyncIterator[httpx.AsyncClient]:
    async with serve_in_process(app) as client:
        yield client


@pytest.fixture
async def members(connection: AsyncConnection) -> Members:
    """One organization (with a key) per role the access rules distinguish."""
    return await make_members(connection)


@pytest.fixture
async def committed_database_url(server_url: str, template_url: str) -> AsyncIterator[str]:
    """A migrated database of the test's own, where commits are real."""
    async with cloned_database(server_url, template_url) as url:
        yield url
