"""Risk briefs end to end: from a generated registry to HTML, PDF and data files that regenerate
identically, protected and audited, through the editorial workflow over the API."""

from __future__ import annotations

import asyncio
import io
import zipfile
from typing import Any

import httpx
import msgspec
import polars as pl
from pypdf import PdfReader

from incidents.briefs.compute import compute
from incidents.briefs.documents import data_files
from incidents.briefs.schemas import BriefRequest
from incidents.trends.periods import current_period
from incidents.trends.protection import Method
from tests.registry import Registry
from tests.test_app import assert_problem

PERIOD = "2026-Q2"
METHOD = Method(k=5, noise=2)
COUNT_COLUMNS = ("incidents", "previous_incidents", "year_ago_incidents", "history_incidents")


async def test_a_brief_regenerates_identically_and_passes_its_audit(registry: Registry) -> None:
    request = BriefRequest(period=PERIOD)
    first = await compute(registry.url, registry.taxonomy, request, METHOD)
    second = await compute(registry.url, registry.taxonomy, request, METHOD)
    assert data_files(first) == data_files(second)
    assert first.input_hash == second.input_hash
    assert first.audit.passed, first.audit
    assert first.audit.protected_cells > 0
    assert first.audit.narrowest is not None
    assert first.audit.narrowest >= METHOD.k
    headline = first.headline
    assert headline["incidents"] > 0
    trend = first.tables["trend"]
    assert [row["period"] for row in trend][-1] == PERIOD
    assert trend[-1]["incidents"] == headline["incidents"]
    severities = [row["severity"] for row in first.tables["severity"]]
    assert severities == ["hazard", "serious_hazard", "incident", "serious_incident", "disaster"]
    assert len(first.tables["emerging_risks"]) == 24, "every subdomain of the taxonomy is tested"


async def test_every_count_of_a_brief_is_published_above_the_band_or_marked(
    registry: Registry,
) -> None:
    made = await compute(
        registry.url,
        registry.taxonomy,
        BriefRequest(period=PERIOD, scope={"region": "Oceania"}),
        METHOD,
    )
    assert {"sub_regions", "countries"} <= set(made.tables), "the scope's own breakdown"
    oceania = [row["country"] for row in made.tables["countries"]]
    assert {"AU", "NZ", "FJ", "NR"} <= set(oceania), "every country of the region is listed"
    marked = 0
    for name, rows in made.tables.items():
        for row in rows:
            for column in COUNT_COLUMNS:
                if column not in row:
                    continue
                status = row[column.replace("incidents", "status")]
                if row[column] is None:
                    assert status in {"below_k", "withheld"}, (name, row)
                    marked += 1
                else:
                    assert status == "published"
                    assert row[column] >= METHOD.k, (name, row)
    assert marked > 0, "Oceania has small cells"
    _, archive = data_files(made)
    countries = pl.read_csv(io.BytesIO(zipfile.ZipFile(io.BytesIO(archive)).read("countries.csv")))
    assert "status" in countries.columns, "a column, not a blank, marks the band"


async def test_the_method_notes_state_the_parameters_used(registry: Registry) -> None:
    made = await compute(registry.url, registry.taxonomy, BriefRequest(period=PERIOD), METHOD)
    notes = " ".join(made.notes)
    assert "fewer than 5" in notes
    assert "at least 4" not in notes
    assert "between -2 and +2" in notes
    assert "Result: passed" in notes
    assert "12 quarters" in notes
    assert "affected" in notes


async def test_periods_future_unfinished_and_provisional(
    live: httpx.AsyncClient, registry: Registry
) -> None:
    secretariat = registry.members.secretariat.headers
    now = current_period("quarter")
    this = f"{now.year}-Q{(now.month - 1) // 3 + 1}"
    following = f"{now.year + 1}-Q1"
    for body, message in (
        ({"period": following}, "has not begun"),
        ({"period": this}, "provisional"),
    ):
        problem = assert_problem(
            await live.post("/api/v1/briefs", json=body, headers=secretariat), 422
        )
        assert message in problem["errors"][0]["message"]
    made = await compute(
        registry.url, registry.taxonomy, BriefRequest(period=this, provisional=True), METHOD
    )
    assert made.provisional
    assert made.days_compared is not None
    assert made.days_compared >= 1
    assert "Provisional" in made.notes[0]


async def test_a_brief_scope_takes_coarse_dimensions_only(
    live: httpx.AsyncClient, registry: Registry
) -> None:
    secretariat = registry.members.secretariat.headers
    for scope, field in (
        ({"q": "facial"}, "scope.q"),
        ({"organization": "x"}, "scope.organization"),
        ({"colour": "red"}, "scope.colour"),
        ({"region": "Africa,Asia"}, "scope.region"),
        ({"region": "Atlantis"}, "region"),
    ):
        response = await live.post(
            "/api/v1/briefs", json={"period": PERIOD, "scope": scope}, headers=secretariat
        )
        assert field in {e["field"] for e in assert_problem(response, 422)["errors"]}, scope


