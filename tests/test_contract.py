"""The contract a client relies on: typed answers in the OpenAPI document, downloads as their
own operations, orders that follow submission time, plain messages, conflicts named alike,
links proposed after a rejection, CSV a spreadsheet can open safely."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx

from tests.factories import Members, report_payload
from tests.reports.helpers import file, file_accepted
from tests.test_app import assert_problem


async def test_every_2xx_answer_has_a_typed_schema(client: httpx.AsyncClient) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    untyped = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if not status.startswith("2"):
                    continue
                for media, body in response.get("content", {}).items():
                    schema = body.get("schema", {})
                    opaque = schema == {} or (
                        schema.get("type") == "object" and not schema.get("properties")
                    )
                    if media == "application/json" and (opaque or schema.get("type") == "string"):
                        untyped.append(f"{method.upper()} {path} {status}")
    assert untyped == []


async def test_downloads_are_operations_of_their_own_with_their_media_types(
    client: httpx.AsyncClient,
) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    expected = {
        "csv": "text/csv",
        "ndjson": "application/x-ndjson",
        "parquet": "application/vnd.apache.parquet",
    }
    for noun in ("reports", "incidents"):
        for suffix, media in expected.items():
            operation = paths[f"/api/v1/{noun}.{suffix}"]["get"]
            assert operation["operationId"] == f"Download{noun.capitalize()}{suffix.capitalize()}"
            assert list(operation["responses"]["200"]["content"]) == [media]
            names = {parameter["name"] for parameter in operation["parameters"]}
            assert {"severity", "q", "harm_domain"} <= names
            assert not names & {"cursor", "limit", "sort"}, "a download holds every match"


async def test_taxonomy_versions_answer_what_their_schema_says(client: httpx.AsyncClient) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    reference = document["paths"]["/api/v1/taxonomy/versions"]["get"]["responses"]["200"][
        "content"
    ]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][reference.rsplit("/", 1)[1]]
    answer = (await client.get("/api/v1/taxonomy/versions")).json()
    assert set(answer) == set(schema["properties"])
    item_schema = document["components"]["schemas"]["VersionSummary"]
    assert set(answer["items"][0]) == set(item_schema["properties"])


async def test_one_charset_in_a_csv_content_type(
    client: httpx.AsyncClient, members: Members
) -> None:
    # (The trends CSV takes its media type from the same table, formats.MEDIA_TYPES; it reads
    # through a database URL of its own, which this in-process app has not.)
    for path in ("/api/v1/reports.csv", "/api/v1/incidents.csv"):
        response = await client.get(path, headers=members.secretariat.headers)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "text/csv; charset=utf-8", path


async def test_csv_cells_cannot_become_formulas_and_labels_stand_beside_codes(
    client: httpx.AsyncClient, members: Members
) -> None:
    dangerous = ['=HYPERLINK("http://x")', "+41 22", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]
    for title in dangerous:
        await file_accepted(client, members, title=title, ai_system={"name": "=cmd|' /C calc'!A0"})
    response = await client.get("/api/v1/reports.csv", headers=members.secretariat.headers)
    rows = list(csv.DictReader(io.StringIO(response.text, newline="")))
    assert sorted(row["title"] for row in rows) == sorted("'" + title for title in dangerous)
    assert {row["ai_system"] for row in rows} == {"'=cmd|' /C calc'!A0"}
    first = rows[0]
    assert first["severity"] == "serious_incident"
    assert first["severity_label"] == "Serious AI incident"
    assert first["harm_domains"] == "1.1"
    assert first["harm_domains_labels"].startswith("Unfair discrimination")
    assert first["sectors"] == "H"
    assert first["sectors_labels"].lower().startswith("transport")
    assert first["affected_jurisdictions_names"] == "Kenya"
    assert first["people_affected"] == "120", "numbers are data, never neutralised"
    incidents = await client.get("/api/v1/incidents.csv", headers=members.secretariat.headers)
    incident_rows = list(csv.DictReader(io.StringIO(incidents.text, newline="")))
    assert incident_rows[0]["severity_label"] == "Serious AI incident"
    assert incident_rows[0]["title"].startswith("'")


async def test_newest_follows_submission_time_not_the_reference_number(
    client: httpx.AsyncClient, members: Members
) -> None:
    draft = (await file(client, members.regulator, title="Filed as a draft", status="draft"))[
        "report"
    ]
    submitted = (await file(client, members.regulator, title="Submitted at once"))["report"]
    resubmitted = await client.post(
        f"/api/v1/reports/{draft['ref']}/submit", headers=members.regulator.headers
    )
    assert resubmitted.status_code == 200
    # The draft has the smaller number but was submitted last: it is the newest.
    newest = await client.get("/api/v1/reports?sort=newest", headers=members.regulator.headers)
    assert [item["ref"] for item in newest.json()["items"]] == [draft["ref"], submitted["ref"]]
    oldest = await client.get("/api/v1/reports?sort=oldest", headers=members.regulator.headers)
    assert [item["ref"] for item in oldest.json()["items"]] == [submitted["ref"], draft["ref"]]
    # And one per page, the cursor carries the submission time.
    page = await client.get("/api/v1/reports?limit=1", headers=members.regulator.headers)
    rest = await client.get(
        f"/api/v1/reports?limit=1&cursor={page.json()['next']}", headers=members.regulator.headers
    )
    assert [page.json()["items"][0]["ref"], rest.json()["items"][0]["ref"]] == [
        draft["ref"],
        submitted["ref"],
    ]


async def test_the_incident_list_sorts_newest_or_oldest_first(
    client: httpx.AsyncClient, members: Members
) -> None:
    refs = [
        (await file_accepted(client, members, title=f"Event {n}"))["incident"]["ref"]
        for n in range(3)
    ]
    seen = members.secretariat.headers
    newest = await client.get("/api/v1/incidents?sort=newest&limit=2", headers=seen)
    oldest = await client.get("/api/v1/incidents?sort=oldest&limit=2", headers=seen)
    following = await client.get(
        f"/api/v1/incidents?sort=oldest&cursor={oldest.json()['next']}", headers=seen
    )
    assert [item["ref"] for item in newest.json()["items"]] == refs[::-1][:2]
    assert [item["ref"] for item in oldest.json()["items"]] == refs[:2]
    assert [item["ref"] for item in following.json()["items"]] == refs[2:]
    assert "sort=oldest" in oldest.headers["link"]
    body = assert_problem(await client.get("/api/v1/incidents?sort=occurred"), 422)
    assert body["errors"][0]["message"] == "'occurred' is not one of: newest, oldest"


async def test_reject_without_a_body_names_the_missing_reason(
    client: httpx.AsyncClient, members: Members
) -> None:
    ref = (await file(client, members.regulator))["report"]["ref"]
    for body in (None, b"{}"):
        response = await client.post(
            f"/api/v1/reports/{ref}/reject",
            content=body,
            headers={**members.secretariat.headers, "content-type": "application/json"},
        )
        problem = assert_problem(response, 422)
        assert problem["errors"] == [{"field": "reason", "message": "Required field is missing"}]
    still = await client.get(f"/api/v1/reports/{ref}", headers=members.regulator.headers)
    assert still.json()["status"] == "submitted"


async def test_messages_are_plain_words_with_the_allowed_values(
    client: httpx.AsyncClient, members: Members
) -> None:
    response = await client.post(
        "/api/v1/reports",
        json=report_payload(
            sharing="TLP:PINK",
            event_type="accident",
            occurred_on="14 March",
            affected_jurisdictions=["kenya"],
            harms=[{"domain": "1.1", "harm_type": "human_rights", "affected_groups": ["x"]}],
        ),
        headers=members.regulator.headers,
    )
    errors = {error["field"]: error["message"] for error in assert_problem(response, 422)["errors"]}
    for message in errors.values():
        assert not set("`^$") & set(message), message
        assert "regex" not in message
    assert errors["sharing"] == "'TLP:PINK' is not one of: TLP:CLEAR, TLP:GREEN, TLP:AMBER, TLP:RED"
    assert errors["event_type"] == "'accident' is not one of: incident, hazard"
    listed = await client.get(
        "/api/v1/reports?affected_group=x&limit=0", headers=members.regulator.headers
    )
    for error in assert_problem(listed, 422)["errors"]:
        assert "regex" not in error["message"]
        assert "`" not in error["message"]
    filtered = await client.get(
        "/api/v1/reports?affected_group=x", headers=members.regulator.headers
    )
    message = assert_problem(filtered, 422)["errors"][0]["message"]
    assert message.startswith("'x' is not an affected_group code; allowed: ")
    assert "children" in message


async def test_a_submitter_proposes_the_incident_a_rejection_names_and_acceptance_links_it(
    client: httpx.AsyncClient, members: Members
) -> None:
    existing = await file_accepted(client, members, title="Metro gate misidentifications")
    incident = existing["incident"]["ref"]
    report = (await file(client, members.same_jurisdiction, title="Gate flags commuters"))["report"]
    ref = report["ref"]
    rejected = await client.post(
        f"/api/v1/reports/{ref}/reject",
        json={"reason": f"Duplicate of {incident}: attach it there"},
        headers=members.secretariat.headers,
    )
    assert rejected.status_code == 200
    own = members.same_jurisdiction.headers
    current = await client.get(f"/api/v1/reports/{ref}", headers=own)
    proposed = await client.patch(
        f"/api/v1/reports/{ref}",
        json={"incident": incident},
        headers={**own, "If-Match": current.headers["etag"]},
    )
    assert proposed.status_code == 200, proposed.text
    body: dict[str, Any] = proposed.json()
    assert body["proposed_incident"]["ref"] == incident
    assert body["incident"]["ref"] == report["incident"]["ref"], "not linked before review"
    assert (await client.post(f"/api/v1/reports/{ref}/submit", headers=own)).status_code == 200
    accepted = await client.post(
        f"/api/v1/reports/{ref}/accept", headers=members.secretariat.headers
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["incident"]["ref"] == incident
    assert accepted.json()["proposed_incident"] is None
    shown = await client.get(f"/api/v1/incidents/{incident}", headers=members.secretariat.headers)
    assert ref in {line["ref"] for line in shown.json()["reports"]}
    events = await client.get(
        f"/api/v1/audit?entity_id={report['id']}&action=report.accept",
        headers=members.secretariat.headers,
    )
    (event,) = events.json()["items"]
    assert event["after"]["incident"] == incident
    assert event["before"]["incident"] == report["incident"]["ref"]
    verified = await client.get("/api/v1/audit/verify", headers=members.secretariat.headers)
    assert verified.json()["ok"] is True, "the replay follows the link acceptance made"


async def test_a_proposed_incident_must_be_one_the_submitter_can_see(
    client: httpx.AsyncClient, members: Members
) -> None:
    hidden = await file(client, members.other_regulator, sharing="TLP:RED")
    ref = (await file(client, members.regulator))["report"]["ref"]
    current = await client.get(f"/api/v1/reports/{ref}", headers=members.regulator.headers)
    response = await client.patch(
        f"/api/v1/reports/{ref}",
        json={"incident": hidden["report"]["incident"]["ref"]},
        headers={**members.regulator.headers, "If-Match": current.headers["etag"]},
    )
    assert assert_problem(response, 422)["errors"][0]["field"] == "incident"


async def test_one_answer_lists_every_field_at_fault_schema_and_taxonomy_alike(
    client: httpx.AsyncClient, members: Members
) -> None:
    payload = report_payload(
        title="",  # the schema refuses it
        occurred_on="March",  # the schema refuses it
        colour="red",  # an unknown field
        severity="catastrophic",  # the taxonomy refuses it
        harms=[{"domain": "99.9", "harm_type": "human_rights", "affected_groups": ["aliens"]}],
        sectors=["ZZ"],
        detected_on="2999-01-01",  # the calendar refuses it
    )
    expected = {
        "title",
        "occurred_on",
        "colour",
        "severity",
        "harms[0].domain",
        "harms[0].affected_groups[0]",
        "sectors[0]",
        "detected_on",
    }
    single = await client.post("/api/v1/reports", json=payload, headers=members.regulator.headers)
    assert {error["field"] for error in assert_problem(single, 422)["errors"]} == expected
    batch = await client.post(
        "/api/v1/reports/batch",
        json=[report_payload(), payload],
        headers=members.regulator.headers,
    )
    errors = assert_problem(batch, 422)["errors"]
    assert {error["field"] for error in errors} == expected
    assert {error["index"] for error in errors} == {1}
