"""The secretariat's review pages in process: the inbox (oldest first, age, Art. 73 deadline),
start / accept / reject with the API's own 422 beside the reason, moving a report and merging
incidents after seeing both side by side; and every other visitor refused on each of them."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from tests.factories import Members
from tests.reports.helpers import file
from tests.web.helpers import csrf_token, sign_in


async def _report(client: httpx.AsyncClient, members: Members, ref: str) -> dict[str, object]:
    answer = await client.get(f"/api/v1/reports/{ref}", headers=members.secretariat.headers)
    assert answer.status_code == 200, answer.text
    found: dict[str, object] = answer.json()
    return found


async def _post(
    client: httpx.AsyncClient, path: str, opened_at: str, **form: str
) -> httpx.Response:
    opened = await client.get(opened_at)
    assert opened.status_code == 200, opened.text
    return await client.post(path, data={**form, "_csrf_token": csrf_token(opened.text)})


async def test_the_inbox_lists_waiting_reports_oldest_first_with_their_deadline(
    client: httpx.AsyncClient, members: Members
) -> None:
    first = (await file(client, members.regulator, title="Older chatbot harm"))["report"]
    second = (
        await file(client, members.regulator, title="Newer grid outage", eu_serious_incident=["b"])
    )["report"]
    draft = (await file(client, members.regulator, title="A draft", status="draft"))["report"]
    await sign_in(client, members.secretariat.key)
    inbox = await client.get("/review")
    assert inbox.status_code == 200
    text = inbox.text
    assert text.index(first["ref"]) < text.index(second["ref"])
    assert draft["ref"] not in text
    # Detected 2026-03-20; critical infrastructure (b): 2 days; otherwise 15.
    assert "2026-03-22 (2 days)" in text
    assert "2026-04-04 (15 days)" in text
    assert "Newer grid outage" in text


async def test_starting_accepting_and_rejecting_with_a_reason(
    client: httpx.AsyncClient, members: Members
) -> None:
    one = (await file(client, members.regulator))["report"]["ref"]
    two = (await file(client, members.regulator))["report"]["ref"]
    await sign_in(client, members.secretariat.key)
    started = await _post(client, f"/review/{one}/start", f"/review/{one}")
    assert started.status_code == 303
    assert (await _report(client, members, one))["status"] == "under_review"
    # The page words the stored code (under_review) for a reader, in the page's language.
    shown = await client.get(f"/review/{one}")
    assert "<dd>under review</dd>" in shown.text
    assert "under_review" not in re.sub(r"<[^>]*>", "", shown.text)
    french = await client.get(f"/review/{one}", headers={"Accept-Language": "fr"})
    assert "<dd>en cours d’examen</dd>" in french.text
    accepted = await _post(client, f"/review/{one}/accept", f"/review/{one}")
    assert accepted.status_code == 303
    assert (await _report(client, members, one))["status"] == "accepted"

    # An empty reason: the API's own 422 message, beside the field; nothing changes.
    refused = await _post(client, f"/review/{two}/reject", f"/review/{two}", reason="  ")
    assert refused.status_code == 422
    found = re.search(r'<p class="field-error" id="error-reason-1">([^<]*)</p>', refused.text)
    assert found, refused.text
    api = await client.post(
        f"/api/v1/reports/{two}/reject", json={"reason": ""}, headers=members.secretariat.headers
    )
    assert api.status_code == 422
    assert html.unescape(found.group(1)) == api.json()["errors"][0]["message"]
    assert (await _report(client, members, two))["status"] == "submitted"

    too_long = await _post(client, f"/review/{two}/reject", f"/review/{two}", reason="x" * 2001)
    assert too_long.status_code == 422
    assert "x" * 2001 in too_long.text  # what was typed is kept
    rejected = await _post(
        client, f"/review/{two}/reject", f"/review/{two}", reason="Name the AI system's deployer"
    )
    assert rejected.status_code == 303
    stored = await _report(client, members, two)
    assert (stored["status"], stored["status_reason"]) == (
        "rejected",
        "Name the AI system's deployer",
    )
    # A step from the wrong status: the service's 409, as a page.
    again = await _post(client, f"/review/{one}/accept", f"/review/{two}")
    assert again.status_code == 409
    assert "Cannot accept a report that is accepted" in again.text


async def test_moving_a_report_shows_both_incidents_before_confirming(
    client: httpx.AsyncClient, members: Members
) -> None:
    moving = (await file(client, members.regulator, title="Moving report"))["report"]
    target = (await file(client, members.regulator, title="Destination report"))["report"]
    source_incident, target_incident = moving["incident"]["ref"], target["incident"]["ref"]
    await sign_in(client, members.secretariat.key)
    compared = await client.get(
        f"/review/{moving['ref']}/move", params={"incident": target_incident}
    )
    assert compared.status_code == 200
    assert f"Now in: {source_incident}" in compared.text
    assert f"Move to: {target_incident}" in compared.text
    assert "Destination report" in compared.text
    # Comparing moved nothing.
    assert (await _report(client, members, moving["ref"]))["incident"]["ref"] == source_incident  # type: ignore[index]
    unknown = await client.get(
        f"/review/{moving['ref']}/move", params={"incident": "INC-1999-999999"}
    )
    assert unknown.status_code == 422
    assert "No incident INC-1999-999999 that you can see" in unknown.text

    moved = await _post(
        client,
        f"/review/{moving['ref']}/move",
        f"/review/{moving['ref']}/move?incident={target_incident}",
        incident=target_incident,
    )
    assert moved.status_code == 303
    assert (await _report(client, members, moving["ref"]))["incident"]["ref"] == target_incident  # type: ignore[index]


async def test_merging_two_incidents_after_seeing_them_side_by_side(
    client: httpx.AsyncClient, members: Members
) -> None:
    one = (await file(client, members.regulator, title="First of a pair"))["report"]
    two = (await file(client, members.regulator, title="Second of a pair"))["report"]
    source, into = one["incident"]["ref"], two["incident"]["ref"]
    await sign_in(client, members.secretariat.key)
    compared = await client.get("/incidents-merge", params={"source": source, "into": into})
    assert compared.status_code == 200
    assert f"Merged: {source}" in compared.text
    assert f"Surviving: {into}" in compared.text
    assert f"Merge {source} into {into}" in compared.text
    same = await client.get("/incidents-merge", params={"source": source, "into": source})
    assert same.status_code == 422
    assert "Name a different incident" in same.text
    merged = await _post(
        client,
        "/incidents-merge",
        f"/incidents-merge?source={source}&into={into}",
        source=source,
        into=into,
    )
    assert merged.status_code == 303
    assert (await _report(client, members, one["ref"]))["incident"]["ref"] == into  # type: ignore[index]
    incident = await client.get(
        f"/api/v1/incidents/{source}", headers=members.secretariat.headers, follow_redirects=False
    )
    assert incident.status_code == 308
    # A merged incident is not shown as its survivor, which a confirm would then merge instead.
    third = (await file(client, members.regulator, title="Third of a pair"))["report"]
    again = await client.get(
        "/incidents-merge", params={"source": source, "into": third["incident"]["ref"]}
    )
    assert again.status_code == 422
    assert f"{source} was already merged into {into}" in again.text
    assert "Merge INC-" not in again.text


PAGES = ["/review", "/review/{ref}", "/review/{ref}/move", "/incidents-merge"]
POSTS = [
    "/review/{ref}/start",
    "/review/{ref}/accept",
    "/review/{ref}/reject",
    "/review/{ref}/move",
    "/incidents-merge",
]


@pytest.mark.parametrize("who", ["regulator", "researcher", "anonymous"])
async def test_no_one_but_the_secretariat_reaches_the_review_pages(
    client: httpx.AsyncClient, members: Members, who: str
) -> None:
    report = (await file(client, members.regulator))["report"]
    ref = report["ref"]
    if who != "anonymous":
        await sign_in(client, getattr(members, who).key)
    token = csrf_token((await client.get("/sign-in")).text)
    for path in PAGES:
        answer = await client.get(path.format(ref=ref))
        if who == "anonymous":
            assert answer.status_code == 303, path
            assert answer.headers["location"].startswith("/sign-in?next="), path
        else:
            assert answer.status_code == 403, path
            assert report["title"] not in answer.text, path
    for path in POSTS:
        answer = await client.post(
            path.format(ref=ref),
            data={"_csrf_token": token, "reason": "no", "incident": "", "source": "x", "into": "y"},
        )
        assert answer.status_code == (303 if who == "anonymous" else 403), path
        if who == "anonymous":
            assert answer.headers["location"].startswith("/sign-in?next="), path
    stored = await _report(client, members, ref)
    assert stored["status"] == "submitted"
    assert stored["incident"] == report["incident"]


async def test_a_review_step_posted_without_its_csrf_token_changes_nothing(
    client: httpx.AsyncClient, members: Members
) -> None:
    ref = (await file(client, members.regulator))["report"]["ref"]
    await sign_in(client, members.secretariat.key)
    for step in ("accept", "reject", "start"):
        answer = await client.post(f"/review/{ref}/{step}", data={"reason": "no token"})
        assert answer.status_code == 403, step
    assert (await _report(client, members, ref))["status"] == "submitted"