async def test_a_brief_in_another_language_is_published_beside_not_over_the_first(
    live: httpx.AsyncClient, registry: Registry
) -> None:
    secretariat = registry.members.secretariat.headers
    scope = {"region": "Asia"}
    published = {}
    for language in ("en", "fr"):
        made = await _made(live, secretariat, scope=scope, language=language)
        await live.patch(
            made,
            json={"issuing_body": "Secretariat", "issued_on": "2026-12-02"},
            headers=secretariat,
        )
        assert (await live.post(f"{made}/approve", headers=secretariat)).status_code == 200
        answer = (await live.post(f"{made}/publish", headers=secretariat)).json()
        assert answer["version"] == 1, "each language is a series of its own"
        published[language] = made
    for language, location in published.items():
        shown = (await live.get(location)).json()
        assert shown["status"] == "published", (language, shown["status"])
    again = await _made(live, secretariat, scope=scope, language="fr")
    await live.patch(
        again, json={"issuing_body": "Secretariat", "issued_on": "2026-12-03"}, headers=secretariat
    )
    await live.post(f"{again}/approve", headers=secretariat)
    assert (await live.post(f"{again}/publish", headers=secretariat)).json()["version"] == 2
    assert (await live.get(published["fr"])).json()["status"] == "superseded"
    assert (await live.get(published["en"])).json()["status"] == "published"


async def _made(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> str:
    queued = await client.post("/api/v1/briefs", json={"period": PERIOD, **body}, headers=headers)
    assert queued.status_code == 202, queued.text
    location: str = queued.headers["location"]
    for _ in range(600):
        status = (await client.get(location, headers=headers)).json()
        if status["status"] not in {"queued", "running"}:
            assert status["status"] == "draft", status
            return location
        await asyncio.sleep(0.1)
    raise AssertionError("the brief never finished")


async def test_the_editorial_workflow_over_the_api(
    live: httpx.AsyncClient, registry: Registry
) -> None:
    secretariat = registry.members.secretariat.headers
    assert_problem(
        await live.post(
            "/api/v1/briefs", json={"period": PERIOD}, headers=registry.members.regulator.headers
        ),
        403,
    )
    first = await _made(live, secretariat, scope={"region": "Africa"})
    assert (await live.get(first)).status_code == 404, "a draft is not public"
    assert (
        await live.get(f"{first}/brief.pdf", headers=registry.members.researcher.headers)
    ).status_code == 404
    problem = assert_problem(await live.post(f"{first}/approve", headers=secretariat), 409)
    assert "issuing body" in problem["detail"]
    edited = await live.patch(
        first,
        json={
            "executive_summary": (
                "# Key points\n\nIncidents **rose**.\n\n- one\n- two\n\n<script>x</script>"
            ),
            "issuing_body": "Secretariat of the cooperation body",
            "issued_on": "2026-11-30",
        },
        headers=secretariat,
    )
    assert edited.status_code == 200, edited.text
    page = (await live.get(f"{first}/brief.html", headers=secretariat)).text
    assert "<strong>rose</strong>" in page
    assert "<script>" not in page, "Markdown passes no raw HTML"
    assert "Draft: not approved for circulation" in page
    assert (await live.post(f"{first}/approve", headers=secretariat)).json()["status"] == "approved"
    published = (await live.post(f"{first}/publish", headers=secretariat)).json()
    assert published["status"] == "published"
    assert published["version"] == 1
    public = (await live.get(first)).json()
    assert "created_by" not in public, "no key or user names in public"
    listed = (await live.get("/api/v1/briefs")).json()["items"]
    assert all("created_by" not in item for item in listed)
    assert first.rsplit("/", 1)[1] in {item["id"] for item in listed}
    public_page = (await live.get(f"{first}/brief.html")).text
    assert "Secretariat of the cooperation body" in public_page
    assert "Draft" not in public_page
    pdf = PdfReader(io.BytesIO((await live.get(f"{first}/brief.pdf")).content))
    assert len(pdf.pages) >= 2
    assert "Key points" in pdf.pages[0].extract_text()

    second = await _made(live, secretariat, scope={"region": "Africa"})
    await live.patch(
        second, json={"issuing_body": "Secretariat", "issued_on": "2026-12-01"}, headers=secretariat
    )
    await live.post(f"{second}/approve", headers=secretariat)
    newer = (await live.post(f"{second}/publish", headers=secretariat)).json()
    assert newer["version"] == 2
    older = (await live.get(first)).json()
    assert older["status"] == "superseded"
    assert older["links"]["superseded_by"] == second
    assert "Superseded" in (await live.get(f"{first}/brief.html")).text

    retracted = await live.post(
        f"{second}/retract",
        json={"notice": "A counting error in Western Africa."},
        headers=secretariat,
    )
    assert retracted.json()["status"] == "retracted"
    notice = await live.get(f"{second}/brief.html")
    assert notice.status_code == 200
    assert "A counting error in Western Africa." in notice.text
    assert_problem(await live.get(f"{second}/brief.pdf"), 410)
    assert_problem(await live.delete(second, headers=secretariat), 409)
    assert_problem(await live.patch(first, json={"issuing_body": "x"}, headers=secretariat), 409)

    draft = await _made(live, secretariat)
    assert (await live.delete(draft, headers=secretariat)).status_code == 204
    assert_problem(await live.get(draft, headers=secretariat), 404)
    data = msgspec.json.decode((await live.get(f"{first}/data.json")).content)
    assert data["scope"] == {"region": "Africa"}
