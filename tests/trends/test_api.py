"""GET /api/v1/trends on a generated registry: exact for the secretariat, suppressed for others,
counted in incidents from accepted reports, in JSON, CSV and Parquet."""

from __future__ import annotations

import csv
import io

import httpx
import polars as pl
from sqlalchemy import text

from tests.test_app import assert_problem
from tests.trends.conftest import Registry

QUARTERLY = {"period": "quarter", "from": "2025-01-01", "to": "2026-07-01"}


async def test_the_secretariat_gets_exact_counts_of_incidents_from_accepted_reports(
    live: httpx.AsyncClient, registry: Registry
) -> None:
    response = await live.get(
        "/api/v1/trends", params=QUARTERLY, headers=registry.members.secretariat.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["audience"] == "secretariat"
    assert body["suppressed_cells"] == 0
    totals = {row["period"]: row["incidents"] for row in body["totals"]}
    async with registry.database.connect() as connection:
        truth = (
            await connection.execute(
                text(
                    "SELECT count(DISTINCT incident_id) FROM ("
                    " SELECT incident_id, min(occurred_on) AS first FROM reports"
                    " WHERE status = 'accepted' GROUP BY incident_id) i"
                    " WHERE first >= '2026-04-01' AND first < '2026-07-01'"
                )
            )
        ).scalar_one()
    assert totals["2026-Q2"] == truth


async def test_others_get_small_cells_suppressed_and_large_ones_equal(
    live: httpx.AsyncClient, registry: Registry
) -> None:
    params = {**QUARTERLY, "by": "country"}
    exact = (
        await live.get(
            "/api/v1/trends", params=params, headers=registry.members.secretariat.headers
        )
    ).json()
    for headers in ({}, registry.members.researcher.headers, registry.members.regulator.headers):
        shown = (await live.get("/api/v1/trends", params=params, headers=headers)).json()
        assert shown["audience"] in {"public", "member"}
        assert shown["suppressed_cells"] > 0
        truth = {(row["period"], row["country"]): row["incidents"] for row in exact["cells"]}
        for row in shown["cells"]:
            value = row["incidents"]
            if value is None:
                assert row["suppressed"]
            else:
                assert value == truth[(row["period"], row["country"])]
                assert value == 0 or value >= shown["k"]
        small = [key for key, value in truth.items() if 0 < value < shown["k"]]
        assert small, "the generated registry has small cells to protect"
        hidden = {(row["period"], row["country"]) for row in shown["cells"] if row["suppressed"]}
        assert set(small) <= hidden


async def test_filters_breakdowns_and_labels(live: httpx.AsyncClient, registry: Registry) -> None:
    headers = registry.members.secretariat.headers
    everything = (
        await live.get("/api/v1/trends", params={**QUARTERLY, "by": "region"}, headers=headers)
    ).json()
    africa = (
        await live.get(
            "/api/v1/trends",
            params={**QUARTERLY, "by": "harm_domain", "region": "Africa"},
            headers=headers,
        )
    ).json()
    assert {row["region"] for row in everything["cells"]} >= {"Africa", "Europe"}
    assert sum(row["incidents"] for row in africa["totals"]) < sum(
        row["incidents"] for row in everything["totals"]
    )
    assert africa["labels"]["harm_domain"]["1"] == "Discrimination & Toxicity"
    yearly = (
        await live.get(
            "/api/v1/trends",
            params={"period": "year", "from": "2024-05-01", "to": "2026-02-01"},
            headers=headers,
        )
    ).json()
    assert [row["period"] for row in yearly["totals"]] == ["2024", "2025", "2026"]
    assert yearly["from"] == "2024-01-01"


async def test_csv_and_parquet_carry_the_same_cells(
    live: httpx.AsyncClient, registry: Registry
) -> None:
    params = {**QUARTERLY, "by": "severity"}
    as_json = (await live.get("/api/v1/trends", params=params)).json()["cells"]
    as_csv = await live.get("/api/v1/trends.csv", params=params)
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [(row["period"], row["severity"]) for row in rows] == [
        (row["period"], row["severity"]) for row in as_json
    ]
    as_parquet = await live.get("/api/v1/trends.parquet", params=params)
    frame = pl.read_parquet(io.BytesIO(as_parquet.content))
    assert frame["incidents"].to_list() == [row["incidents"] for row in as_json]


async def test_bad_parameters_are_422(live: httpx.AsyncClient) -> None:
    for params, field in (
        ({"by": "colour"}, "by"),
        ({"by": "region,country,severity"}, "by"),
        ({"period": "week"}, "period"),
        ({"from": "2026-05-01", "to": "2025-01-01"}, "from"),
        ({"harm_domain": "99"}, "harm_domain"),
    ):
        body = assert_problem(await live.get("/api/v1/trends", params=params), 422)
        assert field in {error["field"] for error in body["errors"]}, (params, body)
