"""One writer: the same report filed alone and in a batch is stored alike, row, revision and
audit event, apart from what makes each report itself (ids, numbers, times)."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.audit.models import audit_events
from incidents.reports.models import report_revisions, reports
from tests.factories import Members, report_payload

# What differs between two reports by construction.
OWN = {
    "id",
    "number",
    "year",
    "ref",
    "incident_id",
    "created_at",
    "updated_at",
    "submitted_at",
    "filed_at",
    "disclosure_key",
    "search_vector",
    "external_ref",
}


async def _stored(connection: AsyncConnection, ref: str) -> tuple[dict[str, Any], ...]:
    row = (await connection.execute(select(reports).where(reports.c.ref == ref))).one()
    revision = (
        await connection.execute(
            select(report_revisions).where(report_revisions.c.report_id == row.id)
        )
    ).one()
    event = (
        await connection.execute(
            select(audit_events).where(audit_events.c.entity_id == str(row.id))
        )
    ).one()
    return (
        {key: value for key, value in row._mapping.items() if key not in OWN},
        {
            key: value
            for key, value in revision._mapping.items()
            if key not in {"report_id", "created_at"}
        },
        {
            "action": event.action,
            "actor_label": event.actor_label,
            "after": {
                key: value
                for key, value in (event.after or {}).items()
                if key not in {"ref", "incident", "external_ref"}
            },
        },
    )


async def test_a_report_filed_alone_and_in_a_batch_is_stored_alike(
    client: httpx.AsyncClient, members: Members, connection: AsyncConnection
) -> None:
    for status in ("submitted", "draft"):
        payload = report_payload(status=status)
        alone = await client.post(
            "/api/v1/reports",
            json={**payload, "external_ref": f"alone-{status}"},
            headers=members.regulator.headers,
        )
        assert alone.status_code == 201, alone.text
        batched = await client.post(
            "/api/v1/reports/batch",
            json=[{**payload, "external_ref": f"batched-{status}"}],
            headers=members.regulator.headers,
        )
        assert batched.status_code == 201, batched.text
        one = await _stored(connection, alone.json()["report"]["ref"])
        other = await _stored(connection, batched.json()["reports"][0]["ref"])
        assert one[0] == other[0], "report rows"
        if status == "draft":
            # A draft's revision hash is salted per revision, so only the salt differs.
            assert {k: v for k, v in one[1].items() if k != "salt"} == {
                k: v for k, v in other[1].items() if k != "salt"
            }
            one[2]["after"].pop("content_sha256")
            other[2]["after"].pop("content_sha256")
        else:
            assert one[1] == other[1], "revisions"
        assert one[2] == other[2], "audit events"
