"""Drafts, submission, review, rejection with a reason, withdrawal, corrections and revisions."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.audit.models import audit_events
from incidents.audit.service import verify
from tests.factories import Members, report_payload
from tests.reports.helpers import file
from tests.test_app import assert_problem


async def test_draft_submit_review_accept(client: httpx.AsyncClient, members: Members) -> None:
    draft = (await file(client, members.regulator, status="draft"))["report"]
    assert draft["status"] == "draft"
    assert draft["submitted_at"] is None
    # A draft is the submitter's alone: not even the secretariat sees it.
    hidden = await client.get(
        f"/api/v1/reports/{draft['ref']}", headers=members.secretariat.headers
    )
    assert hidden.status_code == 404
    submitted = await client.post(
        f"/api/v1/reports/{draft['ref']}/submit", headers=members.regulator.headers
    )
    assert submitted.json()["status"] == "submitted"
    assert submitted.json()["submitted_at"] is not None
    review = await client.post(
        f"/api/v1/reports/{draft['ref']}/start-review", headers=members.secretariat.headers
    )
    assert review.json()["status"] == "under_review"
    accepted = await client.post(
        f"/api/v1/reports/{draft['ref']}/accept", headers=members.secretariat.headers
    )
    assert accepted.json()["status"] == "accepted"
    assert accepted.json()["reviewed_at"] is not None
    again = await client.post(
        f"/api/v1/reports/{draft['ref']}/accept", headers=members.secretariat.headers
    )
    assert_problem(again, 409)


async def test_rejection_reason_is_readable_by_the_submitter_and_it_can_resubmit(
    client: httpx.AsyncClient, members: Members
) -> None:
    report = (await file(client, members.regulator))["report"]
    missing_reason = await client.post(
        f"/api/v1/reports/{report['ref']}/reject", json={}, headers=members.secretariat.headers
    )
    assert assert_problem(missing_reason, 422)["errors"][0]["field"] == "reason"
    rejected = await client.post(
        f"/api/v1/reports/{report['ref']}/reject",
        json={"reason": "The system described is not an AI system; please reclassify."},
        headers=members.secretariat.headers,
    )
    assert rejected.status_code == 200
    seen = (
        await client.get(f"/api/v1/reports/{report['ref']}", headers=members.regulator.headers)
    ).json()
    assert seen["status"] == "rejected"
    assert seen["status_reason"] == "The system described is not an AI system; please reclassify."
    others = await client.get(
        f"/api/v1/reports/{report['ref']}", headers=members.other_regulator.headers
    )
    assert others.status_code == 404
    resubmitted = await client.post(
        f"/api/v1/reports/{report['ref']}/submit", headers=members.regulator.headers
    )
    assert resubmitted.json()["status"] == "submitted"
    assert resubmitted.json()["status_reason"] is None


async def test_withdraw_removes_it_from_everyone_else(
    client: httpx.AsyncClient, members: Members
) -> None:
    report = (await file(client, members.regulator, sharing="TLP:CLEAR"))["report"]
    await client.post(
        f"/api/v1/reports/{report['ref']}/accept", headers=members.secretariat.headers
    )
    assert (await client.get(f"/api/v1/reports/{report['ref']}")).status_code == 200
    withdrawn = await client.post(
        f"/api/v1/reports/{report['ref']}/withdraw",
        json={"reason": "Filed in error"},
        headers=members.regulator.headers,
    )
    assert withdrawn.json()["status"] == "withdrawn"
    assert (await client.get(f"/api/v1/reports/{report['ref']}")).status_code == 404
    assert (
        await client.get(f"/api/v1/reports/{report['ref']}", headers=members.secretariat.headers)
    ).status_code == 200
    twice = await client.post(
        f"/api/v1/reports/{report['ref']}/withdraw", headers=members.regulator.headers
    )
    assert_problem(twice, 409)
    patch = await client.patch(
        f"/api/v1/reports/{report['ref']}",
        json={"title": "x"},
        headers={**members.regulator.headers, "If-Match": withdrawn.headers["etag"]},
    )
    assert_problem(patch, 409)


async def test_patch_needs_a_current_etag(client: httpx.AsyncClient, members: Members) -> None:
    created = await client.post(
        "/api/v1/reports", json=report_payload(), headers=members.regulator.headers
    )
    ref = created.json()["report"]["ref"]
    etag = created.headers["etag"]
    no_etag = await client.patch(
        f"/api/v1/reports/{ref}", json={"title": "Corrected"}, headers=members.regulator.headers
    )
    assert_problem(no_etag, 428)
    stale = await client.patch(
        f"/api/v1/reports/{ref}",
        json={"title": "Corrected"},
        headers={**members.regulator.headers, "If-Match": '"stale"'},
    )
    assert_problem(stale, 412)
    updated = await client.patch(
        f"/api/v1/reports/{ref}",
        json={"title": "Corrected title", "deaths": None, "sharing": "TLP:AMBER"},
        headers={**members.regulator.headers, "If-Match": etag},
    )
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert body["title"] == "Corrected title"
    assert body["deaths"] is None
    assert body["summary"] == report_payload()["summary"], "absent fields are kept"
    assert body["sharing"] == "TLP:AMBER"
    assert body["revision"] == 2
    assert updated.headers["etag"] != etag
    reused = await client.patch(
        f"/api/v1/reports/{ref}",
        json={"title": "Again"},
        headers={**members.regulator.headers, "If-Match": etag},
    )
    assert_problem(reused, 412)
    invalid = await client.patch(
        f"/api/v1/reports/{ref}",
        json={"severity": "nope"},
        headers={**members.regulator.headers, "If-Match": updated.headers["etag"]},
    )
    assert assert_problem(invalid, 422)["errors"][0]["field"] == "severity"


async def test_correcting_an_accepted_report_sends_it_back_to_review(
    client: httpx.AsyncClient, members: Members
) -> None:
    ref = (await file(client, members.regulator))["report"]["ref"]
    accepted = await client.post(
        f"/api/v1/reports/{ref}/accept", headers=members.secretariat.headers
    )
    corrected = await client.patch(
        f"/api/v1/reports/{ref}",
        json={"people_affected": 500},
        headers={**members.regulator.headers, "If-Match": accepted.headers["etag"]},
    )
    assert corrected.status_code == 200
    assert corrected.json()["status"] == "submitted"


async def test_revisions_show_every_version_who_made_it_and_hide_restricted_content(
    client: httpx.AsyncClient, members: Members
) -> None:
    created = await client.post(
        "/api/v1/reports",
        json=report_payload(sharing="TLP:RED", title="Secret first draft"),
        headers=members.regulator.headers,
    )
    ref = created.json()["report"]["ref"]
    opened = await client.patch(
        f"/api/v1/reports/{ref}",
        json={"sharing": "TLP:GREEN", "title": "Public version"},
        headers={**members.regulator.headers, "If-Match": created.headers["etag"]},
    )
    assert opened.status_code == 200
    own = (
        await client.get(f"/api/v1/reports/{ref}/revisions", headers=members.regulator.headers)
    ).json()["items"]
    assert [item["revision"] for item in own] == [1, 2]
    assert own[0]["content"]["title"] == "Secret first draft"
    assert own[0]["actor"].startswith("Kenya Data Commission")
    assert own[0]["actor_organization_id"] == str(members.regulator.organization.id)
    researcher = (
        await client.get(f"/api/v1/reports/{ref}/revisions", headers=members.researcher.headers)
    ).json()["items"]
    assert [item["revision"] for item in researcher] == [1, 2]
    assert researcher[0]["content"] is None, "revision 1 was TLP:RED"
    assert researcher[0]["sharing"] == "TLP:RED"
    assert researcher[1]["content"]["title"] == "Public version"
    assert "Secret first draft" not in str(researcher)


async def test_every_write_is_audited_in_the_same_transaction(
    client: httpx.AsyncClient, members: Members, connection: AsyncConnection
) -> None:
    created = await client.post(
        "/api/v1/reports", json=report_payload(), headers=members.regulator.headers
    )
    report = created.json()["report"]
    await client.patch(
        f"/api/v1/reports/{report['ref']}",
        json={"injuries": 3},
        headers={**members.regulator.headers, "If-Match": created.headers["etag"]},
    )
    await client.post(
        f"/api/v1/reports/{report['ref']}/accept", headers=members.secretariat.headers
    )
    events = (
        await connection.execute(
            select(audit_events)
            .where(audit_events.c.entity_id == report["id"])
            .order_by(audit_events.c.seq)
        )
    ).all()
    assert [event.action for event in events] == [
        "report.created",
        "report.updated",
        "report.accept",
    ]
    assert events[0].actor_key_id is not None
    assert events[0].after["title"] == report["title"]
    assert events[1].before == {"revision": 1, "injuries": 0}
    assert {k: v for k, v in events[1].after.items() if k != "content_sha256"} == {
        "revision": 2,
        "injuries": 3,
    }
    assert events[2].actor_org_id == members.secretariat.organization.id
    assert (await verify(connection)).ok
    failed = await client.post(
        "/api/v1/reports", json=report_payload(severity="x"), headers=members.regulator.headers
    )
    assert failed.status_code == 422
    assert (await verify(connection)).head_seq == events[-1].seq, "a refused write leaves no event"
