"""Filters on every dimension, search, pagination with Link headers, facets, and the formats."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import msgspec
import pyarrow.parquet as pq
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.reports import reading
from tests.factories import Members
from tests.reports.helpers import file, file_accepted
from tests.test_app import assert_problem


@pytest.fixture
async def corpus(client: httpx.AsyncClient, members: Members) -> dict[str, dict[str, Any]]:
    """Three accepted CLEAR reports that differ on every filterable dimension."""
    kenya = await file_accepted(
        client,
        members,
        sharing="TLP:CLEAR",
        title="Credit scoring model denies loans to women",
        severity="incident",
        eu_serious_incident=[],
        event_type="incident",
        language="en",
        harms=[
            {"domain": "1.1", "harm_type": "economic_property", "affected_groups": ["sex_gender"]}
        ],
        sectors=["K"],
        causal_entity="ai",
        causal_intent="unintentional",
        causal_timing="post_deployment",
        ai_system={
            "name": "LoanLens",
            "developer": "FinModels",
            "system_type": "predictive_scoring",
            "tasks": ["forecasting"],
            "lifecycle_stage": "deployment",
            "autonomy_level": "high_action",
        },
        affected_jurisdictions=["KE"],
        occurred_on="2025-02-10",
        detected_on="2025-02-20",
    )
    brazil = await file_accepted(
        client,
        members,
        members.other_regulator,
        sharing="TLP:CLEAR",
        title="Deepfake audio used in election disinformation campaign",
        severity="serious_incident",
        eu_serious_incident=["c"],
        language="pt",
        harms=[
            {"domain": "4.1", "harm_type": "public_interest", "affected_groups": ["general_public"]}
        ],
        sectors=["J"],
        causal_entity="human",
        causal_intent="intentional",
        causal_timing="post_deployment",
        ai_system={
            "name": "VoiceClone",
            "developer": "SynthCo",
            "system_type": "generative_media",
            "tasks": ["content_generation"],
            "lifecycle_stage": "operation_monitoring",
            "autonomy_level": "no_action",
        },
        affected_jurisdictions=["BR", "AR"],
        occurred_on="2026-01-05",
        detected_on="2026-01-06",
    )
    hazard = await file_accepted(
        client,
        members,
        sharing="TLP:CLEAR",
        title="Autonomous shuttle near miss with cyclist",
        event_type="hazard",
        severity="serious_hazard",
        eu_serious_incident=[],
        deaths=0,
        injuries=0,
        harms=[
            {"domain": "7.3", "harm_type": "physical_injury", "affected_groups": ["general_public"]}
        ],
        sectors=["H"],
        causal_entity="ai",
        causal_intent="unintentional",
        causal_timing="post_deployment",
        ai_system={
            "name": "ShuttleOS",
            "developer": "MoveAI",
            "system_type": "autonomous_vehicle",
            "tasks": ["recognition"],
            "lifecycle_stage": "operation_monitoring",
            "autonomy_level": "high_action",
        },
        affected_jurisdictions=["KE"],
        occurred_on="2026-06-01",
        detected_on="2026-06-01",
    )
    return {"kenya": kenya, "brazil": brazil, "hazard": hazard}


FILTERS = [
    ({"harm_domain": "1"}, {"kenya"}),
    ({"harm_domain": "4.1"}, {"brazil"}),
    ({"harm_domain": "1,7"}, {"kenya", "hazard"}),
    ({"harm_type": "public_interest"}, {"brazil"}),
    ({"affected_group": "protected_characteristic"}, {"kenya"}),
    ({"affected_group": "general_public"}, {"brazil", "hazard"}),
    ({"sector": "K"}, {"kenya"}),
    ({"eu_serious_incident": "c"}, {"brazil"}),
    ({"severity": "serious_incident"}, {"brazil"}),
    ({"min_severity": "incident"}, {"kenya", "brazil"}),
    ({"event_type": "hazard"}, {"hazard"}),
    ({"causal_intent": "intentional"}, {"brazil"}),
    ({"causal_entity": "ai"}, {"kenya", "hazard"}),
    ({"system_type": "autonomous_vehicle"}, {"hazard"}),
    ({"ai_task": "forecasting"}, {"kenya"}),
    ({"lifecycle_stage": "deployment"}, {"kenya"}),
    ({"autonomy_level": "high_action"}, {"kenya", "hazard"}),
    ({"language": "pt"}, {"brazil"}),
    ({"jurisdiction": "AR"}, {"brazil"}),
    ({"reporting_jurisdiction": "KE"}, {"kenya", "hazard"}),
    ({"region": "Americas"}, {"brazil"}),
    ({"sub_region": "Sub-Saharan Africa"}, {"kenya", "hazard"}),
    ({"development": "developing"}, {"kenya", "brazil", "hazard"}),
    ({"development": "developed"}, set()),
    ({"cross_border": "true"}, {"brazil"}),
    ({"occurred_from": "2026-01-01"}, {"brazil", "hazard"}),
    ({"occurred_to": "2025-12-31"}, {"kenya"}),
    ({"status": "accepted", "harm_domain": "7.3"}, {"hazard"}),
    ({"q": "deepfake election"}, {"brazil"}),
    ({"q": "shutle"}, {"hazard"}),  # a typo still finds it (trigram)
    ({"q": "loanlens"}, {"kenya"}),  # the system name is searchable
]


@pytest.mark.parametrize(("params", "expected"), FILTERS, ids=[str(p) for p, _ in FILTERS])
async def test_filters(
    client: httpx.AsyncClient,
    corpus: dict[str, dict[str, Any]],
    params: dict[str, str],
    expected: set[str],
) -> None:
    response = await client.get("/api/v1/reports", params={**params, "limit": 500})
    assert response.status_code == 200, response.text
    found = {item["ref"] for item in response.json()["items"]}
    ours = {name: report["ref"] for name, report in corpus.items()}
    assert {name for name, ref in ours.items() if ref in found} == expected


async def test_a_report_reads_the_same_in_a_list_as_alone(
    client: httpx.AsyncClient,
    connection: AsyncConnection,
    members: Members,
    corpus: dict[str, dict[str, Any]],
) -> None:
    """Pages pass PostgreSQL's JSON through; a single report is decoded and encoded by msgspec.
    Both must say the same thing, timestamps included (with and without microseconds)."""
    whole_second = corpus["kenya"]["ref"]
    await connection.execute(
        text("UPDATE reports SET updated_at = date_trunc('second', updated_at) WHERE ref = :ref"),
        {"ref": whole_second},
    )
    draft = await file(client, members.regulator, status="draft", sharing="TLP:AMBER")
    listed = await client.get(
        "/api/v1/reports", params={"limit": 500}, headers=members.regulator.headers
    )
    items = {item["ref"]: item for item in listed.json()["items"]}
    refs = [*(report["ref"] for report in corpus.values()), draft["report"]["ref"]]
    for ref in refs:
        alone = await client.get(f"/api/v1/reports/{ref}", headers=members.regulator.headers)
        if alone.status_code == 404:  # another regulator's report: the secretariat reads it
            alone = await client.get(f"/api/v1/reports/{ref}", headers=members.secretariat.headers)
        assert alone.status_code == 200, alone.text
        assert items[ref] == alone.json()
    stamp = items[whole_second]["updated_at"]
    assert stamp.endswith("Z"), stamp
    assert "." not in stamp, stamp
    assert items[draft["report"]["ref"]]["submitted_at"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"harm_domain": "99"}, "harm_domain"),
        ({"jurisdiction": "XX"}, "jurisdiction"),
        ({"region": "Atlantis"}, "region"),
        ({"status": "lost"}, "status"),
        ({"min_severity": "huge"}, "min_severity"),
        ({"sort": "random"}, "sort"),
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"facets": "colour"}, "facets"),
        ({"sort": "relevance"}, "sort"),
    ],
)
async def test_bad_filters_are_422_naming_the_parameter(
    client: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    body = assert_problem(await client.get("/api/v1/reports", params=params), 422)
    assert field in {error["field"] for error in body["errors"]}, body


async def test_pages_follow_the_link_header_without_gaps_or_repeats(
    client: httpx.AsyncClient, corpus: dict[str, dict[str, Any]]
) -> None:
    seen: list[str] = []
    url = "/api/v1/reports?limit=1&status=accepted"
    while url:
        response = await client.get(url)
        seen += [item["ref"] for item in response.json()["items"]]
        link = response.headers.get("link")
        url = link.split(";")[0].strip("<>").replace("http://testserver", "") if link else ""
        assert (link is None) == (response.json()["next"] is None)
    assert len(seen) == len(set(seen))
    everything = (
        await client.get("/api/v1/reports", params={"limit": 500, "status": "accepted"})
    ).json()["items"]
    assert seen == [item["ref"] for item in everything]


async def _walk(client: httpx.AsyncClient, params: dict[str, Any]) -> list[str]:
    """Every ref of a listing, following the cursor page by page."""
    seen: list[str] = []
    cursor = None
    while True:
        page = (
            await client.get(
                "/api/v1/reports", params={**params, "cursor": cursor} if cursor else params
            )
        ).json()
        seen += [item["ref"] for item in page["items"]]
        cursor = page["next"]
        if cursor is None:
            return seen


@pytest.mark.parametrize(
    "params",
    [{"status": "accepted"}, {"jurisdiction": "KE"}, {"q": "deepfake"}, {"harm_domain": "1"}],
    ids=str,
)
async def test_a_filtered_listing_is_the_same_however_the_page_is_found(
    client: httpx.AsyncClient,
    members: Members,
    corpus: dict[str, dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    params: dict[str, str],
) -> None:
    """A filtered page is looked for among the newest WINDOW reports first, then among the
    newest WIDE_WINDOW, then among the matches alone: with windows too small to fill a page,
    pages must not change, and what the public may not see stays out either way."""
    hidden = await file_accepted(
        client,
        members,
        sharing="TLP:GREEN",
        title="Deepfake credit scoring in Kenya",
        affected_jurisdictions=["KE"],
        harms=[{"domain": "1.1", "harm_type": "economic_property", "affected_groups": []}],
    )
    for sort in ("newest", "oldest"):
        expected = await _walk(client, {**params, "sort": sort, "limit": 500})
        assert expected
        assert hidden["ref"] not in expected
        for window, wide in ((1, 2), (2, 3), (1, 4)):
            monkeypatch.setattr(reading, "WINDOW", window)
            monkeypatch.setattr(reading, "WIDE_WINDOW", wide)
            for limit in (1, 2, 500):
                found = await _walk(client, {**params, "sort": sort, "limit": limit})
                assert found == expected, (sort, window, limit)
        monkeypatch.undo()


async def test_other_sort_orders_paginate_too(
    client: httpx.AsyncClient, corpus: dict[str, dict[str, Any]]
) -> None:
    for sort in ("oldest", "occurred"):
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 1, "sort": sort}
            if cursor:
                params["cursor"] = cursor
            page = (await client.get("/api/v1/reports", params=params)).json()
            seen += [item["ref"] for item in page["items"]]
            cursor = page["next"]
            if not cursor:
                break
        assert len(seen) == len(set(seen)) >= 3
    ranked = (
        await client.get("/api/v1/reports", params={"q": "autonomous shuttle", "sort": "relevance"})
    ).json()
    assert ranked["items"][0]["ref"] == corpus["hazard"]["ref"]


async def test_facets_count_values_with_labels(
    client: httpx.AsyncClient, corpus: dict[str, dict[str, Any]]
) -> None:
    body = (
        await client.get("/api/v1/reports", params={"facets": "harm_domain,severity,jurisdiction"})
    ).json()
    domains = {entry["value"]: entry for entry in body["facets"]["harm_domain"]}
    assert domains["1"]["label"] == "Discrimination & Toxicity"
    assert domains["1"]["count"] >= 1
    countries = {entry["value"]: entry for entry in body["facets"]["jurisdiction"]}
    assert countries["AR"]["label"] == "Argentina"


async def test_incident_facets_count_incidents(
    client: httpx.AsyncClient, members: Members, corpus: dict[str, dict[str, Any]]
) -> None:
    from tests.reports.helpers import file

    second = await file(
        client,
        members.same_jurisdiction,
        incident=corpus["kenya"]["incident"]["ref"],
        sharing="TLP:CLEAR",
        sectors=["K"],
        harms=[{"domain": "1.1", "harm_type": "economic_property"}],
    )
    await client.post(
        f"/api/v1/reports/{second['report']['ref']}/accept", headers=members.secretariat.headers
    )
    reports_facet = (
        await client.get("/api/v1/reports", params={"facets": "sector", "sector": "K"})
    ).json()
    incidents_facet = (
        await client.get("/api/v1/incidents", params={"facets": "sector", "sector": "K"})
    ).json()
    count = {e["value"]: e["count"] for e in reports_facet["facets"]["sector"]}["K"]
    incident_count = {e["value"]: e["count"] for e in incidents_facet["facets"]["sector"]}["K"]
    assert count == incident_count + 1


async def test_every_format_carries_the_same_rows(
    client: httpx.AsyncClient, corpus: dict[str, dict[str, Any]]
) -> None:
    params: dict[str, Any] = {"status": "accepted"}
    page = {**params, "sort": "oldest", "limit": 500}
    listed = (await client.get("/api/v1/reports", params=page)).json()["items"]
    expected = [
        (item["ref"], item["title"], item["severity"], item["affected_jurisdictions"])
        for item in listed
    ]

    as_csv = await client.get("/api/v1/reports.csv", params=params)
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in as_csv.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [
        (r["ref"], r["title"], r["severity"], r["affected_jurisdictions"].split(";")) for r in rows
    ] == expected

    as_ndjson = await client.get(
        "/api/v1/reports", params=page, headers={"Accept": "application/x-ndjson"}
    )
    assert as_ndjson.headers["content-type"].startswith("application/x-ndjson")
    lines = [msgspec.json.decode(line) for line in as_ndjson.text.splitlines()]
    assert [
        (r["ref"], r["title"], r["severity"], r["affected_jurisdictions"]) for r in lines
    ] == expected
    assert lines == listed, "an NDJSON line is exactly the JSON representation"

    as_parquet = await client.get("/api/v1/reports.parquet", params=params)
    table = pq.read_table(io.BytesIO(as_parquet.content)).to_pylist()
    assert [
        (r["ref"], r["title"], r["severity"], r["affected_jurisdictions"]) for r in table
    ] == expected

    incidents_parquet = await client.get("/api/v1/incidents.parquet", params=params)
    assert pq.read_table(io.BytesIO(incidents_parquet.content)).num_rows >= 3


async def test_unacceptable_format_is_406(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/reports", headers={"Accept": "image/png"}), 406)
    plain = await client.get("/api/v1/reports", headers={"Accept": "*/*"})
    assert plain.headers["content-type"].startswith("application/json")


async def test_an_empty_download_still_has_its_header(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/reports.csv", params={"q": "nothing matches this xyzzy"})
    assert response.text.splitlines() == [response.text.splitlines()[0]]
    assert response.text.startswith("id,ref,incident_ref")


async def test_typo_tolerance_learns_only_words_every_member_may_see(
    client: httpx.AsyncClient, members: Members
) -> None:
    # The vocabulary behind typo correction is shared by all viewers, so a word that appears
    # only in an AMBER report must not be learnt: its misspelling corrects to nothing.
    amber = await file_accepted(
        client, members, sharing="TLP:AMBER", title="Quorvexan parsing engine leaks dossiers"
    )
    green = await file_accepted(
        client, members, sharing="TLP:GREEN", title="Zentharic routing engine drops ambulances"
    )
    headers = members.other_regulator.headers  # sees both levels
    refs = {amber["ref"]: "amber", green["ref"]: "green"}

    async def found(query: str) -> set[str]:
        response = await client.get("/api/v1/reports", params={"q": query}, headers=headers)
        assert response.status_code == 200, response.text
        return {refs[item["ref"]] for item in response.json()["items"] if item["ref"] in refs}

    assert await found("quorvexan") == {"amber"}  # the exact word is searched as usual
    assert await found("zentharic") == {"green"}
    assert await found("zentharik") == {"green"}  # a typo of a shared word is corrected
    assert await found("quorvexen") == set()  # a typo of an AMBER-only word is not
