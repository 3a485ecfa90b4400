"""`audit verify` proves the live tables, not just the log: the state replayed from the events
must be what the tables hold, and every row edited, added or deleted by hand is named."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.audit.service import Actor, EventDraft, append
from incidents.oversight.replay import LogProblem, ReportEvent, replay_report
from incidents.oversight.verify import VerifyResult, verify_all
from incidents.reports.integrity import content_digest
from incidents.reports.models import report_revisions, reports
from tests.factories import Members
from tests.reports.helpers import file, file_accepted


async def _patch(
    client: httpx.AsyncClient, member: Any, ref: str, **changes: Any
) -> dict[str, Any]:
    current = await client.get(f"/api/v1/reports/{ref}", headers=member.headers)
    response = await client.patch(
        f"/api/v1/reports/{ref}",
        json=changes,
        headers={**member.headers, "If-Match": current.headers["etag"]},
    )
    assert response.status_code == 200, response.text
    patched: dict[str, Any] = response.json()
    return patched


async def _post(client: httpx.AsyncClient, member: Any, path: str, **body: Any) -> Any:
    response = await client.post(path, json=body or None, headers=member.headers)
    assert response.status_code in (200, 201), response.text
    return response.json()


def _named(result: VerifyResult) -> list[tuple[str, str]]:
    return [(difference.entity, difference.attribute) for difference in result.differences]


async def test_every_kind_of_change_made_through_the_api_replays_to_the_live_state(
    client: httpx.AsyncClient, members: Members, connection: AsyncConnection
) -> None:
    secretariat, regulator = members.secretariat, members.regulator
    draft = (await file(client, regulator, status="draft", external_ref="KE-1"))["report"]
    await _patch(client, regulator, draft["ref"], title="Second draft")
    await _patch(client, regulator, draft["ref"], deaths=2, sharing="TLP:RED")
    await _post(client, regulator, f"/api/v1/reports/{draft['ref']}/submit")
    await _post(client, secretariat, f"/api/v1/reports/{draft['ref']}/start-review")
    await _post(client, secretariat, f"/api/v1/reports/{draft['ref']}/accept")
    await _patch(client, regulator, draft["ref"], injuries=4)  # back to submitted
    await _post(
        client, secretariat, f"/api/v1/reports/{draft['ref']}/reject", reason="Not an AI system"
    )
    await _patch(client, regulator, draft["ref"], summary="Corrected after rejection.")
    await _post(client, regulator, f"/api/v1/reports/{draft['ref']}/submit")
    other = await file_accepted(client, members, members.other_regulator, sharing="TLP:GREEN")
    third = await file_accepted(client, members)
    await _post(client, secretariat, f"/api/v1/reports/{third['ref']}/move", incident=None)
    await _post(
        client,
        secretariat,
        f"/api/v1/incidents/{other['incident']['ref']}/merge",
        into=draft["incident"]["ref"],
    )
    await _post(client, regulator, f"/api/v1/reports/{third['ref']}/withdraw", reason="Duplicate")
    key = await _post(
        client,
        secretariat,
        f"/api/v1/organizations/{members.researcher.organization.id}/keys",
        label="second key",
    )
    await _post(client, secretariat, f"/api/v1/keys/{key['id']}/revoke")
    renamed = await client.patch(
        f"/api/v1/organizations/{members.researcher.organization.id}",
        json={"name": "Global AI Observatory (renamed)"},
        headers=secretariat.headers,
    )
    assert renamed.status_code == 200, renamed.text

    result = await verify_all(connection)

    assert result.ok, (result.problems, [d.reason for d in result.differences])
    assert result.differences_found == 0
    assert result.reports_checked >= 3
    assert result.revisions_checked >= 7
    assert result.api_keys_checked >= 6
    # Events written since the log is replayed carry everything the replay needs.
    assert not [line for line in result.not_checked if "organization" in line]


async def test_a_sharing_level_changed_in_the_table_is_named(
    client: httpx.AsyncClient, members: Members, connection: AsyncConnection
) -> None:
    report = await file_accepted(client, members, sharing="TLP:RED")
    assert (await client.get(f"/api/v1/reports/{report['ref']}")).status_code == 404
    await connection.execute(
        text("UPDATE reports SET sharing = 'TLP:CLEAR' WHERE id = :id"), {"id": report["id"]}
    )
    # What verification exists for: the public now reads a RED report.
    assert (await client.get(f"/api/v1/reports/{report['ref']}")).status_code == 200

    result = await verify_all(connection)

    assert not result.ok
    [difference] = result.differences
    assert (difference.entity, difference.attribute) == (report["ref"], "sharing")
    assert (difference.expected, difference.found) == ("TLP:RED", "TLP:CLEAR")
    assert difference.reason == (
        f"{report['ref']}: sharing is 'TLP:CLEAR' in the reports table; the audit log says "
        "'TLP:RED'"
    )


async def test_a_title_edited_in_the_table_is_named_without_showing_the_content(
    client: httpx.AsyncClient, members: Members, connection: AsyncConnection
) -> None:
    report = await file_accepted(client, members)
    await connection.execute(
        text("UPDATE reports SET title = 'Nothing happened' WHERE id = :id"), {"id": report["id"]}
    )

    result = await verify_all(connection)

    [difference] = result.differences
    assert (difference.entity, difference.attribute) == (report["ref"], "title")
    assert difference.expected is None
    assert difference.found is None
    assert "title in the reports table differs from the content of revision 1" in (
        difference.reason
    )


async def test_a_deleted_revision_is_named(
    client: httpx.AsyncClient, members: Members, connection: AsyncConnection
) -> None:
    report = await file_accepted(client, members)
    await _patch(client, members.regulator, report["ref"], deaths=3)
    await connection.execute(
        text("DELETE FROM report_revisions WHERE report_id = :id AND revision = 1"),
        {"id": report["id"]},
    )

    result = await verify_all(connection)

    assert _named(result) == [(report["ref"], "revision 1")]
    assert "revision 1 (recorded by event" in result.differences[0].reason
    assert "is missing from report_revisions" in result.differences[0].reason


@pytest.mark.parametrize(
    ("statement", "attribute"),
    [
        ("UPDATE reports SET status = 'accepted' WHERE id = :id", "status"),
        ("UPDATE reports SET status_reason = 'Looks fine' WHERE id = :id", "status_reason"),
        ("UPDATE reports SET revision = 1 WHERE id = :id", "revision"),
        ("UPDATE reports SET external_ref = 'KE-99' WHERE id = :id", "external_ref"),
        ("UPDATE reports SET taxonomy_version = taxonomy_version WHERE id = :id", None),
        (
            "UPDATE reports SET incident_id = (SELECT id FROM incidents WHERE id <> "
            "reports.incident_id LIMIT 1) WHERE id = :id",
            "incident",
        ),
        (
            "UPDATE reports SET organization_id = (SELECT id FROM organizations "
            "WHERE name = 'Brazil ANPD') WHERE id = :id",
            "organization",
        ),
        ("UPDATE reports SET jurisdictions = '{KE,US}' WHERE id = :id", "jurisdictions"),
        ("UPDATE reports SET deaths = 40 WHERE id = :id", "deaths"),
        (
            "UPDATE report_revisions SET sharing = 'TLP:CLEAR' "
            "WHERE report_id = :id AND revision = 1",
            "revision 1 sharing",
        ),
        (
            "UPDATE report_revisions SET draft_only = false WHERE report_id = :id AND revision = 1",
            "revision 1 draft_only",
        ),
        (
            "UPDATE report_revisions SET salt = NULL WHERE report_id = :id AND revision = 1",
            "revision 1",
        ),
        (
            "INSERT INTO report_revisions SELECT report_id, 3, content, sharing, taxonomy_version, "
            "created_at, actor_org_id, actor_key_id, actor_label, false, NULL "
            "FROM report_revisions WHERE report_id = :id AND revision = 2",
            "revision 3",
        ),
    ],
)
async def test_each_attribute_edited_in_the_tables_is_named(
    client: httpx.AsyncClient,
    members: Members,
    connection: AsyncConnection,
    statement: str,
    attribute: str | None,
) -> None:
    # A draft edited once (revision 1 is a salted working copy), then submitted as RED.
    draft = (await file(client, members.regulator, status="draft", sharing="TLP:RED"))["report"]
    await _patch(client, members.regulator, draft["ref"], title="Submitted title")
    await _post(client, members.regulator, f"/api/v1/reports/{draft['ref']}/submit")
    await file(client, members.other_regulator, affected_jurisdictions=["BR"])
    assert (await verify_all(connection)).ok

    await connection.execute(text(statement), {"id": draft["id"]})
    result = await verify_all(connection)

    if attribute is None:  # rewriting a value with itself is no difference
        assert result.ok
        return
    assert (draft["ref"], attribute) in _named(result), [d.reason for d in result.differences]
    assert {entity for entity, _ in _named(result)} == {draft["ref"]}


async def test_rows_added_or_removed_by_hand_are_named(
    client: httpx.AsyncClient, members: Members, connection: AsyncConnection
) -> None:
    gone = await file_accepted(client, members)
    merged = await file_accepted(client, members)
    survivor = await file_accepted(client, members)
    await _post(
        client,
        members.secretariat,
        f"/api/v1/incidents/{merged['incident']['ref']}/merge",
        into=survivor["incident"]["ref"],
    )
    await connection.execute(
        text("DELETE FROM report_revisions WHERE report_id = :id"), {"id": gone["id"]}
    )
    await connection.execute(text("DELETE FROM reports WHERE id = :id"), {"id": gone["id"]})
    await connection.execute(
        text("UPDATE incidents SET merged_into = NULL WHERE ref = :ref"),
        {"ref": merged["incident"]["ref"]},
    )
    forged = (
        await connection.execute(
            text("INSERT INTO incidents (id, year) VALUES (:id, 2026) RETURNING ref"),
            {"id": uuid.uuid4()},
        )
    ).scalar_one()

    result = await verify_all(connection)

    reasons = {difference.reason for difference in result.differences}
    assert any(
        reason.startswith(f"{gone['ref']}: created by event")
        and reason.endswith("but missing from the reports table")
        for reason in reasons
    ), reasons
    assert (
        f"{merged['incident']['ref']}: not merged in the incidents table; the audit log says "
        f"merged into {survivor['incident']['ref']}"
    ) in reasons
    assert f"{forged}: in the incidents table but opened by no audit event" in reasons
    # The incident the deleted report opened is now an incident without a report: still one
    # the log opened, so not a difference of its own.
    assert len(reasons) == 3, reasons


async def test_organizations_keys_and_taxonomy_edited_by_hand_are_named(
    client: httpx.AsyncClient, members: Members, connection: AsyncConnection
) -> None:
    revoked = await _post(
        client,
        members.secretariat,
        f"/api/v1/organizations/{members.researcher.organization.id}/keys",
        label="old key",
    )
    await _post(client, members.secretariat, f"/api/v1/keys/{revoked['id']}/revoke")
    regulator = members.regulator.organization.id
    for statement in (
        f"UPDATE organizations SET kind = 'secretariat' WHERE id = '{regulator}'",
        f"UPDATE api_keys SET revoked_at = NULL WHERE id = '{revoked['id']}'",
        f"UPDATE api_keys SET key_hash = sha256('mine') WHERE id = '{revoked['id']}'",
        "INSERT INTO organizations (id, name, kind) VALUES "
        "('01900000-0000-7000-8000-00000000beef', 'Shadow Secretariat', 'secretariat')",
        "UPDATE taxonomy_versions SET document = jsonb_set(document, '{manifest,title}', "
        "'\"Edited\"')",
    ):
        await connection.execute(text(statement))

    result = await verify_all(connection)

    named = _named(result)
    assert (f"organization Kenya Data Commission ({regulator})", "kind") in named
    assert (f"key {revoked['prefix']}", "revoked_at") in named
    assert (f"key {revoked['prefix']}", "key_hash_sha256") in named
    assert (
        "organization Shadow Secretariat (01900000-0000-7000-8000-00000000beef)",
        "row",
    ) in named
    assert any(entity.startswith("taxonomy version") for entity, _ in named)
    assert len(named) == 5, named
    key_difference = next(d for d in result.differences if d.attribute == "key_hash_sha256")
    assert key_difference.expected is None
    assert key_difference.found is None


async def test_older_events_are_replayed_and_what_they_did_not_record_is_said(
    client: httpx.AsyncClient, members: Members, connection: AsyncConnection
) -> None:
    # A report as the registry wrote them before the replay: its creating event names neither
    # the organization, the external reference nor the status reason.
    template = await file_accepted(client, members)
    legacy_id = uuid.uuid4()
    columns = [column.name for column in reports.columns if column.computed is None]
    row = dict(
        (
            await connection.execute(
                select(*[reports.c[name] for name in columns]).where(reports.c.id == template["id"])
            )
        )
        .one()
        ._mapping
    )
    row.update(id=legacy_id, number=row["number"] + 10_000, external_ref=None)
    await connection.execute(insert(reports).values(row))
    revision = dict(
        (
            await connection.execute(
                select(report_revisions).where(report_revisions.c.report_id == template["id"])
            )
        )
        .one()
        ._mapping
    )
    await connection.execute(insert(report_revisions).values({**revision, "report_id": legacy_id}))
    ref = (
        await connection.execute(select(reports.c.ref).where(reports.c.id == legacy_id))
    ).scalar_one()
    await append(
        connection,
        Actor(label="import"),
        [
            EventDraft(
                "report.imported",
                "report",
                str(legacy_id),
                None,
                {
                    "ref": ref,
                    "incident": template["incident"]["ref"],
                    "status": "accepted",
                    "sharing": template["sharing"],
                    "taxonomy_version": template["taxonomy_version"],
                    "title": template["title"],
                    "content_sha256": content_digest(revision["content"]),
                },
            )
        ],
    )

    result = await verify_all(connection)

    assert result.ok, [d.reason for d in result.differences]
    assert (
        "the filing organization of 1 reports: recorded by events only since the log is "
        "replayed, and older ones lack it"
    ) in result.not_checked
    assert any(
        line.startswith("the external reference of 1 reports") for line in result.not_checked
    )
    await connection.execute(
        text("UPDATE reports SET sharing = 'TLP:CLEAR' WHERE id = :id"), {"id": legacy_id}
    )
    assert _named(await verify_all(connection)) == [(ref, "sharing")]


def test_the_replay_follows_a_report_through_its_events() -> None:
    events = [
        ReportEvent(
            1,
            "report.created",
            None,
            {
                "ref": "RPT-2026-000001",
                "incident": "INC-2026-000001",
                "organization": "o",
                "status": "draft",
                "status_reason": None,
                "sharing": "TLP:RED",
                "taxonomy_version": 1,
                "external_ref": None,
                "content_sha256": "a",
            },
        ),
        ReportEvent(4, "report.updated", {"revision": 1}, {"revision": 2, "content_sha256": "b"}),
        ReportEvent(5, "report.submit", {"status": "draft"}, {"status": "submitted"}),
        ReportEvent(
            7, "report.reject", {"status": "submitted"}, {"status": "rejected", "reason": "No"}
        ),
        ReportEvent(
            9,
            "report.updated",
            {"revision": 2, "sharing": "TLP:RED"},
            {"revision": 3, "sharing": "TLP:AMBER", "content_sha256": "c"},
        ),
        ReportEvent(
            11, "report.moved", {"incident": "INC-2026-000001"}, {"incident": "INC-2026-000002"}
        ),
    ]
    report = replay_report("id", events)
    assert (report.status, report.status_reason, report.sharing) == ("rejected", "No", "TLP:AMBER")
    assert [(r.number, r.digest, r.sharing, r.draft_only) for r in report.revisions] == [
        (1, "a", "TLP:RED", True),
        (2, "b", "TLP:RED", False),
        (3, "c", "TLP:AMBER", False),
    ]
    assert (report.incident, report.incident_seq) == ("INC-2026-000002", 11)
    assert report.unknown == set()
    assert report.problems == []
    skipped = replay_report(
        "id", [events[0], ReportEvent(6, "report.updated", {"revision": 2}, {"revision": 4})]
    )
    assert skipped.problems == [
        LogProblem(
            6, "records revision 2 -> 4, but the events before it leave the report at revision 1"
        )
    ]


async def test_differences_beyond_the_first_thousand_are_counted(
    connection: AsyncConnection,
) -> None:
    await connection.execute(
        text(
            "INSERT INTO incidents (id, year) "
            "SELECT gen_random_uuid(), 2026 FROM generate_series(1, 1005)"
        )
    )
    result = await verify_all(connection)
    assert result.differences_found == 1005
    assert len(result.differences) == 1000
    assert not result.ok
