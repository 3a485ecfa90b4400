"""A generated registry on a committed database, shared by the trends and briefs tests
(registered as a pytest plugin by tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import httpx
import msgspec
import pytest

from incidents.app import create_app
from incidents.config import Settings
from incidents.db import Database, create_engine
from incidents.synthetic.generate import generate
from incidents.taxonomy.service import TaxonomyRegistry
from tests.conftest import cloned_database, serve_in_process
from tests.factories import Members, make_members

END = date(2026, 9, 30)
REPORTS = 4_000


class Registry(msgspec.Struct):
    url: str
    database: Database
    members: Members
    taxonomy: TaxonomyRegistry
    data_dir: Path


@pytest.fixture(scope="session")
async def registry(
    server_url: str, template_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Registry]:
    async with cloned_database(server_url, template_url) as url:
        database = Database(create_engine(url, pool_size=5))
        taxonomy = TaxonomyRegistry()
        async with database.transaction() as connection:
            await taxonomy.refresh(connection, force=True)
            members = await make_members(connection)
        await generate(database, taxonomy.current, reports_wanted=REPORTS, seed=11, end=END)
        yield Registry(url, database, members, taxonomy, tmp_path_factory.mktemp("trends"))
        await database.dispose()


@pytest.fixture
async def live(registry: Registry) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        Settings(database_url=registry.url, data_dir=registry.data_dir), database=registry.database
    )
    async with serve_in_process(app) as client:
        yield client
