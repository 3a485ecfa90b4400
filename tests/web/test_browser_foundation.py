"""In a real browser: signing in and out, CSRF, a revoked key's session, the not-found page,
and the bars every page meets (axe 0 violations, first load <= 150 kB, screenshots)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.factories import make_member
from tests.web.browser import LiveSite, check_page, new_context, sign_in

if TYPE_CHECKING:
    from playwright.async_api import Browser

pytestmark = [pytest.mark.slow, pytest.mark.browser]


async def test_home_and_sign_in_pages_meet_the_bars(
    browser: Browser, live_site: LiveSite, axe_source: str
) -> None:
    await check_page(browser, live_site, axe_source, "/", "home")
    await check_page(browser, live_site, axe_source, "/sign-in", "sign-in")
    await check_page(browser, live_site, axe_source, "/no-such-page", "not-found", status=404)


async def test_signing_in_and_out_by_keyboard(browser: Browser, live_site: LiveSite) -> None:
    context = await new_context(browser, live_site)
    page = await context.new_page()
    await page.goto("/sign-in")
    await page.keyboard.press("Tab")  # the skip link first
    await page.get_by_label("API key").focus()
    await page.keyboard.type(live_site.members.researcher.key)
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"{live_site.url}/")
    assert await page.get_by_text("Global AI Observatory").is_visible()
    cookies = {cookie["name"]: cookie for cookie in await context.cookies()}
    assert cookies["incidents_session"]["httpOnly"]
    assert cookies["incidents_session"]["sameSite"] == "Strict"
    # Scripts on the page cannot read the session (nor the key, which was never stored).
    assert "incidents_session" not in await page.evaluate("document.cookie")
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url(f"{live_site.url}/")
    assert await page.get_by_role("link", name="Sign in").is_visible()
    await context.close()


async def test_a_wrong_key_is_named_beside_the_field(browser: Browser, live_site: LiveSite) -> None:
    context = await new_context(browser, live_site)
    page = await context.new_page()
    await page.goto("/sign-in")
    await page.get_by_label("API key").fill("inc_wrong")
    await page.get_by_role("button", name="Sign in").click()
    field = page.get_by_label("API key")
    assert await field.get_attribute("aria-invalid") == "true"
    described = await field.get_attribute("aria-describedby") or ""
    messages = [await page.locator(f"#{ident}").inner_text() for ident in described.split()]
    assert "This API key is unknown, revoked or malformed" in messages
    await context.close()


async def test_a_form_posted_without_its_csrf_token_is_refused(
    browser: Browser, live_site: LiveSite
) -> None:
    context = await new_context(browser, live_site)
    page = await context.new_page()
    await page.goto("/sign-in")
    await page.evaluate("document.querySelector('main input[name=_csrf_token]').remove()")
    await page.get_by_label("API key").fill(live_site.members.regulator.key)
    async with page.expect_response(lambda response: response.request.method == "POST") as posted:
        await page.get_by_role("button", name="Sign in").click()
    assert (await posted.value).status == 403
    assert await page.get_by_role("heading", name="Not allowed").is_visible()
    assert "incidents_session" not in {cookie["name"] for cookie in await context.cookies()}
    await context.close()


async def test_a_revoked_keys_session_ends(browser: Browser, live_site: LiveSite) -> None:
    async with live_site.database.transaction() as connection:
        member = await make_member(
            connection, f"Revocable Regulator {uuid.uuid4().hex[:6]}", "regulator", "GH"
        )
    context = await new_context(browser, live_site)
    page = await context.new_page()
    await sign_in(page, member.key)
    assert await page.get_by_text(member.organization.name).is_visible()
    async with httpx.AsyncClient(base_url=live_site.url) as api:
        keys = await api.get(
            f"/api/v1/organizations/{member.organization.id}/keys", headers=member.headers
        )
        key_id = keys.json()["items"][0]["id"]
        revoked = await api.post(f"/api/v1/keys/{key_id}/revoke", headers=member.headers)
        assert revoked.status_code == 200, revoked.text
    await page.reload()
    assert not await page.get_by_text(member.organization.name).is_visible()
    assert await page.get_by_role("link", name="Sign in").is_visible()
    await context.close()
