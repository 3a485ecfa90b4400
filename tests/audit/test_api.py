"""The audit log over HTTP and the content check: the secretariat reads and verifies; a report
revision edited in the database is found and named."""

from __future__ import annotations

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.audit.verify import verify_all
from incidents.cli import main
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

    from incidents.audit.service import Actor, EventDraft, append
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
