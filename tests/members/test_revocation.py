"""Revocation on a real, committed database, with the key cache on: refused at once on the
worker that revoked once the revocation has committed, and never because of one rolled back."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.app import create_app
from incidents.audit.models import audit_events
from incidents.config import Settings
from incidents.db import Database, create_engine
from incidents.errors import Unauthorized
from incidents.members import service
from incidents.members.authentication import Authenticator
from incidents.transactions import transaction
from tests.conftest import serve_in_process
from tests.factories import TEST_ACTOR, Members, make_members
from tests.test_app import assert_problem

ME = "/api/v1/me"
# Long enough that nothing in a test expires: what the tests see is the cache's own doing.
CACHE_SECONDS = 600
# How many times to look (a hundredth of a second apart) for a statement to start waiting.
LOOKS = 3_000


class Live:
    def __init__(self, database: Database, client: httpx.AsyncClient, members: Members) -> None:
        self.database = database
        self.client = client
        self.members = members


@pytest.fixture
async def live(committed_database_url: str, tmp_path: Path) -> AsyncIterator[Live]:
    database = Database(create_engine(committed_database_url, pool_size=6))
    async with database.transaction() as connection:
        members = await make_members(connection)
    settings = Settings(data_dir=tmp_path, auth_cache_seconds=CACHE_SECONDS)
    app = create_app(settings, database=database)
    async with serve_in_process(app) as client:
        yield Live(database, client, members)
    await database.dispose()


@contextlib.asynccontextmanager
async def commits_held(database: Database) -> AsyncIterator[AsyncConnection]:
    """Every commit that appends to the audit log waits until this block ends: its seal locks
    the chain head, which this connection holds."""
    async with database.engine.connect() as holder:
        await holder.begin()
        await holder.execute(text("SELECT 1 FROM audit_head WHERE id = 1 FOR UPDATE"))
        yield holder
        await holder.rollback()


async def waiting(holder: AsyncConnection, count: int, task: asyncio.Task[object]) -> None:
    """Until ``count`` statements of this database wait on a lock (or ``task`` ended early)."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    for _ in range(LOOKS):
        # Activity is read once per transaction unless the snapshot is dropped.
        await holder.execute(text("SELECT pg_stat_clear_snapshot()"))
        if (await holder.execute(query)).scalar_one() >= count:
            return
        assert not task.done(), task.result()
        await asyncio.sleep(0.01)
    raise AssertionError(f"{count} statement(s) never started waiting")


async def key_id_of(live: Live, headers: dict[str, str]) -> str:
    organization = (await live.client.get(ME, headers=headers)).json()["organization_id"]
    keys = await live.client.get(f"/api/v1/organizations/{organization}/keys", headers=headers)
    key_id: str = keys.json()["items"][0]["id"]
    return key_id


async def test_a_key_used_while_its_revocation_commits_is_refused_once_it_has(
    live: Live,
) -> None:
    regulator = live.members.regulator.headers
    key_id = await key_id_of(live, regulator)
    async with commits_held(live.database) as holder:
        revoking = asyncio.create_task(
            live.client.post(
                f"/api/v1/keys/{key_id}/revoke", headers=live.members.secretariat.headers
            )
        )
        await waiting(holder, 1, revoking)
        # Revoked but not committed: the key is still good, and this worker knows it again.
        assert (await live.client.get(ME, headers=regulator)).status_code == 200
    assert (await revoking).status_code == 200
    body = assert_problem(await live.client.get(ME, headers=regulator), 401)
    assert "revoked" in str(body["detail"])


async def test_a_key_first_used_while_its_revocation_commits_is_refused(live: Live) -> None:
    issued = await live.client.post(
        f"/api/v1/organizations/{live.members.researcher.organization.id}/keys",
        json={"label": "never used"},
        headers=live.members.secretariat.headers,
    )
    fresh = {"Authorization": f"Bearer {issued.json()['key']}"}
    async with commits_held(live.database) as holder:
        revoking = asyncio.create_task(
            live.client.post(
                f"/api/v1/keys/{issued.json()['id']}/revoke",
                headers=live.members.secretariat.headers,
            )
        )
        await waiting(holder, 1, revoking)
        # Its first use records the time of use, which waits for the revocation to end.
        using = asyncio.create_task(live.client.get(ME, headers=fresh))
        await waiting(holder, 2, using)
    assert (await revoking).status_code == 200
    assert_problem(await using, 401)
    assert_problem(await live.client.get(ME, headers=fresh), 401)


async def test_a_revocation_that_fails_to_commit_leaves_the_key_working(live: Live) -> None:
    regulator = live.members.regulator.headers
    key_id = await key_id_of(live, regulator)
    async with commits_held(live.database) as holder:
        revoking = asyncio.create_task(
            live.client.post(
                f"/api/v1/keys/{key_id}/revoke", headers=live.members.secretariat.headers
            )
        )
        await waiting(holder, 1, revoking)
        # The revoking request's connection is cut while its commit waits: nothing commits.
        await holder.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    assert_problem(await revoking, 503)
    assert (await live.client.get(ME, headers=regulator)).status_code == 200
    organization = live.members.regulator.organization.id
    keys = await live.client.get(f"/api/v1/organizations/{organization}/keys", headers=regulator)
    assert keys.json()["items"][0]["revoked_at"] is None
    async with live.database.connect() as connection:
        revocations = await connection.execute(
            select(audit_events.c.seq).where(audit_events.c.action == "api_key.revoked")
        )
        assert revocations.all() == []
    # And a revocation that does commit still takes.
    again = await live.client.post(
        f"/api/v1/keys/{key_id}/revoke", headers=live.members.secretariat.headers
    )
    assert again.status_code == 200
    assert_problem(await live.client.get(ME, headers=regulator), 401)


async def test_the_service_drops_a_key_only_once_its_revocation_commits(live: Live) -> None:
    authenticator = Authenticator(live.database, CACHE_SECONDS)
    bearer = f"Bearer {live.members.regulator.key}"
    principal = await authenticator.authenticate(bearer)

    class Undone(Exception):
        """Raised to roll the transaction back."""

    async def revoke_then_fail() -> None:
        async with transaction(live.database) as connection:
            await service.revoke_key(connection, TEST_ACTOR, principal.key_id, authenticator)
            raise Undone

    with pytest.raises(Undone):
        await revoke_then_fail()
    assert await authenticator.authenticate(bearer) == principal
    async with live.database.connect() as connection:
        assert (await service.get_key(connection, str(principal.key_id))).revoked_at is None

    async with transaction(live.database) as connection:
        await service.revoke_key(connection, TEST_ACTOR, principal.key_id, authenticator)
        # Not committed yet: the key is still this process's to let in.
        assert await authenticator.authenticate(bearer) == principal
    with pytest.raises(Unauthorized, match="revoked"):
        await authenticator.authenticate(bearer)


async def test_promising_work_after_a_commit_needs_a_transaction_that_keeps_it(
    live: Live,
) -> None:
    authenticator = Authenticator(live.database, CACHE_SECONDS)
    key_id = (await authenticator.authenticate(f"Bearer {live.members.regulator.key}")).key_id
    async with live.database.transaction() as connection:
        with pytest.raises(RuntimeError, match="after_commit"):
            await service.revoke_key(connection, TEST_ACTOR, key_id, authenticator)
