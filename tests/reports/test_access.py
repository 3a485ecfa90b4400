"""The access matrix, from the outside: every read endpoint x every role x every sharing level.

The regulator of Kenya files one accepted report per sharing level, plus a draft and a rejected
report. Each role must see exactly what product.md allows, through every way of reading.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.factories import Members
from tests.reports.helpers import file, file_accepted

LEVELS = ["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:RED"]
ROLES = ["public", "regulator", "same_jurisdiction", "other_regulator", "researcher", "secretariat"]

# What each role may see of another organization's (here: Kenya's regulator's) filed reports.
SEES = {
    "public": {"TLP:CLEAR"},
    "researcher": {"TLP:CLEAR", "TLP:GREEN"},
    "other_regulator": {"TLP:CLEAR", "TLP:GREEN", "TLP:AMBER"},
    "same_jurisdiction": {"TLP:CLEAR", "TLP:GREEN", "TLP:AMBER"},
    "secretariat": set(LEVELS),
    "regulator": set(LEVELS),
}


@dataclass
class Registry:
    by_level: dict[str, dict[str, Any]]
    draft: dict[str, Any]
    rejected: dict[str, Any]
    word: str

    def expected(self, role: str) -> set[str]:
        refs = {self.by_level[level]["ref"] for level in SEES[role]}
        if role == "regulator":
            refs |= {self.draft["ref"], self.rejected["ref"]}
        if role == "secretariat":
            refs.add(self.rejected["ref"])
        return refs

    def all_refs(self) -> set[str]:
        return {r["ref"] for r in self.by_level.values()} | {
            self.draft["ref"],
            self.rejected["ref"],
        }


@pytest.fixture
async def registry(client: httpx.AsyncClient, members: Members) -> Registry:
    word = "zanzibarquokka"  # a word only these reports contain, for search
    by_level = {}
    for level in LEVELS:
        by_level[level] = await file_accepted(
            client,
            members,
            sharing=level,
            title=f"Loan scoring {word} bias ({level})",
            ai_system={"name": f"Scorer {level}", "developer": "Lendtech"},
        )
    draft = (
        await file(
            client, members.regulator, status="draft", sharing="TLP:CLEAR", title=f"Draft {word}"
        )
    )["report"]
    rejected = (
        await file(client, members.regulator, sharing="TLP:CLEAR", title=f"Rejected {word}")
    )["report"]
    response = await client.post(
        f"/api/v1/reports/{rejected['ref']}/reject",
        json={"reason": "Not an AI system"},
        headers=members.secretariat.headers,
    )
    assert response.status_code == 200
    return Registry(by_level=by_level, draft=draft, rejected=rejected, word=word)


def headers_of(members: Members, role: str) -> dict[str, str]:
    return {} if role == "public" else getattr(members, role).headers


def refs_of(items: list[dict[str, Any]]) -> set[str]:
    return {item["ref"] for item in items}


@pytest.mark.parametrize("role", ROLES)
async def test_get_each_report(
    client: httpx.AsyncClient, members: Members, registry: Registry, role: str
) -> None:
    expected = registry.expected(role)
    for ref in registry.all_refs():
        response = await client.get(f"/api/v1/reports/{ref}", headers=headers_of(members, role))
        assert response.status_code == (200 if ref in expected else 404), (role, ref)
        if response.status_code == 404:
            assert registry.word not in response.text


@pytest.mark.parametrize("role", ROLES)
async def test_list_search_and_filters(
    client: httpx.AsyncClient, members: Members, registry: Registry, role: str
) -> None:
    headers = headers_of(members, role)
    everything = set()
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, "q": registry.word}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/api/v1/reports", params=params, headers=headers)).json()
        everything |= refs_of(page["items"])
        cursor = page["next"]
        if cursor is None:
            break
    assert everything == registry.expected(role)
    by_developer = await client.get("/api/v1/reports", params={"q": "Lendtech"}, headers=headers)
    assert refs_of(by_developer.json()["items"]) <= registry.expected(role)


@pytest.mark.parametrize("role", ROLES)
async def test_facet_counts(
    client: httpx.AsyncClient, members: Members, registry: Registry, role: str
) -> None:
    response = await client.get(
        "/api/v1/reports",
        params={"q": registry.word, "facets": "sharing,status"},
        headers=headers_of(members, role),
    )
    facets = response.json()["facets"]
    counted = {value["value"]: value["count"] for value in facets["sharing"]}
    expected = registry.expected(role)
    expected_levels: dict[str, int] = {}
    for level, report in registry.by_level.items():
        if report["ref"] in expected:
            expected_levels[level] = expected_levels.get(level, 0) + 1
    for extra in (registry.draft, registry.rejected):
        if extra["ref"] in expected:
            expected_levels["TLP:CLEAR"] = expected_levels.get("TLP:CLEAR", 0) + 1
    assert counted == expected_levels
    assert sum(value["count"] for value in facets["status"]) == len(expected)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("suffix", [".csv", ".ndjson"])
async def test_exports(
    client: httpx.AsyncClient, members: Members, registry: Registry, role: str, suffix: str
) -> None:
    response = await client.get(
        f"/api/v1/reports{suffix}", params={"q": registry.word}, headers=headers_of(members, role)
    )
    assert response.status_code == 200
    if suffix == ".csv":
        refs = {row["ref"] for row in csv.DictReader(io.StringIO(response.text))}
    else:
        refs = {
            line.split('"ref":"')[1].split('"')[0] for line in response.text.splitlines() if line
        }
    assert refs == registry.expected(role)


@pytest.mark.parametrize("role", ROLES)
async def test_incidents_list_get_and_export(
    client: httpx.AsyncClient, members: Members, registry: Registry, role: str
) -> None:
    headers = headers_of(members, role)
    listed = await client.get(
        "/api/v1/incidents", params={"q": registry.word, "limit": 50}, headers=headers
    )
    shown = {item["ref"]: item for item in listed.json()["items"]}
    reports_by_incident = {
        report["incident"]["ref"]: report
        for report in [*registry.by_level.values(), registry.draft, registry.rejected]
    }
    expected_incidents = {
        incident
        for incident, report in reports_by_incident.items()
        if report["ref"] in registry.expected(role)
    }
    assert set(shown) == expected_incidents
    for incident, report in reports_by_incident.items():
        response = await client.get(f"/api/v1/incidents/{incident}", headers=headers)
        if incident in expected_incidents:
            assert response.status_code == 200
            assert {line["ref"] for line in response.json()["reports"]} == {report["ref"]}
        else:
            assert response.status_code == 404, (role, incident)
            assert registry.word not in response.text
    exported = await client.get(
        "/api/v1/incidents.csv", params={"q": registry.word}, headers=headers
    )
    assert {row["ref"] for row in csv.DictReader(io.StringIO(exported.text))} == expected_incidents


@pytest.mark.parametrize("role", ROLES)
async def test_duplicate_suggestions_only_show_visible_incidents(
    client: httpx.AsyncClient, members: Members, registry: Registry, role: str
) -> None:
    probe_incident = registry.by_level["TLP:CLEAR"]["incident"]["ref"]
    response = await client.get(
        f"/api/v1/incidents/{probe_incident}/similar", headers=headers_of(members, role)
    )
    assert response.status_code == 200
    suggested = {item["incident"]["ref"] for item in response.json()["items"]}
    visible_incidents = {
        report["incident"]["ref"]
        for report in [*registry.by_level.values(), registry.draft, registry.rejected]
        if report["ref"] in registry.expected(role)
    }
    assert suggested <= visible_incidents - {probe_incident}
    # The other visible look-alikes (same title words, developer and dates) are all suggested.
    assert len(suggested) == min(5, len(visible_incidents) - 1)


async def test_new_report_suggestions_respect_sharing(
    client: httpx.AsyncClient, members: Members, registry: Registry
) -> None:
    # A researcher cannot file; another regulator filing a look-alike sees only what it may see.
    created = await file(
        client,
        members.other_regulator,
        title=f"Loan scoring {registry.word} bias",
        ai_system={"name": "Scorer TLP:RED", "developer": "Lendtech"},
        affected_jurisdictions=["BR"],
    )
    suggested = {item["incident"]["ref"] for item in created["possible_duplicates"]}
    red_incident = registry.by_level["TLP:RED"]["incident"]["ref"]
    assert red_incident not in suggested
    assert suggested
    assert suggested <= {
        registry.by_level[level]["incident"]["ref"] for level in SEES["other_regulator"]
    }


@pytest.mark.parametrize("role", ROLES)
async def test_revisions_follow_visibility(
    client: httpx.AsyncClient, members: Members, registry: Registry, role: str
) -> None:
    for level, report in registry.by_level.items():
        response = await client.get(
            f"/api/v1/reports/{report['ref']}/revisions", headers=headers_of(members, role)
        )
        visible = level in SEES[role]
        assert response.status_code == (200 if visible else 404), (role, level)
        if visible:
            assert [item["revision"] for item in response.json()["items"]] == [1]


async def test_a_researcher_cannot_file_and_the_public_cannot_write(
    client: httpx.AsyncClient, members: Members, registry: Registry
) -> None:
    from tests.factories import report_payload

    researcher = await client.post(
        "/api/v1/reports", json=report_payload(), headers=members.researcher.headers
    )
    assert researcher.status_code == 403
    public = await client.post("/api/v1/reports", json=report_payload())
    assert public.status_code == 401
    ref = registry.by_level["TLP:CLEAR"]["ref"]
    other = await client.patch(
        f"/api/v1/reports/{ref}",
        json={"title": "Hijacked"},
        headers={**members.other_regulator.headers, "If-Match": '"x"'},
    )
    assert other.status_code == 403
    same_country = await client.post(
        f"/api/v1/reports/{ref}/withdraw", headers=members.same_jurisdiction.headers
    )
    assert same_country.status_code == 403
    for path in ("accept", "reject", "start-review"):
        response = await client.post(
            f"/api/v1/reports/{ref}/{path}", json={"reason": "x"}, headers=members.regulator.headers
        )
        assert response.status_code == 403, path


async def test_a_draft_withdrawn_before_it_was_filed_stays_its_submitters(
    client: httpx.AsyncClient, members: Members
) -> None:
    from tests.factories import report_payload

    filed = await client.post(
        "/api/v1/reports",
        json=report_payload(title="Working notes never filed", status="draft"),
        headers=members.regulator.headers,
    )
    ref = filed.json()["report"]["ref"]
    withdrawn = await client.post(
        f"/api/v1/reports/{ref}/withdraw", headers=members.regulator.headers
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn"
    own = await client.get(f"/api/v1/reports/{ref}", headers=members.regulator.headers)
    assert own.status_code == 200
    for member in (members.secretariat, members.same_jurisdiction, members.researcher):
        response = await client.get(f"/api/v1/reports/{ref}", headers=member.headers)
        assert response.status_code == 404, member.organization.name
    listed = await client.get(
        "/api/v1/reports", params={"status": "withdrawn"}, headers=members.secretariat.headers
    )
    assert listed.status_code == 200, listed.text
    assert ref not in {item["ref"] for item in listed.json()["items"]}
