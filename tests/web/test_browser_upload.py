"""The batch upload in a real browser: a small messy CSV with a mapping, its preview naming each
problem by file line and column, then the good rows imported; every page at the bars (axe 0
violations, first load <= 150 kB, screenshots at desktop and phone widths)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.web.browser import (
    DESKTOP,
    MAX_FIRST_LOAD_BYTES,
    PHONE,
    LiveSite,
    axe_violations,
    check_page,
    first_load,
    new_context,
    screenshot,
    sign_in,
)

if TYPE_CHECKING:
    from playwright.async_api import Browser, FilePayload, Page

pytestmark = [pytest.mark.slow, pytest.mark.browser]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MAPPING = (EXAMPLES / "national-register.toml").read_text()
# Browser-only references (so that no other test's rows collide): line 3 has a date in the
# wrong form, line 4 a country nobody knows.
MESSY = (
    (EXAMPLES / "national-register.csv")
    .read_text()
    .replace("KE-2026-", "WEB-2026-")
    .replace("02/04/2026", "2026-04-02")
    .replace("Kenya,MediChat", "Atlantis,MediChat")
)


async def _meets_the_bars(page: Page, axe_source: str, path: str, name: str) -> None:
    visit = await first_load(page, path)
    assert visit.console_errors == [], visit.console_errors
    assert visit.transferred <= MAX_FIRST_LOAD_BYTES, visit.transferred
    width = page.viewport_size["width"] if page.viewport_size else 0
    print(f"first load {name} at {width}px: {visit.transferred:,} bytes")
    await screenshot(page, name)
    assert await axe_violations(page, axe_source) == []


async def test_upload_form_meets_the_bars(
    browser: Browser, live_site: LiveSite, axe_source: str
) -> None:
    key = live_site.members.regulator.key
    await check_page(browser, live_site, axe_source, "/upload", "upload", key=key)


async def test_a_messy_csv_previewed_then_its_good_rows_imported(
    browser: Browser, live_site: LiveSite, axe_source: str
) -> None:
    for viewport, partial in ((PHONE, False), (DESKTOP, True)):
        context = await new_context(browser, live_site, viewport=viewport)
        page = await context.new_page()
        await sign_in(page, live_site.members.regulator.key)
        await page.goto("/upload")
        payload: FilePayload = {
            "name": "register.csv",
            "mimeType": "text/csv",
            "buffer": MESSY.encode(),
        }
        await page.locator("#field-file").set_input_files(files=[payload])
        await page.locator("#field-mapping").fill(MAPPING)
        await page.get_by_role("button", name="Preview").click()
        await page.wait_for_load_state()
        assert "/upload/" in page.url
        problems = page.locator("#problems + .table-wrap tbody tr")
        assert await problems.count() == 2
        first = await problems.nth(0).locator("td").all_inner_texts()
        assert first[:2] == ["3", "Opened"]
        second = await problems.nth(1).locator("td").all_inner_texts()
        assert second[:2] == ["4", "Countries"]
        preview = page.url.removeprefix(live_site.url)
        await _meets_the_bars(page, axe_source, preview, "upload-preview")
        if not partial:
            await context.close()
            continue
        await page.get_by_role("button", name="Import the good rows").click()
        await page.wait_for_load_state()
        assert await page.get_by_role("heading", name="Imported").is_visible()
        assert await page.get_by_text("1 reports created, 0 updated, 0 unchanged").is_visible()
        assert await axe_violations(page, axe_source) == []
        await screenshot(page, "upload-imported")
        download = page.get_by_role("link", name="Download the refused rows")
        assert await download.is_visible()
        await context.close()
