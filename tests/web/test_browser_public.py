"""The public pages in a real browser: every page meets the bars, search works without
JavaScript, and a researcher gets the not-found page for an AMBER report's address."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.web.browser import LiveSite, Records, check_page, new_context, sign_in

if TYPE_CHECKING:
    from playwright.async_api import Browser

pytestmark = [pytest.mark.slow, pytest.mark.browser]


async def test_public_pages_meet_the_bars(
    browser: Browser, live_site: LiveSite, axe_source: str, records: Records
) -> None:
    pages = {
        "/": "home",
        "/search": "search",
        "/search?view=incidents&sector=K": "search-incidents",
        f"/reports/{records.public[0]}": "report",
        f"/incidents/{records.public_incident}": "incident",
        "/briefs": "briefs",
    }
    for path, name in pages.items():
        await check_page(browser, live_site, axe_source, path, name)


async def test_a_researcher_gets_the_not_found_page_for_an_amber_report(
    browser: Browser, live_site: LiveSite, records: Records
) -> None:
    context = await new_context(browser, live_site)
    page = await context.new_page()
    await sign_in(page, live_site.members.researcher.key)
    amber = await page.goto(f"/reports/{records.amber}")
    assert amber is not None
    assert amber.status == 404
    amber_text = await page.locator("main").inner_text()
    missing = await page.goto("/reports/RPT-2026-999999")
    assert missing is not None
    assert missing.status == 404
    assert await page.locator("main").inner_text() == amber_text
    green = await page.goto(f"/reports/{records.green}")
    assert green is not None
    assert green.status == 200
    await context.close()


async def test_search_with_facets_works_without_javascript(
    browser: Browser, live_site: LiveSite, records: Records
) -> None:
    context = await new_context(browser, live_site, javascript=False)
    page = await context.new_page()
    await page.goto("/search")
    await page.get_by_label("Search words").fill("credit scoring")
    await page.get_by_role("button", name="Apply filters").click()
    await page.wait_for_load_state()
    titles = await page.locator("ul.items h3").all_inner_texts()
    assert titles[0] == "Credit scoring model denies loans to women at twice the rate"
    await page.locator("summary", has_text="Sector").click()
    await page.get_by_label("Financial and insurance activities").check()
    await page.get_by_role("button", name="Apply filters").click()
    await page.wait_for_load_state()
    assert "sector=K" in page.url
    assert await page.locator("ul.items h3").all_inner_texts() == [titles[0]]
    await context.close()
