"""The attacker's view of published aggregates: one TLP:RED report is planted (filed by a small
regulator through the API, accepted by the secretariat, later withdrawn), and families of
queries are asked with and without it. No answer may tell the two registries apart for a cell
below k; record-level filters and unions must not see it at all; a brief's coverage must not
name its filer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest

from incidents.app import create_app
from incidents.briefs.compute import compute
from incidents.briefs.schemas import BriefRequest
from incidents.config import Settings
from incidents.db import Database, create_engine
from incidents.synthetic.generate import generate
from incidents.taxonomy.service import TaxonomyRegistry
from incidents.trends.protection import Method
from tests.conftest import cloned_database, serve_in_process
from tests.factories import Member, Members, make_member, make_members, report_payload
from tests.registry import END

K = 5
WORD = "Zyxwvutsrq"
DEVELOPER = "Qponmlk Analytics"
YEARS = {"period": "year", "from": "2024-01-01", "to": "2026-01-01"}
QUARTERS = {"period": "quarter", "from": "2025-01-01", "to": "2026-07-01"}
MONTHS = {"period": "month", "from": "2025-01-01", "to": "2025-12-01"}
DIMENSIONS = ("severity", "country", "sector", "harm_type", "harm_subdomain")


class World(msgspec.Struct):
    client: httpx.AsyncClient
    database: Database
    url: str
    taxonomy: TaxonomyRegistry
    members: Members
    filer: Member
    """A small regulator (Tuvalu) that files one report in all."""


@pytest.fixture(scope="module")
async def world(
    server_url: str, template_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    async with cloned_database(server_url, template_url) as url:
        database = Database(create_engine(url, pool_size=5))
        taxonomy = TaxonomyRegistry()
        async with database.transaction() as connection:
            await taxonomy.refresh(connection, force=True)
            members = await make_members(connection)
            filer = await make_member(connection, "Tuvalu AI Office", "regulator", "TV")
        await generate(database, taxonomy.current, reports_wanted=1_500, seed=5, end=END)
        app = create_app(
            Settings(database_url=url, data_dir=tmp_path_factory.mktemp("attacks")),
            database=database,
        )
        async with serve_in_process(app) as client:
            yield World(client, database, url, taxonomy, members, filer)
        await database.dispose()


def _families(world: World, incident: str | None) -> list[dict[str, str]]:
    record_level: list[dict[str, str]] = []
    for by in ("", *DIMENSIONS):
        extra = {"by": by} if by else {}
        record_level += [
            {**YEARS, "q": WORD, **extra},
            {**YEARS, "q": DEVELOPER, **extra},
            {**YEARS, "q": "nothing-matches-this", **extra},
            {**YEARS, "organization": str(world.filer.organization.id), **extra},
            {**YEARS, "reporting_jurisdiction": "TV", **extra},
            {**YEARS, "sharing": "TLP:RED", **extra},
        ]
        if incident:
            record_level.append({**YEARS, "incident": incident, **extra})
    coarse: list[dict[str, str]] = []
    for span in (YEARS, QUARTERS, MONTHS):
        for by in ("", *DIMENSIONS):
            extra = {"by": by} if by else {}
            coarse += [
                {**span, "jurisdiction": "NR", **extra},
                {**span, "jurisdiction": "NR", "sector": "K", **extra},
                {**span, "jurisdiction": "NR", "severity": "disaster", **extra},
                {**span, "jurisdiction": "NR", "harm_domain": "7", **extra},
            ]
    coarse += [
        {**QUARTERS, "jurisdiction": "NR", "sector": "K", "severity": "disaster"},
        {**QUARTERS, "sub_region": "Micronesia", "by": "country"},
        {**QUARTERS, "region": "Oceania", "by": "severity"},
        {**YEARS, "region": "Oceania", "by": "country"},
    ]
    unions = [
        {**YEARS, "jurisdiction": "GH,NR"},
        {**YEARS, "jurisdiction": "NR,TV", "by": "severity"},
        {**YEARS, "sector": "J,K", "jurisdiction": "NR"},
    ]
    return record_level + unions + coarse


async def _ask(world: World, queries: list[dict[str, str]]) -> list[tuple[Any, Any]]:
    """(public answer, the secretariat's exact answer) for every query."""
    found = []
    for params in queries:
        public = await world.client.get("/api/v1/trends", params=params)
        exact = await world.client.get(
            "/api/v1/trends", params=params, headers=world.members.secretariat.headers
        )
        assert public.status_code == exact.status_code == 200, (params, public.text)
        found.append((public.json(), exact.json()))
    return found


def _figures(answer: Any) -> dict[tuple[Any, ...], tuple[Any, bool]]:
    figures = {}
    for part in ("cells", "totals"):
        for row in answer[part]:
            key = (part, *sorted((k, v) for k, v in row.items() if isinstance(v, str)))
            figures[key] = (row["incidents"], row["suppressed"])
    return figures


async def _plant(world: World) -> tuple[str, str]:
    """A TLP:RED report from Tuvalu about Nauru, accepted; returns (report, incident) refs."""
    payload = report_payload(
        title=f"{WORD} scoring system denied benefits",
        summary=f"An eligibility model by {DEVELOPER} denied benefits to islanders.",
        severity="disaster",
        harms=[{"domain": "7.6", "harm_type": "economic_property"}],
        ai_system={"name": "Atoll Scorer", "developer": DEVELOPER},
        sectors=["K"],
        affected_jurisdictions=["NR"],
        occurred_on="2025-05-10",
        detected_on="2025-05-12",
        sharing="TLP:RED",
        status="submitted",
    )
    filed = await world.client.post("/api/v1/reports", json=payload, headers=world.filer.headers)
    assert filed.status_code == 201, filed.text
    report = filed.json()["report"]
    secretariat = world.members.secretariat.headers
    for step in ("start-review", "accept"):
        done = await world.client.post(
            f"/api/v1/reports/{report['ref']}/{step}", json={}, headers=secretariat
        )
        assert done.status_code == 200, done.text
    return report["ref"], report["incident"]["ref"]


async def _withdraw(world: World, ref: str) -> None:
    response = await world.client.post(
        f"/api/v1/reports/{ref}/withdraw", json={}, headers=world.filer.headers
    )
    assert response.status_code == 200, response.text


async def test_no_answer_tells_the_registry_with_a_red_report_from_the_one_without(
    world: World,
) -> None:
    before = await _ask(world, _families(world, None))
    ref, incident = await _plant(world)
    queries = _families(world, incident)
    planted = await _ask(world, queries)
    await _withdraw(world, ref)
    after = await _ask(world, queries)
    # The families without the incident filter line up with `before`.
    without = [
        answer for answer, params in zip(after, queries, strict=True) if "incident" not in params
    ]
    assert [a for a, _ in without] == [a for a, _ in before], "withdrawn: as if never filed"
    compared = 0
    for params, (shown, exact), (shown_after, exact_after) in zip(
        queries, planted, after, strict=True
    ):
        if shown["population"] == "visible":
            # Record-level filters and unions count what the public may see: the RED report
            # is not there at all.
            assert shown == shown_after, params
            continue
        mine, theirs = _figures(shown), _figures(shown_after)
        true_with, true_without = _figures(exact), _figures(exact_after)
        assert mine.keys() == theirs.keys(), "categories come from the taxonomy"
        for key, figure in mine.items():
            small = true_with[key][0] < K or true_without[key][0] < K
            if small:
                assert figure == theirs[key] == (None, True), (params, key)
                compared += 1
    assert compared > 1000


async def test_a_brief_neither_counts_nor_names_a_lone_red_filer(world: World) -> None:
    method = Method(k=K, noise=2)
    requests = [
        BriefRequest(period="2025-Q2"),
        BriefRequest(period="2025-Q2", scope={"sub_region": "Micronesia"}),
        BriefRequest(period="2025-Q2", scope={"jurisdiction": "NR"}),
    ]
    before = [await compute(world.url, world.taxonomy, r, method) for r in requests]
    ref, _ = await _plant(world)
    try:
        planted = [await compute(world.url, world.taxonomy, r, method) for r in requests]
    finally:
        await _withdraw(world, ref)
    for old, new in zip(before, planted, strict=True):
        for coverage in new.tables["coverage"]:
            assert "TV" not in coverage["which"], "a lone RED filing names no jurisdiction"
        if new.scope:
            assert new.tables == old.tables, new.scope
            assert new.headline == old.headline


async def test_the_secretariat_reads_no_other_organizations_drafts_through_trends(
    world: World,
) -> None:
    payload = report_payload(title=f"{WORD} draft note", status="draft", sharing="TLP:GREEN")
    filed = await world.client.post(
        "/api/v1/reports", json=payload, headers=world.members.regulator.headers
    )
    assert filed.status_code == 201, filed.text
    for params in ({"status": "draft", "q": WORD}, {"status": "draft"}):
        body = (
            await world.client.get(
                "/api/v1/trends",
                params={**QUARTERS, **params},
                headers=world.members.secretariat.headers,
            )
        ).json()
        assert sum(row["incidents"] for row in body["totals"]) == 0, params
    own = (
        await world.client.get(
            "/api/v1/trends",
            params={**QUARTERS, "status": "draft", "q": WORD},
            headers=world.members.regulator.headers,
        )
    ).json()
    assert sum(row["incidents"] for row in own["totals"]) == 1, "the submitter sees its own"
