"""Risk briefs end to end: from a generated registry to HTML with the headline figures, a PDF with
pages, data files that regenerate identically, and the publish flow over the API."""

from __future__ import annotations

import asyncio
import io
import zipfile

import httpx
import msgspec
import polars as pl
from pypdf import PdfReader

from incidents.trends.briefs import make
from incidents.trends.schemas import BriefRequest
from tests.test_app import assert_problem
from tests.trends.conftest import Registry

PERIOD = "2026-Q2"


async def test_a_brief_carries_the_headline_figures_and_regenerates_identically(
    registry: Registry,
) -> None:
    request = BriefRequest(period=PERIOD)
    first = await make(registry.url, registry.taxonomy, request, 5)
    second = await make(registry.url, registry.taxonomy, request, 5)
    assert first.json == second.json
    assert first.zip == second.zip
    assert first.data.input_hash == second.data.input_hash
    headline = first.data.headline
    assert headline.incidents is not None
    assert headline.incidents > 0
    page = first.html.decode()
    assert f"{headline.incidents:,}" in page
    assert "Reporting jurisdictions" in page
    assert "reflect reporting capacity" in page
    assert "<svg" in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", ""), "nothing is fetched"
    reader = PdfReader(io.BytesIO(first.pdf))
    assert len(reader.pages) >= 2
    assert f"{headline.incidents:,}" in reader.pages[0].extract_text()
    archive = zipfile.ZipFile(io.BytesIO(first.zip))
    assert {"trend.csv", "trend.parquet", "harm_domains.csv", "country_pairs.parquet"} <= set(
        archive.namelist()
    )
    trend = pl.read_parquet(io.BytesIO(archive.read("trend.parquet")))
    assert trend.filter(pl.col("period") == PERIOD)["incidents"].to_list() == [headline.incidents]


async def test_brief_cells_are_protected_for_publication(registry: Registry) -> None:
    made = await make(
        registry.url, registry.taxonomy, BriefRequest(period=PERIOD, scope={"region": "Oceania"}), 5
    )
    for name, rows in made.data.tables.items():
        for row in rows:
            for column in ("incidents", "count", "trailing_count", "previous", "year_ago"):
                value = row.get(column)
                assert value is None or value == 0 or value >= 5, (name, row)


async def _wait_until_done(
    client: httpx.AsyncClient, location: str, headers: dict[str, str]
) -> dict[str, object]:
    for _ in range(300):
        status = (await client.get(location, headers=headers)).json()
        if status["status"] in {"done", "failed"}:
            return status  # type: ignore[no-any-return]  # a JSON object, by the API
        await asyncio.sleep(0.1)
    raise AssertionError("the brief never finished")


async def test_the_secretariat_makes_and_publishes_a_brief_over_the_api(
    live: httpx.AsyncClient, registry: Registry
) -> None:
    secretariat = registry.members.secretariat.headers
    refused = await live.post(
        "/api/v1/briefs", json={"period": PERIOD}, headers=registry.members.regulator.headers
    )
    assert_problem(refused, 403)
    bad = await live.post(
        "/api/v1/briefs",
        json={"period": "2026-Q5", "scope": {"colour": "red"}},
        headers=secretariat,
    )
    assert {error["field"] for error in assert_problem(bad, 422)["errors"]} == {"period"}
    bad_scope = await live.post(
        "/api/v1/briefs", json={"period": PERIOD, "scope": {"colour": "red"}}, headers=secretariat
    )
    assert assert_problem(bad_scope, 422)["errors"][0]["field"] == "scope.colour"
    queued = await live.post(
        "/api/v1/briefs",
        json={"period": PERIOD, "scope": {"region": "Africa"}},
        headers=secretariat,
    )
    assert queued.status_code == 202, queued.text
    location = queued.headers["location"]
    done = await _wait_until_done(live, location, secretariat)
    assert done["status"] == "done", done
    assert done["input_hash"]
    assert (await live.get(location)).status_code == 404, "unpublished briefs are not public"
    assert (
        await live.get(f"{location}.pdf", headers=registry.members.researcher.headers)
    ).status_code == 404
    published = await live.post(f"{location}/publish", headers=secretariat)
    assert published.json()["published_at"] is not None
    public_html = await live.get(f"{location}.html")
    assert public_html.headers["content-type"].startswith("text/html")
    pdf = await live.get(f"{location}.pdf")
    assert pdf.content.startswith(b"%PDF")
    data = msgspec.json.decode((await live.get(f"{location}.json")).content)
    assert data["scope"] == {"region": "Africa"}
    listed = (await live.get("/api/v1/briefs")).json()["items"]
    assert location.rsplit("/", 1)[1] in {item["id"] for item in listed}
    assert_problem(await live.get(f"{location}.docx"), 404)
