"""Reads routed to a REAL streaming replica: a primary and a standby started here from the
embedded binaries (`pg_basebackup -R`), the standby's replay paused to make it stale on purpose.

The bound under test: a list page or trend extract read on the replica misses no commit older
than ``max_lag`` seconds (INCIDENTS_READ_MAX_LAG_SECONDS); beyond it reads go to the primary,
and an organization that just wrote reads on the primary. Writes always go to the primary."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from incidents.app import create_app
from incidents.bootstrap import load_shipped_taxonomy
from incidents.config import Settings
from incidents.db import Database, create_engine, libpq_url
from incidents.embedded import EmbeddedCluster
from incidents.migrate import upgrade
from tests.conftest import serve_in_process
from tests.factories import Member, Members, make_members
from tests.reports.helpers import file

LOOKS = 3_000  # a hundredth of a second apart


class Pair:
    def __init__(self, primary: str, replica: str) -> None:
        self.primary = primary
        self.replica = replica


@pytest.fixture(scope="module")
async def pair(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Pair]:
    root = tmp_path_factory.mktemp("replication")
    primary = EmbeddedCluster(root / "primary", for_tests=True, replication=True)
    primary_url = primary.start()
    standby: EmbeddedCluster | None = None
    try:
        engine = create_engine(primary_url, pool_size=1)
        await upgrade(engine)
        database = Database(engine)
        await load_shipped_taxonomy(database, Settings())
        await database.dispose()
        standby = primary.base_backup(root / "standby")
        replica_url = standby.start()
        yield Pair(primary_url, replica_url)
    finally:
        if standby is not None:
            standby.stop()
        primary.stop()


async def _value(url: str, query: str) -> object:
    connection = await asyncpg.connect(libpq_url(url))
    try:
        return await connection.fetchval(query)
    finally:
        await connection.close()


async def until_received(pair: Pair, *, replayed: bool) -> None:
    """Until the standby has received (and, if ``replayed``, replayed) all the primary wrote."""
    # The insert position: test clusters commit asynchronously, so the write position may
    # still be short of the last commit record.
    target = await _value(pair.primary, "SELECT pg_current_wal_insert_lsn()::text")
    function = "pg_last_wal_replay_lsn" if replayed else "pg_last_wal_receive_lsn"
    for _ in range(LOOKS):
        if await _value(pair.replica, f"SELECT {function}() >= '{target}'::pg_lsn"):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"the standby never reached {target}")


class Setup:
    def __init__(
        self, database: Database, client: httpx.AsyncClient, members: Members, pair: Pair
    ) -> None:
        self.database = database
        self.client = client
        self.members = members
        self.pair = pair

    async def refs(self, member: Member) -> set[str]:
        listed = await self.client.get("/api/v1/reports?limit=200", headers=member.headers)
        assert listed.status_code == 200, listed.text
        return {item["ref"] for item in listed.json()["items"]}


@pytest.fixture
async def setup(pair: Pair, tmp_path: Path) -> AsyncIterator[Setup]:
    database = Database(
        create_engine(pair.primary, pool_size=3),
        replica=create_engine(pair.replica, pool_size=3),
        max_lag=2.0,
    )
    async with database.transaction() as connection:
        # Fresh names each test: the pair's database lives for the whole module.
        members = await make_members(connection)
    await until_received(pair, replayed=True)
    app = create_app(Settings(data_dir=tmp_path, auth_cache_seconds=0), database=database)
    try:
        async with serve_in_process(app) as client:
            yield Setup(database, client, members, pair)
    finally:
        await _value(pair.replica, "SELECT pg_wal_replay_resume()")
        await database.dispose()


@pytest.fixture(autouse=True)
async def _clean(pair: Pair) -> AsyncIterator[None]:
    yield
    # Members are made anew by each test; the last test's go (filings cascade with them).
    connection = await asyncpg.connect(libpq_url(pair.primary))
    try:
        await connection.execute("TRUNCATE organizations, api_keys, reports, incidents CASCADE")
    finally:
        await connection.close()


async def test_reads_follow_the_replica_within_the_bound_and_the_primary_beyond_it(
    setup: Setup,
) -> None:
    members, pair, database = setup.members, setup.pair, setup.database
    reader = members.secretariat
    first = (await file(setup.client, members.regulator))["report"]["ref"]
    await until_received(pair, replayed=True)
    assert first in await setup.refs(reader)
    assert await database.read_url() == libpq_url(pair.replica)

    # The replica stops replaying: a filing (on the primary: it succeeds) reaches it unreplayed.
    await _value(pair.replica, "SELECT pg_wal_replay_pause()")
    second = (await file(setup.client, members.regulator))["report"]["ref"]
    await until_received(pair, replayed=False)

    # Within a generous bound the reader is served by the replica, stale as it may be...
    database.max_lag = 3600
    assert first in (seen := await setup.refs(reader))
    assert second not in seen
    assert await database.read_url() == libpq_url(pair.replica)
    # ...while the organization that wrote reads its own write on the primary.
    assert second in await setup.refs(members.regulator)

    # Past the bound, the replica is not trusted: the reader sees the primary.
    database.max_lag = 0.5
    await asyncio.sleep(0.6)
    assert second in await setup.refs(reader)
    assert await database.read_url() == database.url

    # Replay resumes: caught up, the replica serves again, and has the filing.
    await _value(pair.replica, "SELECT pg_wal_replay_resume()")
    await until_received(pair, replayed=True)
    assert await database.read_url() == libpq_url(pair.replica)
    assert second in await setup.refs(reader)


async def test_a_replica_that_is_not_a_standby_is_never_read(pair: Pair) -> None:
    """INCIDENTS_READ_DATABASE_URL pointing at a primary (or any writable server) by mistake:
    nothing says how stale it is, so reads stay on the configured primary."""
    database = Database(
        create_engine(pair.primary, pool_size=1),
        replica=create_engine(pair.primary.replace("incidents", "postgres"), pool_size=1),
    )
    try:
        assert await database.read_url() == database.url
    finally:
        await database.dispose()


async def test_an_unreachable_replica_leaves_reads_on_the_primary(
    pair: Pair, tmp_path: Path
) -> None:
    database = Database(
        create_engine(pair.primary, pool_size=1),
        replica=create_engine(
            f"postgresql://postgres@/incidents?host={tmp_path}/nowhere", pool_size=1
        ),
    )
    try:
        async with database.reading() as connection:
            recovering = (await connection.exec_driver_sql("SELECT pg_is_in_recovery()")).scalar()
        assert recovering is False
        assert await database.read_url() == database.url
    finally:
        await database.dispose()
