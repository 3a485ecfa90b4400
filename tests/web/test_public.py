"""The public pages show exactly what the API shows the same visitor: the same reports, the same
counts, and a record one may not see answers like one that does not exist."""

from __future__ import annotations

import re

import httpx

from tests.factories import Members
from tests.reports.helpers import file, file_accepted
from tests.web.helpers import sign_in

_REPORT_LINK = re.compile(r'href="/reports/(RPT-\d{4}-\d+)"')


def _refs(html: str) -> list[str]:
    return list(dict.fromkeys(_REPORT_LINK.findall(html)))


async def _registry(client: httpx.AsyncClient, members: Members) -> dict[str, str]:
    public = await file_accepted(client, members, sharing="TLP:CLEAR", title="Public gate failure")
    green = await file_accepted(client, members, sharing="TLP:GREEN", title="Green chatbot leak")
    amber = await file(client, members.regulator, sharing="TLP:AMBER", title="Amber scoring bias")
    red = await file(client, members.regulator, sharing="TLP:RED", title="Red welfare model")
    return {
        "public": public["ref"],
        "green": green["ref"],
        "amber": amber["report"]["ref"],
        "red": red["report"]["ref"],
        "public_incident": public["incident"]["ref"],
    }


async def test_home_shows_public_figures_and_only_public_incidents(
    client: httpx.AsyncClient, members: Members
) -> None:
    refs = await _registry(client, members)
    home = await client.get("/")
    assert home.status_code == 200
    assert "Public gate failure" in home.text
    assert f"/incidents/{refs['public_incident']}" in home.text
    for hidden in ("Green chatbot leak", "Amber scoring bias", "Red welfare model"):
        assert hidden not in home.text
    api = (await client.get("/api/v1/reports", params={"facets": "status"})).json()
    public_count = sum(value["count"] for value in api["facets"]["status"])
    assert re.search(rf"<strong>{public_count}</strong> public reports", home.text)


async def test_search_lists_what_the_api_lists_for_each_visitor(
    client: httpx.AsyncClient, members: Members
) -> None:
    await _registry(client, members)
    public_page = await client.get("/search")
    public_api = (await client.get("/api/v1/reports")).json()
    assert _refs(public_page.text) == [item["ref"] for item in public_api["items"]]
    await sign_in(client, members.researcher.key)
    researcher_page = await client.get("/search", params={"q": "leak gate bias welfare"})
    researcher_api = (
        await client.get(
            "/api/v1/reports",
            params={"q": "leak gate bias welfare"},
            headers=members.researcher.headers,
        )
    ).json()
    assert _refs(researcher_page.text) == [item["ref"] for item in researcher_api["items"]]
    assert "Amber scoring bias" not in researcher_page.text
    assert "Red welfare model" not in researcher_page.text
    # The equivalent API address is shown, filters included.
    assert "/api/v1/reports?q=leak+gate+bias+welfare" in researcher_page.text


async def test_facets_filter_and_count_like_the_api(
    client: httpx.AsyncClient, members: Members
) -> None:
    await _registry(client, members)
    await file_accepted(
        client,
        members,
        sharing="TLP:CLEAR",
        title="Hazard at the port",
        event_type="hazard",
        severity="hazard",
        eu_serious_incident=[],
    )
    page = await client.get("/search", params={"event_type": "hazard"})
    assert _refs(page.text)
    assert "Hazard at the port" in page.text
    assert "Public gate failure" not in page.text
    assert 'value="hazard" checked' in page.text
    incidents = await client.get("/search", params={"view": "incidents"})
    api = (await client.get("/api/v1/incidents")).json()
    for item in api["items"]:
        assert f"/incidents/{item['ref']}" in incidents.text


async def test_a_record_one_may_not_see_answers_like_one_that_does_not_exist(
    client: httpx.AsyncClient, members: Members
) -> None:
    refs = await _registry(client, members)
    await sign_in(client, members.researcher.key)
    amber = await client.get(f"/reports/{refs['amber']}")
    missing = await client.get("/reports/RPT-2026-999999")
    assert amber.status_code == missing.status_code == 404
    assert amber.text == missing.text
    assert "Amber scoring bias" not in amber.text
    green = await client.get(f"/reports/{refs['green']}")
    assert green.status_code == 200
    assert "Green chatbot leak" in green.text
    # The public sees the accepted TLP:CLEAR report, and not the GREEN one.
    client.cookies.clear()
    assert (await client.get(f"/reports/{refs['public']}")).status_code == 200
    hidden = await client.get(f"/reports/{refs['green']}")
    assert hidden.text == (await client.get("/reports/RPT-2026-999999")).text


async def test_an_incident_page_lists_only_the_reports_the_visitor_may_see(
    client: httpx.AsyncClient, members: Members
) -> None:
    public = await file_accepted(client, members, sharing="TLP:CLEAR", title="Shared event")
    incident = public["incident"]["ref"]
    restricted = await file(
        client, members.other_regulator, sharing="TLP:RED", incident=incident, title="Secret"
    )
    page = await client.get(f"/incidents/{incident}")
    assert page.status_code == 200
    assert public["ref"] in page.text
    assert restricted["report"]["ref"] not in page.text
    assert "1 report you may see" in page.text


async def test_briefs_page_lists_published_briefs_only(client: httpx.AsyncClient) -> None:
    page = await client.get("/briefs")
    assert page.status_code == 200
    api = (await client.get("/api/v1/briefs")).json()
    assert ("No brief has been published yet." in page.text) == (api["items"] == [])
