"""The explorer in a real browser: the bars, and a download of the current view."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.web.browser import LiveSite, Records, check_page, new_context, sign_in

if TYPE_CHECKING:
    from playwright.async_api import Browser

pytestmark = [pytest.mark.slow, pytest.mark.browser]


async def test_explorer_meets_the_bars(
    browser: Browser, live_site: LiveSite, axe_source: str, records: Records
) -> None:
    key = live_site.members.researcher.key
    await check_page(browser, live_site, axe_source, "/explore", "explore", key=key)
    await check_page(
        browser,
        live_site,
        axe_source,
        "/explore?view=incidents&sector=K",
        "explore-incidents",
        key=key,
    )


async def test_the_current_view_downloads_as_csv(
    browser: Browser, live_site: LiveSite, records: Records
) -> None:
    context = await new_context(browser, live_site)
    page = await context.new_page()
    await sign_in(page, live_site.members.researcher.key)
    await page.goto("/explore?sector=K")
    async with page.expect_download() as downloading:
        await page.get_by_role("link", name="Download this view as CSV").click()
    download = await downloading.value
    path = await download.path()
    text = path.read_text()
    assert "Credit scoring model denies loans to women at twice the rate" in text
    assert "Hospital triage chatbot" not in text
    await context.close()
