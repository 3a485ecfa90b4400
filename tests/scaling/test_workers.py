"""Two workers (two app instances, each with its own engine and caches, as `serve --workers 2`
or two hosts run them) over one committed database: what one changes holds on the other from
its next request, with the key cache on and long."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import msgspec
import pytest

from incidents.app import create_app
from incidents.config import Settings
from incidents.db import Database, create_engine, current_generation
from incidents.taxonomy.files import read_directory
from tests.conftest import serve_in_process
from tests.factories import Members, make_members
from tests.taxonomy.helpers import make_version_2
from tests.test_app import assert_problem

ME = "/api/v1/me"
# Long enough that nothing expires during a test: what is refused is refused by the check.
CACHE_SECONDS = 600


class Workers:
    def __init__(
        self, a: httpx.AsyncClient, b: httpx.AsyncClient, members: Members, database: Database
    ) -> None:
        self.a = a
        self.b = b
        self.members = members
        self.database = database


@contextlib.asynccontextmanager
async def worker(url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    database = Database(create_engine(url, pool_size=3))
    settings = Settings(data_dir=tmp_path, auth_cache_seconds=CACHE_SECONDS)
    try:
        async with serve_in_process(create_app(settings, database=database)) as client:
            yield client
    finally:
        await database.dispose()


@pytest.fixture
async def workers(committed_database_url: str, tmp_path: Path) -> AsyncIterator[Workers]:
    database = Database(create_engine(committed_database_url, pool_size=2))
    async with database.transaction() as connection:
        members = await make_members(connection)
    async with (
        worker(committed_database_url, tmp_path / "a") as a,
        worker(committed_database_url, tmp_path / "b") as b,
    ):
        yield Workers(a, b, members, database)
    await database.dispose()


async def test_a_key_revoked_through_one_worker_is_refused_by_the_other_at_once(
    workers: Workers,
) -> None:
    regulator = workers.members.regulator.headers
    # Worker B has the key cached (and uses the cache: the key is not touched again).
    assert (await workers.b.get(ME, headers=regulator)).status_code == 200
    assert (await workers.b.get(ME, headers=regulator)).status_code == 200
    me = (await workers.a.get(ME, headers=regulator)).json()
    keys = await workers.a.get(
        f"/api/v1/organizations/{me['organization_id']}/keys", headers=regulator
    )
    key_id = keys.json()["items"][0]["id"]
    revoked = await workers.a.post(
        f"/api/v1/keys/{key_id}/revoke", headers=workers.members.secretariat.headers
    )
    assert revoked.status_code == 200
    body = assert_problem(await workers.b.get(ME, headers=regulator), 401)
    assert "revoked" in str(body["detail"])
    # Other keys cached on B still work (read again, once).
    assert (await workers.b.get(ME, headers=workers.members.researcher.headers)).status_code == 200


async def test_an_organization_deactivated_through_one_worker_is_refused_by_the_other(
    workers: Workers,
) -> None:
    researcher = workers.members.researcher
    assert (await workers.b.get(ME, headers=researcher.headers)).status_code == 200
    changed = await workers.a.patch(
        f"/api/v1/organizations/{researcher.organization.id}",
        json={"active": False},
        headers=workers.members.secretariat.headers,
    )
    assert changed.status_code == 200, changed.text
    body = assert_problem(await workers.b.get(ME, headers=researcher.headers), 401)
    assert "inactive" in str(body["detail"])
    # Reactivated through B: A, which never cached the refusal, and B both let it in again.
    changed = await workers.b.patch(
        f"/api/v1/organizations/{researcher.organization.id}",
        json={"active": True},
        headers=workers.members.secretariat.headers,
    )
    assert changed.status_code == 200
    assert (await workers.a.get(ME, headers=researcher.headers)).status_code == 200


async def test_a_renamed_organization_is_named_anew_by_every_worker(workers: Workers) -> None:
    regulator = workers.members.regulator
    before = (await workers.b.get(ME, headers=regulator.headers)).json()
    renamed = await workers.a.patch(
        f"/api/v1/organizations/{regulator.organization.id}",
        json={"name": "Kenya Office of the Data Protection Commissioner"},
        headers=workers.members.secretariat.headers,
    )
    assert renamed.status_code == 200, renamed.text
    after = (await workers.b.get(ME, headers=regulator.headers)).json()
    assert before["organization_name"] == "Kenya Data Commission"
    assert after["organization_name"] == "Kenya Office of the Data Protection Commissioner"


async def test_using_a_key_does_not_move_the_generation(workers: Workers) -> None:
    """The once-a-minute touch of last_used_at would otherwise empty every worker's cache."""
    before = await current_generation(workers.database, "keys")
    for client in (workers.a, workers.b):
        assert (await client.get(ME, headers=workers.members.regulator.headers)).status_code == 200
    assert await current_generation(workers.database, "keys") == before


async def test_a_taxonomy_version_loaded_through_one_worker_is_current_on_the_other(
    workers: Workers, tmp_path: Path
) -> None:
    versions = await workers.b.get("/api/v1/taxonomy/versions")
    assert [item["version"] for item in versions.json()["items"]] == [1]
    document = read_directory(make_version_2(tmp_path / "taxonomy"))
    loaded = await workers.a.post(
        "/api/v1/taxonomy/versions",
        content=msgspec.json.encode(document),
        headers={**workers.members.secretariat.headers, "Content-Type": "application/json"},
    )
    assert loaded.status_code == 201, loaded.text
    current = (await workers.b.get("/api/v1/taxonomy")).json()
    assert current["version"] == 2
    codes = {
        entry["code"]
        for dimension in current["dimensions"]
        if dimension["name"] == "ai_task"
        for entry in dimension["codes"]
    }
    assert "anomaly_detection" in codes


async def test_a_request_with_a_cached_key_sees_a_version_loaded_through_the_other_worker(
    workers: Workers, tmp_path: Path
) -> None:
    """A request whose key comes from the cache reads the newest taxonomy version with the key
    generation, in one round trip: that read must still bring in what the other worker loaded."""
    headers = workers.members.regulator.headers
    for _ in range(2):  # the second request's key comes from b's cache
        assert (await workers.b.get("/api/v1/taxonomy", headers=headers)).json()["version"] == 1
    document = read_directory(make_version_2(tmp_path / "taxonomy"))
    loaded = await workers.a.post(
        "/api/v1/taxonomy/versions",
        content=msgspec.json.encode(document),
        headers={**workers.members.secretariat.headers, "Content-Type": "application/json"},
    )
    assert loaded.status_code == 201, loaded.text
    current = await workers.b.get("/api/v1/taxonomy", headers=headers)
    assert current.json()["version"] == 2
