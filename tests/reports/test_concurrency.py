"""Concurrent writers on a real, committed database: nothing duplicated, nothing lost."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text

from incidents.app import create_app
from incidents.audit.service import verify
from incidents.config import Settings
from incidents.db import Database, create_engine
from incidents.reports.models import report_revisions, reports
from tests.conftest import serve_in_process
from tests.factories import Members, make_members, report_payload

CONCURRENT = 20


class Live:
    def __init__(self, database: Database, client: httpx.AsyncClient, members: Members) -> None:
        self.database = database
        self.client = client
        self.members = members


@pytest.fixture
async def live(committed_database_url: str, tmp_path: Path) -> AsyncIterator[Live]:
    database = Database(create_engine(committed_database_url, pool_size=CONCURRENT + 5))
    async with database.transaction() as connection:
        members = await make_members(connection)
    app = create_app(Settings(data_dir=tmp_path), database=database)
    async with serve_in_process(app) as client:
        yield Live(database, client, members)
    await database.dispose()


async def test_concurrent_identical_posts_with_one_key_create_one_report(live: Live) -> None:
    headers = {**live.members.regulator.headers, "Idempotency-Key": "burst-1"}
    responses = await asyncio.gather(
        *(
            live.client.post("/api/v1/reports", json=report_payload(), headers=headers)
            for _ in range(CONCURRENT)
        )
    )
    assert Counter(response.status_code for response in responses) == {201: CONCURRENT}
    assert len({response.json()["report"]["id"] for response in responses}) == 1
    async with live.database.connect() as connection:
        count = (await connection.execute(select(func.count()).select_from(reports))).scalar_one()
        assert count == 1
        assert (await verify(connection)).ok


async def test_concurrent_patches_with_one_etag_one_wins_the_rest_get_412(live: Live) -> None:
    created = await live.client.post(
        "/api/v1/reports", json=report_payload(), headers=live.members.regulator.headers
    )
    ref = created.json()["report"]["ref"]
    headers = {**live.members.regulator.headers, "If-Match": created.headers["etag"]}
    responses = await asyncio.gather(
        *(
            live.client.patch(
                f"/api/v1/reports/{ref}", json={"people_affected": n}, headers=headers
            )
            for n in range(CONCURRENT)
        )
    )
    statuses = Counter(response.status_code for response in responses)
    assert statuses == {200: 1, 412: CONCURRENT - 1}
    winner = next(response for response in responses if response.status_code == 200).json()
    final = (
        await live.client.get(f"/api/v1/reports/{ref}", headers=live.members.regulator.headers)
    ).json()
    assert final["revision"] == 2
    assert final["people_affected"] == winner["people_affected"]
    async with live.database.connect() as connection:
        revisions = (
            await connection.execute(select(func.count()).select_from(report_revisions))
        ).scalar_one()
        assert revisions == 2
        assert (await verify(connection)).ok


async def test_concurrent_filers_keep_the_audit_chain_intact(live: Live) -> None:
    regulators = [
        live.members.regulator,
        live.members.other_regulator,
        live.members.same_jurisdiction,
    ]
    responses = await asyncio.gather(
        *(
            live.client.post(
                "/api/v1/reports",
                json=report_payload(title=f"Parallel {n}"),
                headers=regulators[n % 3].headers,
            )
            for n in range(30)
        )
    )
    assert {response.status_code for response in responses} == {201}
    async with live.database.connect() as connection:
        result = await verify(connection)
    assert result.ok, result.problems


async def test_a_filing_writes_its_event_with_the_refs_drawn_and_a_conflict_writes_nothing(
    live: Live,
) -> None:
    # One statement writes the rows and the audit event: the event names the refs PostgreSQL
    # drew, whatever the title holds; a repeated external_ref writes no row and no event.
    headers = live.members.regulator.headers
    title = 'Gate @ref @incident mix-up, 100% "quoted" \\ and ünïcode'
    first = await live.client.post(
        "/api/v1/reports", json=report_payload(title=title, external_ref="X-1"), headers=headers
    )
    assert first.status_code == 201, first.text
    report = first.json()["report"]
    joined = await live.client.post(
        "/api/v1/reports",
        json=report_payload(title="Same event, second report", incident=report["incident"]["ref"]),
        headers=headers,
    )
    assert joined.status_code == 201, joined.text
    assert joined.json()["report"]["incident"] == report["incident"]
    assert first.json()["possible_duplicates"] == []  # nothing filed before it
    third = await live.client.post(
        "/api/v1/reports", json=report_payload(title="Unrelated wording"), headers=headers
    )
    assert report["incident"]["ref"] in {
        candidate["incident"]["ref"] for candidate in third.json()["possible_duplicates"]
    }
    again = await live.client.post(
        "/api/v1/reports", json=report_payload(external_ref="X-1"), headers=headers
    )
    assert again.status_code == 409
    async with live.database.connect() as connection:
        events = (
            await connection.execute(
                text(
                    "SELECT entity_id, after FROM audit_events "
                    "WHERE action = 'report.created' ORDER BY seq"
                )
            )
        ).all()
        assert (await verify(connection)).ok
    assert len(events) == 3
    created = {row.entity_id: row.after for row in events}
    assert created[report["id"]]["ref"] == report["ref"]
    assert created[report["id"]]["incident"] == report["incident"]["ref"]
    assert created[report["id"]]["title"] == title
    second = joined.json()["report"]
    assert created[second["id"]]["incident"] == report["incident"]["ref"]
