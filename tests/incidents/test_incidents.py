"""Incidents: linking on filing, moving and merging with redirects, cross-border, similar."""

from __future__ import annotations

from typing import Any

import httpx

from tests.factories import Members
from tests.reports.helpers import file, file_accepted
from tests.test_app import assert_problem


async def test_a_report_opens_an_incident_or_links_to_one(
    client: httpx.AsyncClient, members: Members
) -> None:
    first = (await file(client, members.regulator))["report"]
    linked = (
        await file(
            client,
            members.other_regulator,
            incident=first["incident"]["ref"],
            affected_jurisdictions=["BR"],
        )
    )["report"]
    assert linked["incident"]["ref"] == first["incident"]["ref"]
    incident = (
        await client.get(
            f"/api/v1/incidents/{first['incident']['ref']}", headers=members.secretariat.headers
        )
    ).json()
    assert incident["report_count"] == 2
    assert incident["jurisdictions"] == ["BR", "KE"]
    assert incident["cross_border"] is True
    cross = await client.get(
        "/api/v1/incidents",
        params={"cross_border": "true", "limit": 200},
        headers=members.secretariat.headers,
    )
    assert first["incident"]["ref"] in {item["ref"] for item in cross.json()["items"]}
    domestic = await client.get(
        "/api/v1/incidents",
        params={"cross_border": "false", "limit": 200},
        headers=members.secretariat.headers,
    )
    assert first["incident"]["ref"] not in {item["ref"] for item in domestic.json()["items"]}


async def test_linking_to_an_incident_you_cannot_see_is_refused(
    client: httpx.AsyncClient, members: Members
) -> None:
    secret = (await file(client, members.regulator, sharing="TLP:RED"))["report"]
    response = await client.post(
        "/api/v1/reports",
        json={**(await _payload()), "incident": secret["incident"]["ref"]},
        headers=members.other_regulator.headers,
    )
    body = assert_problem(response, 422)
    assert body["errors"][0]["field"] == "incident"


async def _payload() -> dict[str, object]:
    from tests.factories import report_payload

    return report_payload(affected_jurisdictions=["BR"])


async def test_the_secretariat_moves_a_report_and_merges_incidents_with_a_lasting_redirect(
    client: httpx.AsyncClient, members: Members
) -> None:
    a = await file_accepted(client, members, sharing="TLP:CLEAR")
    b = await file_accepted(
        client, members, members.other_regulator, sharing="TLP:CLEAR", affected_jurisdictions=["BR"]
    )
    c = await file_accepted(client, members, sharing="TLP:CLEAR")
    refused = await client.post(
        f"/api/v1/incidents/{b['incident']['ref']}/merge",
        json={"into": a["incident"]["ref"]},
        headers=members.regulator.headers,
    )
    assert_problem(refused, 403)
    merged = await client.post(
        f"/api/v1/incidents/{b['incident']['ref']}/merge",
        json={"into": a["incident"]["ref"]},
        headers=members.secretariat.headers,
    )
    assert merged.status_code == 200, merged.text
    assert merged.json()["ref"] == a["incident"]["ref"]
    assert merged.json()["report_count"] == 2
    redirect = await client.get(f"/api/v1/incidents/{b['incident']['ref']}")
    assert redirect.status_code == 308
    assert redirect.headers["location"] == f"/api/v1/incidents/{a['incident']['ref']}"
    # Merging the survivor later keeps the first redirect one hop long.
    await client.post(
        f"/api/v1/incidents/{a['incident']['ref']}/merge",
        json={"into": c["incident"]["ref"]},
        headers=members.secretariat.headers,
    )
    chained = await client.get(f"/api/v1/incidents/{b['incident']['ref']}")
    assert chained.headers["location"] == f"/api/v1/incidents/{c['incident']['ref']}"
    survivor = (await client.get(f"/api/v1/incidents/{c['incident']['ref']}")).json()
    assert {line["ref"] for line in survivor["reports"]} == {a["ref"], b["ref"], c["ref"]}
    again = await client.post(
        f"/api/v1/incidents/{b['incident']['ref']}/merge",
        json={"into": c["incident"]["ref"]},
        headers=members.secretariat.headers,
    )
    assert_problem(again, 409)
    itself = await client.post(
        f"/api/v1/incidents/{c['incident']['ref']}/merge",
        json={"into": b["incident"]["ref"]},
        headers=members.secretariat.headers,
    )
    assert_problem(itself, 422)
    # Filing against a merged reference links to the survivor.
    late = (await file(client, members.regulator, incident=b["incident"]["ref"]))["report"]
    assert late["incident"]["ref"] == c["incident"]["ref"]
    moved = await client.post(
        f"/api/v1/reports/{a['ref']}/move",
        json={"incident": None},
        headers=members.secretariat.headers,
    )
    assert moved.status_code == 200
    assert moved.json()["incident"]["ref"] not in {
        a["incident"]["ref"],
        b["incident"]["ref"],
        c["incident"]["ref"],
    }


