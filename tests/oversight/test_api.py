"""The audit log over HTTP and the content check: the secretariat reads and verifies; a report
revision edited in the database is found and named."""

from __future__ import annotations

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.audit.models import audit_events
from incidents.audit.service import Actor, EventDraft, append
from incidents.cli import main
from incidents.oversight.verify import verify_all
from incidents.reports.integrity import content_digest
from incidents.reports.models import report_revisions
from tests.factories import Members, report_payload
from tests.test_app import assert_problem


@pytest.mark.parametrize("role", ["regulator", "researcher", "other_regulator"])
async def test_only_the_secretariat_reads_the_audit_log(
    client: httpx.AsyncClient, members: Members, role: str
) -> None:
    assert_problem(await client.get("/api/v1/audit", headers=getattr(members, role).headers), 403)
    assert_problem(
        await client.get("/api/v1/audit/verify", headers=getattr(members, role).headers), 403
    )
    assert_problem(await client.get("/api/v1/audit"), 401)


async def test_events_are_listed_filtered_and_paged(
    client: httpx.AsyncClient, members: Members
) -> None:
    created = await client.post(
        "/api/v1/reports", json=report_payload(), headers=members.regulator.headers
    )
    report_id = created.json()["report"]["id"]
    response = await client.get(
        "/api/v1/audit",
        params={"entity_type": "report", "entity_id": report_id},
        headers=members.secretariat.headers,
    )
    events = response.json()["items"]
    assert [event["action"] for event in events] == ["report.created"]
    assert events[0]["actor_organization_id"] == str(members.regulator.organization.id)
    assert events[0]["after"]["title"] == report_payload()["title"]
    first_page = await client.get(
        "/api/v1/audit", params={"limit": 2}, headers=members.secretariat.headers
    )
    second_page = await client.get(
        "/api/v1/audit",
        params={"limit": 2, "cursor": first_page.json()["next"]},
        headers=members.secretariat.headers,
    )
    first_seqs = [event["seq"] for event in first_page.json()["items"]]
    second_seqs = [event["seq"] for event in second_page.json()["items"]]
    assert max(first_seqs) < min(second_seqs)
    verified = await client.get("/api/v1/audit/verify", headers=members.secretariat.headers)
    assert verified.json()["ok"] is True
    assert verified.json()["revisions_checked"] >= 1
    assert verified.json()["reports_checked"] >= 1
    # Checkpoints are recorded by the command; over HTTP an incremental run needs one first.
    incremental = await client.get(
        "/api/v1/audit/verify",
        params={"incremental": "true"},
        headers=members.secretariat.headers,
    )
    assert incremental.json()["mode"] == "full"
    assert incremental.json()["notes"] == ["no checkpoint yet: verified everything"]


async def test_a_revision_edited_in_the_database_is_detected(
    client: httpx.AsyncClient, members: Members, connection: AsyncConnection
) -> None:
    created = await client.post(
        "/api/v1/reports", json=report_payload(), headers=members.regulator.headers
    )
    report = created.json()["report"]
    await client.patch(
        f"/api/v1/reports/{report['ref']}",
        json={"deaths": 1},
        headers={**members.regulator.headers, "If-Match": created.headers["etag"]},
    )
    assert (await verify_all(connection)).ok
    await connection.execute(
        text(
            "UPDATE report_revisions SET content = jsonb_set(content, '{deaths}', '0') "
            "WHERE report_id = :id AND revision = 2"
        ),
        {"id": report["id"]},
    )
    result = await verify_all(connection)
    assert not result.ok
    assert [difference.reason for difference in result.differences] == [
        f"{report['ref']}: revision 2's content differs from what event "
        f"{result.differences[0].seq} recorded (edited in the database)"
    ]


def test_cli_verify_names_the_tampered_event(committed_database_url: str) -> None:
    import asyncio

    from incidents.db import Database, create_engine

    async def tamper() -> int:
        database = Database(create_engine(committed_database_url, pool_size=1))
        async with database.transaction() as connection:
            await append(
                connection, Actor(label="test"), [EventDraft("x.y", "x", "1", None, {"v": 1})] * 3
            )
        async with database.transaction() as connection:
            head = (await connection.execute(text("SELECT seq FROM audit_head"))).scalar_one()
            await connection.execute(
                text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete")
            )
            await connection.execute(text(f"DELETE FROM audit_events WHERE seq = {head - 1}"))
            await connection.execute(
                text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_delete")
            )
        await database.dispose()
        return int(head) - 1

    deleted = asyncio.run(tamper())
    result = CliRunner(env={"INCIDENTS_DATABASE_URL": committed_database_url}).invoke(
        main, ["audit", "verify"]
    )
    assert result.exit_code == 1
    assert f"event {deleted}: event(s) {deleted} missing: deleted from the log" in result.output


