"""Idempotency-Key: a retry returns the original answer and creates nothing new."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.reports.models import reports
from tests.factories import Members, report_payload
from tests.test_app import assert_problem


async def test_a_retry_with_the_same_key_replays_the_first_answer(
    client: httpx.AsyncClient, members: Members, connection: AsyncConnection
) -> None:
    headers = {**members.regulator.headers, "Idempotency-Key": "upload-42"}
    first = await client.post("/api/v1/reports", json=report_payload(), headers=headers)
    assert first.status_code == 201
    count = (await connection.execute(select(func.count()).select_from(reports))).scalar_one()
    retry = await client.post("/api/v1/reports", json=report_payload(), headers=headers)
    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"
    assert (
        await connection.execute(select(func.count()).select_from(reports))
    ).scalar_one() == count


async def test_the_same_key_with_another_body_is_422(
    client: httpx.AsyncClient, members: Members
) -> None:
    headers = {**members.regulator.headers, "Idempotency-Key": "upload-43"}
    await client.post("/api/v1/reports", json=report_payload(), headers=headers)
    other = await client.post(
        "/api/v1/reports", json=report_payload(title="Different"), headers=headers
    )
    body = assert_problem(other, 422)
    assert body["errors"][0]["field"] == "Idempotency-Key"


async def test_keys_belong_to_one_organization(client: httpx.AsyncClient, members: Members) -> None:
    payload = report_payload()
    mine = await client.post(
        "/api/v1/reports",
        json=payload,
        headers={**members.regulator.headers, "Idempotency-Key": "shared-name"},
    )
    theirs = await client.post(
        "/api/v1/reports",
        json=payload,
        headers={**members.other_regulator.headers, "Idempotency-Key": "shared-name"},
    )
    assert theirs.status_code == 201
    assert theirs.json()["report"]["id"] != mine.json()["report"]["id"]


async def test_a_failed_request_does_not_burn_the_key(
    client: httpx.AsyncClient, members: Members
) -> None:
    headers = {**members.regulator.headers, "Idempotency-Key": "upload-44"}
    bad = await client.post("/api/v1/reports", json=report_payload(severity="x"), headers=headers)
    assert bad.status_code == 422
    good = await client.post(
        "/api/v1/reports",
        json=report_payload(severity="x") | {"severity": "incident"},
        headers=headers,
    )
    assert good.status_code == 201


async def test_transitions_and_batches_are_idempotent_too(
    client: httpx.AsyncClient, members: Members
) -> None:
    ref = (
        await client.post(
            "/api/v1/reports", json=report_payload(), headers=members.regulator.headers
        )
    ).json()["report"]["ref"]
    headers = {**members.secretariat.headers, "Idempotency-Key": "accept-1"}
    first = await client.post(f"/api/v1/reports/{ref}/accept", headers=headers)
    second = await client.post(f"/api/v1/reports/{ref}/accept", headers=headers)
    assert first.status_code == second.status_code == 200
    batch_headers = {**members.regulator.headers, "Idempotency-Key": "batch-1"}
    one = await client.post("/api/v1/reports/batch", json=[report_payload()], headers=batch_headers)
    two = await client.post("/api/v1/reports/batch", json=[report_payload()], headers=batch_headers)
    assert one.json() == two.json()
    assert two.headers["idempotent-replayed"] == "true"


async def test_every_step_replays_its_first_answer_without_acting_twice(
    client: httpx.AsyncClient, members: Members, connection: AsyncConnection
) -> None:
    """The layer around each POST step: the first answer keeps its headers, a retry replays it
    and the step is not taken again (one audit event); without a key the step simply runs."""
    from incidents.audit.models import audit_events

    async def events() -> int:
        query = select(func.count()).select_from(audit_events)
        return int((await connection.execute(query)).scalar_one())

    filed = [
        (
            await client.post(
                "/api/v1/reports", json=report_payload(), headers=members.regulator.headers
            )
        ).json()["report"]
        for _ in range(2)
    ]
    withdraw = {**members.regulator.headers, "Idempotency-Key": "withdraw-1"}
    first = await client.post(
        f"/api/v1/reports/{filed[0]['ref']}/withdraw",
        json={"reason": "filed twice"},
        headers=withdraw,
    )
    assert first.status_code == 200
    assert first.json()["status"] == "withdrawn"
    assert first.headers["location"] == f"/api/v1/reports/{filed[0]['ref']}"
    assert first.headers["etag"]
    before = await events()
    retry = await client.post(
        f"/api/v1/reports/{filed[0]['ref']}/withdraw",
        json={"reason": "filed twice"},
        headers=withdraw,
    )
    assert (retry.status_code, retry.content) == (200, first.content)
    assert retry.headers["idempotent-replayed"] == "true"
    assert await events() == before

    merge = {**members.secretariat.headers, "Idempotency-Key": "merge-1"}
    survivor = filed[0]["incident"]["ref"]
    merged = await client.post(
        f"/api/v1/incidents/{filed[1]['incident']['ref']}/merge",
        json={"into": survivor},
        headers=merge,
    )
    assert merged.status_code == 200
    assert merged.json()["ref"] == survivor
    before = await events()
    again = await client.post(
        f"/api/v1/incidents/{filed[1]['incident']['ref']}/merge",
        json={"into": survivor},
        headers=merge,
    )
    assert (again.status_code, again.content) == (200, merged.content)
    assert await events() == before

    unkeyed = await client.post(
        f"/api/v1/reports/{filed[1]['ref']}/withdraw", headers=members.regulator.headers
    )
    assert unkeyed.status_code == 200
    assert unkeyed.json()["status"] == "withdrawn"
    assert "idempotent-replayed" not in unkeyed.headers
