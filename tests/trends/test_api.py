"""GET /api/v1/trends on a generated registry: exact for the secretariat, protected for others,
counted in incidents from accepted reports, every category listed, in JSON, CSV and Parquet."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import httpx
import polars as pl
from sqlalchemy import text

from incidents.trends.periods import today
from tests.registry import Registry
from tests.test_app import assert_problem

QUARTERLY = {"period": "quarter", "from": "2025-01-01", "to": "2026-07-01"}
K, D = 5, 2

# The incidents of accepted reports, each dated by the earliest date at the finest precision
# any of its reports gives (the rule of metrics.incidents, written again in SQL).
INCIDENT_DATES = """
    SELECT DISTINCT ON (incident_id) incident_id, occurred_on, occurred_precision
    FROM reports WHERE status = 'accepted'
    ORDER BY incident_id,
        CASE occurred_precision WHEN 'day' THEN 0 WHEN 'month' THEN 1 ELSE 2 END, occurred_on
"""


async def _truth(registry: Registry, sql: str) -> Any:
    async with registry.database.connect() as connection:
        return (await connection.execute(text(sql))).scalar_one()


async def _get(live: httpx.AsyncClient, headers: dict[str, str], **params: str) -> Any:
    response = await live.get("/api/v1/trends", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_secretariat_gets_exact_counts_of_incidents(
    live: httpx.AsyncClient, registry: Registry
) -> None:
    body = await _get(live, registry.members.secretariat.headers, **QUARTERLY)
    assert body["audience"] == "secretariat"
    assert body["protection"] is None
    assert body["suppressed_cells"] == 0
    totals = {(row["period"], row["year_only"]): row["incidents"] for row in body["totals"]}
    quarter = await _truth(
        registry,
        f"SELECT count(*) FROM ({INCIDENT_DATES}) i WHERE occurred_precision <> 'year'"
        " AND occurred_on >= '2026-04-01' AND occurred_on < '2026-07-01'",
    )
    year_only = await _truth(
        registry,
        f"SELECT count(*) FROM ({INCIDENT_DATES}) i WHERE occurred_precision = 'year'"
        " AND extract(year FROM occurred_on) = 2025",
    )
    assert totals[("2026-Q2", False)] == quarter
    assert totals[("2025", True)] == year_only


async def test_others_get_every_count_within_d_of_the_truth_and_small_ones_banded(
    live: httpx.AsyncClient, registry: Registry
) -> None:
    params = {**QUARTERLY, "by": "country"}
    exact = await _get(live, registry.members.secretariat.headers, **params)
    truth = {(row["period"], row["country"]): row["incidents"] for row in exact["cells"]}
    assert any(0 < value < K for value in truth.values()), "the registry has small cells"
    for headers in ({}, registry.members.researcher.headers, registry.members.regulator.headers):
        shown = await _get(live, headers, **params)
        assert shown["audience"] in {"public", "member"}
        assert shown["population"] == "all"
        assert shown["protection"]["k"] == K
        assert shown["protection"]["noise"] == D
        moved = 0
        for row in shown["cells"]:
            true = truth[(row["period"], row["country"])]
            if row["suppressed"]:
                assert row["incidents"] is None
                assert true < K + D, "only counts noise can bring below k are banded"
            else:
                assert true >= K, (row, true)
                assert abs(row["incidents"] - true) <= D
                moved += row["incidents"] != true
        assert moved > 0, "the noise is at work"
        assert {row["period"] for row in shown["cells"] if row["suppressed"]}


async def test_every_category_is_listed_from_the_taxonomy(
    live: httpx.AsyncClient, registry: Registry
) -> None:
    body = await _get(live, {}, period="year", by="severity", jurisdiction="NR")
    severities = [row["severity"] for row in body["cells"] if row["period"] == "2025"]
    assert severities == ["hazard", "serious_hazard", "incident", "serious_incident", "disaster"]
    assert all(row["suppressed"] for row in body["cells"]), "Nauru reports next to nothing"


async def test_the_same_cell_is_the_same_figure_whatever_the_query(
    live: httpx.AsyncClient, registry: Registry
) -> None:
    by_region = await _get(live, {}, **QUARTERLY, by="region")
    crossed = await _get(live, {}, **QUARTERLY, by="harm_domain,region")
    plain = await _get(live, {}, **QUARTERLY)
    assert by_region["totals"] == crossed["totals"] == plain["totals"]
    africa = await _get(live, {}, **QUARTERLY, region="Africa")
    from_cells = {
        (row["period"], row["year_only"]): row["incidents"]
        for row in by_region["cells"]
        if row["region"] == "Africa"
    }
    from_totals = {(row["period"], row["year_only"]): row["incidents"] for row in africa["totals"]}
    assert from_cells == from_totals


async def test_record_level_filters_count_only_what_the_caller_may_see(
    live: httpx.AsyncClient, registry: Registry
) -> None:
    word = await _truth(
        registry,
        "SELECT split_part(title, ' ', 1) FROM reports WHERE status = 'accepted'"
        " AND sharing = 'TLP:CLEAR' ORDER BY number LIMIT 1",
    )
    body = await _get(live, {}, **QUARTERLY, q=word)
    assert body["population"] == "visible"
    assert body["population_reasons"] == ["q"]
    assert body["protection"] is None, "what the public may list is exact"
    union = await _get(live, {}, **QUARTERLY, jurisdiction="KE,NG")
    assert union["population"] == "visible"
    assert union["population_reasons"] == ["jurisdiction"]


async def test_the_secretariat_reads_no_drafts_but_its_own(
    live: httpx.AsyncClient, registry: Registry
) -> None:
    drafts = await _truth(registry, "SELECT count(*) FROM reports WHERE status = 'draft'")
    assert drafts > 0
    body = await _get(live, registry.members.secretariat.headers, **QUARTERLY, status="draft")
    assert body["population"] == "visible"
    assert sum(row["incidents"] for row in body["totals"]) == 0


async def test_the_current_period_is_marked_partial_and_the_future_refused(
    live: httpx.AsyncClient,
) -> None:
    now = today()
    body = await _get(live, {}, period="month", to=now.isoformat())
    regular = [row for row in body["totals"] if not row["year_only"]]
    assert regular[-1]["partial"] is True
    assert not any(row["partial"] for row in regular[:-1])
    future = date(now.year + 1, 1, 1).isoformat()
    problem = assert_problem(await live.get("/api/v1/trends", params={"to": future}), 422)
    assert problem["errors"][0]["field"] == "to"


async def test_csv_and_parquet_carry_the_same_cells_with_a_suppressed_column(
    live: httpx.AsyncClient,
) -> None:
    params = {**QUARTERLY, "by": "severity"}
    as_json = (await live.get("/api/v1/trends", params=params)).json()["cells"]
    as_csv = await live.get("/api/v1/trends.csv", params=params)
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [(row["period"], row["severity"], row["suppressed"]) for row in rows] == [
        (row["period"], row["severity"], str(row["suppressed"]).lower()) for row in as_json
    ]
    as_parquet = await live.get("/api/v1/trends.parquet", params=params)
    frame = pl.read_parquet(io.BytesIO(as_parquet.content))
    assert frame["incidents"].to_list() == [row["incidents"] for row in as_json]
    assert frame["suppressed"].to_list() == [row["suppressed"] for row in as_json]
    assert rows[0]["severity_label"] == "AI hazard", "labels stand beside codes"


async def test_bad_parameters_are_422(live: httpx.AsyncClient) -> None:
    for params, field in (
        ({"by": "colour"}, "by"),
        ({"by": "region,country,severity"}, "by"),
        ({"period": "week"}, "period"),
        ({"from": "2026-05-01", "to": "2025-01-01"}, "from"),
        ({"harm_domain": "99"}, "harm_domain"),
        ({"by": "country,harm_subdomain", "period": "month", "from": "2015-01-01"}, "by"),
    ):
        body = assert_problem(await live.get("/api/v1/trends", params=params), 422)
        assert field in {error["field"] for error in body["errors"]}, (params, body)
