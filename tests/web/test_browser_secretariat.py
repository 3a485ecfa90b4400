"""The secretariat's pages in a real browser: each page meets the bars (axe 0 violations at
WCAG 2.1 AA, first load <= 150 kB, screenshots at desktop and phone widths); reviewing with
JavaScript off, moving and merging after the side-by-side view, members and keys, the audit
verified, a brief made with htmx polling its progress; and other roles refused."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.factories import report_payload
from tests.web.browser import LiveSite, check_page, new_context, sign_in

if TYPE_CHECKING:
    from playwright.async_api import Browser

pytestmark = [pytest.mark.slow, pytest.mark.browser]


async def _file(site: LiveSite, **overrides: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=site.url) as api:
        created = await api.post(
            "/api/v1/reports",
            json=report_payload(**overrides),
            headers=site.members.regulator.headers,
        )
        assert created.status_code == 201, created.text
        report: dict[str, Any] = created.json()["report"]
        return report


async def _api(site: LiveSite, path: str) -> Any:
    async with httpx.AsyncClient(base_url=site.url) as api:
        answer = await api.get(path, headers=site.members.secretariat.headers)
        assert answer.status_code == 200, answer.text
        return answer.json()


async def _made_brief(site: LiveSite) -> str:
    headers = site.members.secretariat.headers
    # Making a brief keeps the live server busy for a while: patient requests.
    async with httpx.AsyncClient(base_url=site.url, timeout=120) as api:
        queued = await api.post("/api/v1/briefs", json={"period": "2026-Q2"}, headers=headers)
        assert queued.status_code == 202, queued.text
        brief_id: str = queued.json()["id"]
        for _ in range(600):
            status = (await api.get(f"/api/v1/briefs/{brief_id}", headers=headers)).json()
            if status["status"] not in {"queued", "running"}:
                return brief_id
            await asyncio.sleep(0.1)
    raise AssertionError("the brief never finished")


async def test_every_secretariat_page_meets_the_bars(
    browser: Browser, live_site: LiveSite, axe_source: str
) -> None:
    one = await _file(
        live_site, title="Chatbot gave harmful dosage advice", detected_on="2026-11-20"
    )
    two = await _file(
        live_site, title="Grid balancing model tripped a substation", eu_serious_incident=["b"]
    )
    brief_id = await _made_brief(live_site)
    key = live_site.members.secretariat.key
    organization = live_site.members.regulator.organization.id
    pages = {
        "secretariat-review": "/review",
        "secretariat-review-report": f"/review/{one['ref']}",
        "secretariat-move": f"/review/{one['ref']}/move?incident={two['incident']['ref']}",
        "secretariat-merge": (
            f"/incidents-merge?source={one['incident']['ref']}&into={two['incident']['ref']}"
        ),
        "secretariat-members": "/members",
        "secretariat-member": f"/members/{organization}",
        "secretariat-taxonomy": "/taxonomy?from=1&to=1",
        "secretariat-audit": "/audit",
        "secretariat-briefs": "/editorial",
        "secretariat-brief": f"/editorial/{brief_id}",
    }
    for name, path in pages.items():
        visit = await check_page(browser, live_site, axe_source, path, name, key=key)
        print(f"{path}: first load {visit.transferred} bytes")


async def test_reviewing_with_javascript_off(browser: Browser, live_site: LiveSite) -> None:
    report = await _file(live_site, title=f"Loan model refuses applicants {uuid.uuid4().hex[:6]}")
    context = await new_context(browser, live_site, javascript=False)
    page = await context.new_page()
    await sign_in(page, live_site.members.secretariat.key)
    await page.goto("/review")
    await page.get_by_role("link", name=report["ref"]).click()
    await page.get_by_role("button", name="Start review").click()
    await page.wait_for_load_state()
    assert await page.locator("dl.facts dd").first.inner_text() == "under review"
    await page.get_by_role("button", name="Reject").click()
    field = page.get_by_label("Reason for rejecting")
    assert await field.get_attribute("aria-invalid") == "true"
    await field.fill("Name the deployer of the system")
    await page.get_by_role("button", name="Reject").click()
    await page.wait_for_load_state()
    stored = await _api(live_site, f"/api/v1/reports/{report['ref']}")
    assert (stored["status"], stored["status_reason"]) == (
        "rejected",
        "Name the deployer of the system",
    )
    await context.close()


async def test_moving_and_merging_after_the_side_by_side_view(
    browser: Browser, live_site: LiveSite
) -> None:
    moving = await _file(live_site, title="Moving in the browser")
    target = await _file(live_site, title="Target in the browser")
    spare = await _file(live_site, title="Merged in the browser")
    context = await new_context(browser, live_site)
    page = await context.new_page()
    await sign_in(page, live_site.members.secretariat.key)
    await page.goto(f"/review/{moving['ref']}")
    await page.get_by_role("link", name="Move this report to another incident").click()
    await page.get_by_label("Destination incident").fill(target["incident"]["ref"])
    await page.get_by_role("button", name="Compare").click()
    assert await page.get_by_role(
        "heading", name=f"Move to: {target['incident']['ref']}"
    ).is_visible()
    await page.get_by_role(
        "button", name=f"Move {moving['ref']} into {target['incident']['ref']}"
    ).click()
    await page.wait_for_load_state()
    moved = await _api(live_site, f"/api/v1/reports/{moving['ref']}")
    assert moved["incident"]["ref"] == target["incident"]["ref"]

    source, into = spare["incident"]["ref"], target["incident"]["ref"]
    await page.goto("/incidents-merge")
    await page.get_by_label("Incident to merge").fill(source)
    await page.get_by_label("Incident it joins").fill(into)
    await page.get_by_role("button", name="Compare").click()
    assert await page.get_by_role("heading", name=f"Merged: {source}").is_visible()
    assert await page.get_by_role("heading", name=f"Surviving: {into}").is_visible()
    await page.get_by_role("button", name=f"Merge {source} into {into}").click()
    await page.wait_for_load_state()
    merged = await _api(live_site, f"/api/v1/reports/{spare['ref']}")
    assert merged["incident"]["ref"] == into
    await context.close()


async def test_members_keys_and_the_audit(browser: Browser, live_site: LiveSite) -> None:
    context = await new_context(browser, live_site)
    page = await context.new_page()
    await sign_in(page, live_site.members.secretariat.key)
    name = f"Autorité de régulation {uuid.uuid4().hex[:6]}"
    await page.goto("/members")
    await page.get_by_label("Name").fill(name)
    await page.get_by_label("Kind").select_option("regulator")
    await page.get_by_role("button", name="Add organization").click()
    field = page.get_by_label("Country (for a regulator)")
    assert await field.get_attribute("aria-invalid") == "true"
    await field.fill("SN")
    await page.get_by_role("button", name="Add organization").click()
    await page.wait_for_url("**/members/*")
    await page.get_by_label("Label").fill("Case system")
    await page.get_by_role("button", name="Issue key").click()
    key = await page.locator("#issued-key").inner_text()
    assert key.startswith("inc_")
    async with httpx.AsyncClient(base_url=live_site.url) as api:
        headers = {"Authorization": f"Bearer {key}"}
        assert (await api.get("/api/v1/reports", headers=headers)).status_code == 200
        await page.get_by_role("button", name=f"Revoke {key[:12]}").click()
        await page.wait_for_load_state()
        assert (await api.get("/api/v1/reports", headers=headers)).status_code == 401
    assert await page.locator("#issued-key").count() == 0

    await page.goto("/audit")
    await page.get_by_role("button", name="Verify").click()
    assert await page.get_by_role("heading", name="Verified: no problem found").is_visible()
    await context.close()


async def test_a_brief_is_made_with_its_progress_polled(
    browser: Browser, live_site: LiveSite
) -> None:
    context = await new_context(browser, live_site)
    page = await context.new_page()
    await sign_in(page, live_site.members.secretariat.key)
    await page.goto("/editorial")
    await page.get_by_label("Period (required)").fill("2026-Q1")
    await page.get_by_role("button", name="Make the brief").click()
    # htmx polls the progress and reloads the page once the brief is made: no manual refresh.
    await page.locator("#brief-status", has_text="draft").wait_for(timeout=60_000)
    assert await page.get_by_role("heading", name="Editorial fields").is_visible()
    await context.close()


@pytest.mark.parametrize("who", ["regulator", "researcher"])
async def test_other_roles_are_refused_in_the_browser(
    browser: Browser, live_site: LiveSite, who: str
) -> None:
    context = await new_context(browser, live_site)
    page = await context.new_page()
    await sign_in(page, getattr(live_site.members, who).key)
    for path in ("/review", "/members", "/taxonomy", "/audit", "/editorial", "/incidents-merge"):
        answer = await page.goto(path)
        assert answer is not None
        assert answer.status == 403, path
        assert await page.get_by_role("heading", name="Not allowed").is_visible(), path
    assert not await page.get_by_role("link", name="Review").is_visible()
    await context.close()
