"""The explorer: the API's filters and facets for members, the trend drawn from the trends
service's protected figures, downloads of the current view, the equivalent API address."""

from __future__ import annotations

import csv
import io
import re

import httpx

from tests.factories import Members
from tests.reports.helpers import file, file_accepted
from tests.web.helpers import sign_in


async def test_the_explorer_is_for_members(client: httpx.AsyncClient) -> None:
    answer = await client.get("/explore")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in?next=%2Fexplore"


async def test_explorer_lists_and_downloads_what_the_api_gives_the_researcher(
    client: httpx.AsyncClient, members: Members
) -> None:
    await file_accepted(
        client, members, sharing="TLP:GREEN", title="Green loan scoring", sectors=["K"]
    )
    await file_accepted(client, members, sharing="TLP:CLEAR", title="Clear metro gates")
    await file(client, members.regulator, sharing="TLP:AMBER", title="Amber welfare model")
    await sign_in(client, members.researcher.key)
    page = await client.get("/explore", params={"sector": "K"})
    assert page.status_code == 200
    assert "Green loan scoring" in page.text
    assert "Clear metro gates" not in page.text
    assert "Amber welfare model" not in page.text
    assert "<svg" in page.text
    assert "/api/v1/reports?sector=K" in page.text
    download = await client.get("/explore.csv", params={"sector": "K"})
    assert download.status_code == 200
    rows = list(csv.DictReader(io.StringIO(download.text)))
    api = await client.get(
        "/api/v1/reports.csv", params={"sector": "K"}, headers=members.researcher.headers
    )
    assert rows == list(csv.DictReader(io.StringIO(api.text)))
    assert [row["title"] for row in rows] == ["Green loan scoring"]
    everything = await client.get("/explore.csv")
    titles = {row["title"] for row in csv.DictReader(io.StringIO(everything.text))}
    assert "Amber welfare model" not in titles
    parquet = await client.get("/explore.parquet", params={"view": "incidents"})
    assert parquet.status_code == 200
    assert parquet.content[:4] == b"PAR1"


async def test_the_trend_is_protected_like_the_trends_api(
    client: httpx.AsyncClient, members: Members
) -> None:
    await file_accepted(client, members, sharing="TLP:CLEAR", title="Only one incident")
    await sign_in(client, members.researcher.key)
    page = await client.get("/explore")
    # One incident is fewer than k: the chart shows the band, never the count.
    assert "fewer than 5" in page.text
    assert re.search(r"cell-key|perturb", page.text, re.IGNORECASE)
    api = await client.get("/api/v1/trends", headers=members.researcher.headers)
    assert all(cell["incidents"] is None for cell in api.json()["totals"])