async def test_similar_incidents_with_scores_and_reasons(
    client: httpx.AsyncClient, members: Members
) -> None:
    base = await file_accepted(
        client,
        members,
        title="Chatbot gives dangerous medical dosage advice to patients",
        ai_system={"name": "MediChat", "developer": "HealthAI"},
        occurred_on="2026-05-02",
        detected_on="2026-05-03",
    )
    unrelated = await file_accepted(
        client,
        members,
        title="Warehouse robot arm crushes pallet",
        ai_system={"name": "ArmBot", "developer": "Robotix"},
        occurred_on="2021-01-10",
        detected_on="2021-01-12",
        affected_jurisdictions=["NG"],
    )
    created = await file(
        client,
        members.other_regulator,
        title="Medical chatbot gives dangerous dosage advice",
        ai_system={"name": "MediChat", "developer": "HealthAI"},
        occurred_on="2026-05-04",
        detected_on="2026-05-05",
        affected_jurisdictions=["KE", "BR"],
    )
    suggestions = created["possible_duplicates"]
    assert suggestions[0]["incident"]["ref"] == base["incident"]["ref"]
    reasons = " | ".join(suggestions[0]["reasons"])
    for expected in (
        "similar title",
        "same AI system: MediChat",
        "same developer: HealthAI",
        "occurred close in time",
        "shared jurisdictions: KE",
    ):
        assert expected in reasons
    assert 0 < suggestions[0]["score"] <= 1
    assert unrelated["incident"]["ref"] not in {s["incident"]["ref"] for s in suggestions}
    on_demand = await client.get(
        f"/api/v1/incidents/{created['report']['incident']['ref']}/similar",
        headers=members.secretariat.headers,
    )
    assert on_demand.json()["items"][0]["incident"]["ref"] == base["incident"]["ref"]


async def test_unknown_incident_is_404(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/incidents/INC-1999-999999"), 404)


async def test_references_keep_every_digit_past_a_million(
    committed_database_url: str, tmp_path: Any
) -> None:
    from sqlalchemy import text

    from incidents.app import create_app
    from incidents.config import Settings
    from incidents.db import Database, create_engine
    from tests.conftest import serve_in_process
    from tests.factories import make_members, report_payload

    database = Database(create_engine(committed_database_url, pool_size=2))
    async with database.transaction() as connection:
        members = await make_members(connection)
        await connection.execute(text("SELECT setval('report_numbers', 1234566)"))
        await connection.execute(text("SELECT setval('incident_numbers', 999999)"))
    async with serve_in_process(
        create_app(Settings(data_dir=tmp_path), database=database)
    ) as client:
        created = await client.post(
            "/api/v1/reports", json=report_payload(), headers=members.regulator.headers
        )
        report = created.json()["report"]
        assert report["ref"].endswith("-1234567")
        assert report["incident"]["ref"].endswith("-1000000")
        assert (
            await client.get(f"/api/v1/reports/{report['ref']}", headers=members.regulator.headers)
        ).status_code == 200
    await database.dispose()