async def test_events_about_a_draft_say_that_it_changed_not_what_it_says(
    client: httpx.AsyncClient, members: Members, connection: AsyncConnection
) -> None:
    created = await client.post(
        "/api/v1/reports",
        json=report_payload(status="draft", title="Confidential working title"),
        headers=members.regulator.headers,
    )
    report = created.json()["report"]
    edited = await client.patch(
        f"/api/v1/reports/{report['ref']}",
        json={"deaths": 7, "summary": "Still being written."},
        headers={**members.regulator.headers, "If-Match": created.headers["etag"]},
    )
    submitted = await client.post(
        f"/api/v1/reports/{report['ref']}/submit", headers=members.regulator.headers
    )
    await client.patch(
        f"/api/v1/reports/{report['ref']}",
        json={"injuries": 2},
        headers={**members.regulator.headers, "If-Match": submitted.headers["etag"]},
    )
    assert edited.status_code == 200

    listed = await client.get(
        "/api/v1/audit",
        params={"entity_type": "report", "entity_id": report["id"]},
        headers=members.secretariat.headers,
    )
    created_event, draft_edit, submit, correction = listed.json()["items"]

    assert created_event["redacted"] is True
    assert "title" not in created_event["after"]
    assert "content_sha256" not in created_event["after"]
    assert created_event["after"]["status"] == "draft"
    assert draft_edit["redacted"] is True
    assert draft_edit["before"] == {"revision": 1}
    assert draft_edit["after"] == {"revision": 2, "fields": ["deaths", "summary"]}
    assert "Confidential" not in listed.text
    assert "Still being written" not in listed.text
    assert submit["after"] == {"status": "submitted"}
    # Once submitted, corrections are shared history: the secretariat reads what changed.
    assert correction["redacted"] is False
    assert (correction["before"]["injuries"], correction["after"]["injuries"]) == (0, 2)

    # What is stored is what is hashed: no content, and a salted hash that binds the revision.
    stored = (
        (
            await connection.execute(
                select(audit_events.c.after)
                .where(audit_events.c.entity_id == report["id"])
                .order_by(audit_events.c.seq)
            )
        )
        .scalars()
        .all()
    )
    revision = (
        await connection.execute(
            select(report_revisions).where(
                report_revisions.c.report_id == report["id"], report_revisions.c.revision == 2
            )
        )
    ).one()
    assert "title" not in stored[0]
    assert "deaths" not in stored[1]
    assert stored[1]["content_sha256"] == content_digest(revision.content, revision.salt)
    assert stored[1]["content_sha256"] != content_digest(revision.content)
    assert (await verify_all(connection)).ok


async def test_older_events_about_drafts_are_redacted_when_read(
    client: httpx.AsyncClient, members: Members, connection: AsyncConnection
) -> None:
    draft = (
        await client.post(
            "/api/v1/reports",
            json=report_payload(status="draft"),
            headers=members.regulator.headers,
        )
    ).json()["report"]
    # As the registry wrote a draft's correction before drafts were kept out of the log.
    await append(
        connection,
        Actor(label="Kenya Data Commission (inc_legacy1)"),
        [
            EventDraft(
                "report.updated",
                "report",
                draft["id"],
                {"revision": 1, "title": "Old secret title"},
                {"revision": 2, "title": "New secret title", "content_sha256": "ab" * 32},
            )
        ],
    )
    listed = await client.get(
        "/api/v1/audit",
        params={"entity_id": draft["id"], "action": "report.updated"},
        headers=members.secretariat.headers,
    )
    [event] = listed.json()["items"]
    assert event["redacted"] is True
    assert event["before"] == {"revision": 1}
    assert event["after"] == {"revision": 2, "fields": ["title"]}
    assert "secret" not in listed.text


async def test_the_event_list_answers_what_its_schema_says(
    client: httpx.AsyncClient, members: Members
) -> None:
    await client.post("/api/v1/reports", json=report_payload(), headers=members.regulator.headers)
    document = (await client.get("/schema/openapi.json")).json()
    components = document["components"]["schemas"]
    page = document["paths"]["/api/v1/audit"]["get"]["responses"]["200"]["content"][
        "application/json"
    ]["schema"]["$ref"]
    page_schema = components[page.rsplit("/", 1)[1]]
    event_schema = components[page_schema["properties"]["items"]["items"]["$ref"].rsplit("/", 1)[1]]
    answer = (
        await client.get("/api/v1/audit", params={"limit": 1}, headers=members.secretariat.headers)
    ).json()
    assert set(answer) == set(page_schema["properties"]) == {"items", "next"}
    assert set(answer["items"][0]) == set(event_schema["properties"])
    assert answer["next"] == str(answer["items"][0]["seq"])
