"""Batch filing: JSON array or NDJSON, all or nothing, every bad item named by index and field."""

from __future__ import annotations

import httpx
import msgspec
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.audit.service import verify
from incidents.reports import batch
from incidents.reports.models import reports
from tests.factories import Members, report_payload
from tests.test_app import assert_problem


async def _count(connection: AsyncConnection) -> int:
    return int((await connection.execute(select(func.count()).select_from(reports))).scalar_one())


async def test_a_json_array_is_filed_in_order_with_incidents_and_audit(
    client: httpx.AsyncClient, members: Members, connection: AsyncConnection
) -> None:
    items = [
        report_payload(title=f"Batch report {n}", external_ref=f"KE-2026-{n}") for n in range(30)
    ]
    response = await client.post(
        "/api/v1/reports/batch", json=items, headers=members.regulator.headers
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["created"] == 30
    refs = [item["ref"] for item in body["reports"]]
    assert len(set(refs)) == 30
    assert len({item["incident"] for item in body["reports"]}) == 30
    first = (
        await client.get(f"/api/v1/reports/{refs[0]}", headers=members.regulator.headers)
    ).json()
    assert first["title"] == "Batch report 0"
    assert first["external_ref"] == "KE-2026-0"
    assert first["reporting_jurisdiction"] == "KE"
    searched = await client.get(
        "/api/v1/reports",
        params={"q": "batch report", "limit": 100},
        headers=members.regulator.headers,
    )
    assert len(searched.json()["items"]) == 30, "the generated search column is filled by COPY too"
    assert (await verify(connection)).ok


async def test_ndjson_is_accepted_and_can_link_to_incidents(
    client: httpx.AsyncClient, members: Members
) -> None:
    first = await client.post(
        "/api/v1/reports", json=report_payload(), headers=members.regulator.headers
    )
    incident = first.json()["report"]["incident"]["ref"]
    lines = [
        msgspec.json.encode(report_payload(title="Follow-up one", incident=incident)),
        msgspec.json.encode(report_payload(title="Brand new")),
    ]
    response = await client.post(
        "/api/v1/reports/batch",
        content=b"\n".join(lines) + b"\n",
        headers={**members.regulator.headers, "Content-Type": "application/x-ndjson"},
    )
    assert response.status_code == 201, response.text
    items = response.json()["reports"]
    assert items[0]["incident"] == incident
    assert items[1]["incident"] != incident


async def test_one_bad_item_stores_nothing_and_every_bad_item_is_named(
    client: httpx.AsyncClient, members: Members, connection: AsyncConnection
) -> None:
    before = await _count(connection)
    items = [report_payload(title=f"Good {n}") for n in range(10)]
    items[3] = report_payload(severity="nope")
    items[7] = report_payload(sectors=["Z"], affected_jurisdictions=["QQ"])
    items[8] = {**report_payload(), "title": 5}
    response = await client.post(
        "/api/v1/reports/batch", json=items, headers=members.regulator.headers
    )
    body = assert_problem(response, 422)
    located = {(error["index"], error["field"]) for error in body["errors"]}
    assert located == {
        (3, "severity"),
        (7, "sectors[0]"),
        (7, "affected_jurisdictions[0]"),
        (8, "title"),
    }
    assert "nothing was stored" in body["detail"]
    assert await _count(connection) == before


async def test_a_bad_item_after_rows_were_sent_still_stores_nothing(
    client: httpx.AsyncClient, members: Members, connection: AsyncConnection
) -> None:
    """Rows are streamed to PostgreSQL while later items are checked: a bad item near the end,
    after several buffers of good rows went out, must still leave the registry as it was."""
    before = await _count(connection)
    items = [report_payload(title=f"Streamed report {n}") for n in range(1500)]
    items[1490] = report_payload(severity="catastrophic-ish")
    response = await client.post(
        "/api/v1/reports/batch", json=items, headers=members.regulator.headers
    )
    body = assert_problem(response, 422)
    assert [(error["index"], error["field"]) for error in body["errors"]] == [(1490, "severity")]
    assert body["detail"].startswith("1 of 1500 reports are invalid")
    assert await _count(connection) == before
    assert (await verify(connection)).ok


async def test_duplicate_external_refs_are_named(
    client: httpx.AsyncClient, members: Members
) -> None:
    first = await client.post(
        "/api/v1/reports",
        json=report_payload(external_ref="ODPC-1"),
        headers=members.regulator.headers,
    )
    assert first.status_code == 201
    # The same external_ref again is the same 409 alone and in a batch.
    again = await client.post(
        "/api/v1/reports",
        json=report_payload(external_ref="ODPC-1"),
        headers=members.regulator.headers,
    )
    assert_problem(again, 409)
    items = [
        report_payload(external_ref="ODPC-1"),
        report_payload(external_ref="ODPC-2"),
        report_payload(external_ref="ODPC-2"),
    ]
    body = assert_problem(
        await client.post("/api/v1/reports/batch", json=items, headers=members.regulator.headers),
        409,
    )
    assert {(e["index"], e["field"]) for e in body["errors"]} == {
        (0, "external_ref"),
        (2, "external_ref"),
    }
    # Repeated within one batch only, nothing stored conflicts: the batch itself is invalid.
    within = await client.post(
        "/api/v1/reports/batch", json=items[1:], headers=members.regulator.headers
    )
    assert [(e["index"], e["field"]) for e in assert_problem(within, 422)["errors"]] == [
        (1, "external_ref")
    ]


async def test_an_external_ref_taken_meanwhile_is_a_conflict_and_stores_nothing(
    client: httpx.AsyncClient,
    members: Members,
    connection: AsyncConnection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """External references are checked before the rows are streamed; one filed by someone else
    in between is caught by the unique index during the COPY and answered 409, not 500."""
    await client.post(
        "/api/v1/reports",
        json=report_payload(external_ref="ODPC-RACE"),
        headers=members.regulator.headers,
    )
    before = await _count(connection)

    async def nothing_taken(*_: object) -> list[object]:
        return []  # as if the other filing committed just after this check

    monkeypatch.setattr(batch, "_taken_external_refs", nothing_taken)
    items = [report_payload(), report_payload(external_ref="ODPC-RACE")]
    response = await client.post(
        "/api/v1/reports/batch", json=items, headers=members.regulator.headers
    )
    assert "nothing was stored" in assert_problem(response, 409)["detail"]
    assert await _count(connection) == before


async def test_limits_and_formats(client: httpx.AsyncClient, members: Members) -> None:
    empty = await client.post("/api/v1/reports/batch", json=[], headers=members.regulator.headers)
    assert_problem(empty, 422)
    not_array = await client.post(
        "/api/v1/reports/batch", json={"title": "x"}, headers=members.regulator.headers
    )
    assert_problem(not_array, 422)
    xml = await client.post(
        "/api/v1/reports/batch",
        content=b"<reports/>",
        headers={**members.regulator.headers, "Content-Type": "application/xml"},
    )
    assert_problem(xml, 415)
    too_many = b"\n".join([msgspec.json.encode(report_payload())] * 5001)
    over = await client.post(
        "/api/v1/reports/batch",
        content=too_many,
        headers={**members.regulator.headers, "Content-Type": "application/x-ndjson"},
    )
    assert_problem(over, 413)
    researcher = await client.post(
        "/api/v1/reports/batch", json=[report_payload()], headers=members.researcher.headers
    )
    assert_problem(researcher, 403)


async def test_body_size_is_limited(
    members: Members, settings: object, database: object, tmp_path: object
) -> None:
    from pathlib import Path

    from incidents.app import create_app
    from incidents.config import Settings
    from tests.conftest import SavepointDatabase, serve_in_process

    assert isinstance(database, SavepointDatabase)
    assert isinstance(tmp_path, Path)
    app = create_app(Settings(data_dir=tmp_path, batch_max_body_bytes=4096), database=database)
    async with serve_in_process(app) as client:
        response = await client.post(
            "/api/v1/reports/batch", json=[report_payload()] * 5, headers=members.regulator.headers
        )
    assert_problem(response, 413)
