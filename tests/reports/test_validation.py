"""Each content rule, with the problem body naming the field; nothing is stored on failure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.reports.models import reports
from tests.factories import Members, report_payload
from tests.test_app import assert_problem

TOMORROW = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()

CASES: list[tuple[str, dict[str, Any], str, str]] = [
    ("unknown severity", {"severity": "catastrophic"}, "severity", "not a severity code"),
    ("code of another dimension", {"severity": "1.1"}, "severity", "not a severity code"),
    (
        "unknown harm domain",
        {"harms": [{"domain": "9.9", "harm_type": "other"}]},
        "harms[0].domain",
        "not a harm_domain",
    ),
    (
        "unknown harm type",
        {"harms": [{"domain": "1", "harm_type": "boredom"}]},
        "harms[0].harm_type",
        "not a harm_type",
    ),
    (
        "unknown affected group",
        {"harms": [{"domain": "1", "harm_type": "other", "affected_groups": ["aliens"]}]},
        "harms[0].affected_groups[0]",
        "not an affected_group",
    ),
    ("unknown sector", {"sectors": ["Z"]}, "sectors[0]", "not a sector"),
    (
        "unknown system type",
        {"ai_system": {"name": "X", "system_type": "quantum"}},
        "ai_system.system_type",
        "not an ai_system_type",
    ),
    (
        "unknown task",
        {"ai_system": {"name": "X", "tasks": ["juggling"]}},
        "ai_system.tasks[0]",
        "not an ai_task",
    ),
    (
        "unknown country",
        {"affected_jurisdictions": ["XX"]},
        "affected_jurisdictions[0]",
        "not an ISO",
    ),
    (
        "lower-case country",
        {"affected_jurisdictions": ["ke"]},
        "affected_jurisdictions[0]",
        "Expected an ISO 3166-1 alpha-2 country code in capitals, such as KE",
    ),
    (
        "occurred in the future",
        {"occurred_on": TOMORROW, "detected_on": None},
        "occurred_on",
        "future",
    ),
    ("detected in the future", {"detected_on": TOMORROW}, "detected_on", "future"),
    (
        "detected before it occurred",
        {"occurred_on": "2026-03-14", "detected_on": "2026-03-01"},
        "detected_on",
        "before occurred_on",
    ),
    ("impossible date", {"occurred_on": "2026-02-30"}, "occurred_on", "not a real date"),
    (
        "malformed partial date",
        {"occurred_on": "March 2026"},
        "occurred_on",
        "Expected a date as YYYY-MM-DD, or YYYY-MM / YYYY",
    ),
    (
        "EU category on a hazard",
        {"event_type": "hazard", "severity": "hazard"},
        "eu_serious_incident",
        "apply to incidents",
    ),
    (
        "deaths in a hazard",
        {"event_type": "hazard", "severity": "hazard", "eu_serious_incident": [], "deaths": 2},
        "deaths",
        "no harm occurred",
    ),
    ("blank title", {"title": "   "}, "title", "blank"),
    ("title too long", {"title": "x" * 301}, "title", "Must have at most 300 characters"),
    ("no harms", {"harms": []}, "harms", "at least one harm"),
    ("harm without a type", {"harms": [{"domain": "1.1"}]}, "harms[0].harm_type", "required"),
    (
        "too many harms",
        {"harms": [{"domain": "1", "harm_type": "other"}] * 21},
        "harms",
        "at most 20 items",
    ),
    ("negative deaths", {"deaths": -1}, "deaths", "Must be a whole number, 0 or more"),
    (
        "source without url or reference",
        {"sources": [{"title": "A source"}]},
        "sources[0]",
        "url or a document",
    ),
    (
        "non-http source",
        {"sources": [{"url": "ftp://example.org/x"}]},
        "sources[0].url",
        "Expected an http:// or https:// address",
    ),
    ("bad language tag", {"language": "english!"}, "language", "Expected a language tag"),
    (
        "unknown sharing level",
        {"sharing": "TLP:PURPLE"},
        "sharing",
        "'TLP:PURPLE' is not one of: TLP:CLEAR, TLP:GREEN, TLP:AMBER, TLP:RED",
    ),
    ("unknown field", {"colour": "red"}, "colour", "Unknown field"),
    ("missing ai system", {"ai_system": None}, "ai_system", "Expected an object"),
    ("unknown taxonomy version", {"taxonomy_version": 42}, "taxonomy_version", "No released"),
]


@pytest.mark.parametrize(
    ("case", "overrides", "field", "message"), CASES, ids=[c[0] for c in CASES]
)
async def test_each_rule_names_its_field(
    client: httpx.AsyncClient,
    members: Members,
    connection: AsyncConnection,
    case: str,
    overrides: dict[str, Any],
    field: str,
    message: str,
) -> None:
    before = (await connection.execute(select(func.count()).select_from(reports))).scalar_one()
    response = await client.post(
        "/api/v1/reports", json=report_payload(**overrides), headers=members.regulator.headers
    )
    body = assert_problem(response, 422)
    matching = [error for error in body["errors"] if error["field"] == field]
    assert matching, body["errors"]
    assert message.lower() in matching[0]["message"].lower(), matching
    after = (await connection.execute(select(func.count()).select_from(reports))).scalar_one()
    assert after == before


async def test_every_violation_is_listed_at_once(
    client: httpx.AsyncClient, members: Members
) -> None:
    payload = report_payload(
        severity="nope",
        sectors=["Z", "J"],
        affected_jurisdictions=["KE", "QQ"],
        detected_on="2026-01-01",
        harms=[
            {"domain": "1.1", "harm_type": "psychological"},
            {"domain": "8", "harm_type": "nope"},
        ],
    )
    body = assert_problem(
        await client.post("/api/v1/reports", json=payload, headers=members.regulator.headers), 422
    )
    fields = {error["field"] for error in body["errors"]}
    assert fields == {
        "severity",
        "sectors[0]",
        "affected_jurisdictions[1]",
        "detected_on",
        "harms[1].domain",
        "harms[1].harm_type",
    }


async def test_every_structural_error_is_listed_at_once(
    client: httpx.AsyncClient, members: Members
) -> None:
    payload = report_payload(title="", deaths="many", sharing="secret")
    del payload["summary"]
    body = assert_problem(
        await client.post("/api/v1/reports", json=payload, headers=members.regulator.headers), 422
    )
    assert {error["field"] for error in body["errors"]} == {"title", "summary", "deaths", "sharing"}


async def test_partial_dates_keep_their_precision(
    client: httpx.AsyncClient, members: Members
) -> None:
    for occurred in ("2025", "2025-11", "2025-11-03"):
        created = await client.post(
            "/api/v1/reports",
            json=report_payload(occurred_on=occurred, detected_on="2025-12-01"),
            headers=members.regulator.headers,
        )
        assert created.status_code == 201, created.text
        assert created.json()["report"]["occurred_on"] == occurred
    month = await client.post(
        "/api/v1/reports",
        json=report_payload(occurred_on="2025-11", detected_on="2025-11-02"),
        headers=members.regulator.headers,
    )
    assert month.status_code == 201, "detected inside the month it occurred in is coherent"


async def test_a_retired_code_is_refused_under_the_version_that_retired_it(
    client: httpx.AsyncClient,
    members: Members,
    tmp_path: Any,
) -> None:
    import msgspec

    from incidents.taxonomy.files import read_directory
    from tests.taxonomy.helpers import make_version_2

    document = msgspec.to_builtins(read_directory(make_version_2(tmp_path / "v2")))
    loaded = await client.post(
        "/api/v1/taxonomy/versions", json=document, headers=members.secretariat.headers
    )
    assert loaded.status_code == 201
    system = {"name": "Sensor", "tasks": ["event_detection"]}
    refused = await client.post(
        "/api/v1/reports", json=report_payload(ai_system=system), headers=members.regulator.headers
    )
    body = assert_problem(refused, 422)
    assert "retired" in body["errors"][0]["message"]
    assert "anomaly_detection" in body["errors"][0]["message"]
    under_v1 = await client.post(
        "/api/v1/reports",
        json=report_payload(ai_system=system, taxonomy_version=1),
        headers=members.regulator.headers,
    )
    assert under_v1.status_code == 201
    # Filtering by the new code finds the report coded with the code it replaced.
    found = await client.get(
        "/api/v1/reports",
        params={"ai_task": "anomaly_detection"},
        headers=members.regulator.headers,
    )
    assert found.status_code == 200, found.text
    assert under_v1.json()["report"]["ref"] in {item["ref"] for item in found.json()["items"]}
