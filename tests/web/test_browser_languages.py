"""The registry in each of its six languages, in a real browser: a regulator files a report
(one error shown beside its field, then fixed), a search, and the published briefs' page; each
page in the browser's language (`lang`, `dir`), 0 axe violations; Arabic right to left with no
horizontal overflow at desktop and phone widths; the switch remembered across pages."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import httpx
import pytest

from incidents.web.i18n import catalog
from tests.web.browser import (
    DESKTOP,
    PHONE,
    LiveSite,
    Records,
    axe_violations,
    screenshot,
)

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Page

pytestmark = [pytest.mark.slow, pytest.mark.browser]

#: The browser's locale (its Accept-Language), the page's `lang` and direction.
LANGUAGES = {
    "ar": ("ar-EG", "ar", "rtl"),
    "zh": ("zh-CN", "zh-Hans", "ltr"),
    "en": ("en-GB", "en", "ltr"),
    "fr": ("fr-SN", "fr", "ltr"),
    "ru": ("ru-KZ", "ru", "ltr"),
    "es": ("es-PE", "es", "ltr"),
}
BRIEF_PERIOD = "2026-Q1"
#: The pages photographed for the README (docs/screenshots/<language>-<page>-<width>.png).
PHOTOGRAPHED = {("ar", "file-errors"), ("ar", "search"), ("zh", "file-errors"), ("zh", "search")}


@pytest.fixture(scope="module")
async def published_briefs(live_site: LiveSite, records: Records) -> dict[str, str]:
    """A brief of the live site's accepted reports in each language (`BriefRequest.language`),
    approved and published through the API; language -> brief id. A brief's language is not
    part of its series (period, scope), so each publication supersedes the one before: all
    stay public at their addresses, the last one listed as current."""
    secretariat = live_site.members.secretariat.headers
    published: dict[str, str] = {}
    async with httpx.AsyncClient(base_url=live_site.url, timeout=30) as api:
        for language in LANGUAGES:
            queued = await api.post(
                "/api/v1/briefs",
                json={"period": BRIEF_PERIOD, "language": language},
                headers=secretariat,
            )
            assert queued.status_code == 202, queued.text
            location = queued.headers["location"]
            status = "queued"
            for _ in range(1200):
                status = (await api.get(location, headers=secretariat)).json()["status"]
                if status not in {"queued", "running"}:
                    break
                await asyncio.sleep(0.1)
            assert status == "draft", (language, status)
            edited = await api.patch(
                location,
                json={"issuing_body": "Secretariat", "issued_on": "2026-04-15"},
                headers=secretariat,
            )
            assert edited.status_code == 200, edited.text
            approved = await api.post(f"{location}/approve", headers=secretariat)
            assert approved.status_code == 200, approved.text
            publishing = await api.post(f"{location}/publish", headers=secretariat)
            assert publishing.status_code == 200, publishing.text
            published[language] = location.rsplit("/", 1)[1]
    return published


async def _context(
    browser: Browser, site: LiveSite, locale: str, viewport: dict[str, int] = DESKTOP
) -> BrowserContext:
    return await browser.new_context(
        base_url=site.url,
        viewport=viewport,  # type: ignore[arg-type]  # a ViewportSize TypedDict
        locale=locale,
    )


async def _check(page: Page, axe_source: str, language: str, name: str) -> None:
    """The page is in the language, meets axe, and (Arabic) runs right to left without
    overflowing at desktop and phone widths."""
    _, lang, direction = LANGUAGES[language]
    root = page.locator("html")
    assert await root.get_attribute("lang") == lang, page.url
    assert await root.get_attribute("dir") == direction, page.url
    for viewport in (DESKTOP, PHONE):
        await page.set_viewport_size(viewport)  # type: ignore[arg-type]  # a ViewportSize
        if direction == "rtl":
            widths = await page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            assert widths[0] <= widths[1], (page.url, viewport, widths)
            assert await page.evaluate("getComputedStyle(document.body).direction") == "rtl"
        violations = await axe_violations(page, axe_source)
        assert violations == [], f"{page.url} in {language} at {viewport['width']}px: {violations}"
        if (language, name) in PHOTOGRAPHED:
            await screenshot(page, f"{language}-{name}")
    await page.set_viewport_size(DESKTOP)  # type: ignore[arg-type]  # a ViewportSize


async def _sign_in(page: Page, key: str) -> None:
    """Through the sign-in form, whatever the language of its labels."""
    await page.goto("/sign-in")
    await page.locator("main input[name=api_key]").fill(key)
    await page.locator("main button[type=submit]").click()
    await page.wait_for_load_state()


async def _fill(page: Page, title: str) -> None:
    """The filing form, by field names and values (the labels are in the page's language)."""
    await page.locator("#field-title").fill(title)
    await page.locator("#field-summary").fill("A chatbot told callers their benefits had ended.")
    await page.locator("input[name=event_type][value=incident]").check()
    await page.locator("#field-occurred_on").fill("2026-02-02")
    await page.locator("#field-severity").select_option("incident")
    await page.locator("#field-harm_domain").select_option("3.1")
    await page.locator("#field-harm_type").select_option("economic_property")
    await page.locator("#field-ai_system_name").fill("BenefitBot")
    await page.locator("#field-affected_jurisdictions").fill("KE")
    await page.locator("input[name=sharing][value='TLP:GREEN']").check()


@pytest.mark.parametrize("language", list(LANGUAGES))
async def test_filing_search_and_briefs_in_each_language(
    browser: Browser,
    live_site: LiveSite,
    axe_source: str,
    records: Records,
    published_briefs: dict[str, str],
    language: str,
) -> None:
    locale, _, _ = LANGUAGES[language]
    words = catalog(language).gettext
    context = await _context(browser, live_site, locale)
    page = await context.new_page()
    try:
        await _sign_in(page, live_site.members.regulator.key)
        # Filing: a draft with its title missing shows the error beside the field, nothing
        # typed is lost; with the title the report is stored and shown.
        await page.goto("/file")
        await _check(page, axe_source, language, "file")
        await _fill(page, "")
        submit = page.get_by_role("button", name=words("Submit to the registry"), exact=True)
        await submit.click()
        await page.wait_for_load_state()
        title = page.locator("#field-title")
        assert await title.get_attribute("aria-invalid") == "true"
        assert await page.locator("#error-title-1").is_visible()
        # The API's reason, in the page's language (the API's own words in English).
        assert await page.locator("#error-title-1").inner_text() == words(
            "Required field is missing"
        )
        assert await page.locator("#field-ai_system_name").input_value() == "BenefitBot"
        await _check(page, axe_source, language, "file-errors")
        filed_title = f"Benefits chatbot wrongly ends payments ({language})"
        await title.fill(filed_title)
        await page.get_by_role("button", name=words("Submit to the registry"), exact=True).click()
        await page.wait_for_url("**/reports/RPT-*")
        assert await page.get_by_role("heading", name=filed_title).is_visible()
        await _check(page, axe_source, language, "report")
        # Search: the public incidents, found and listed in the page's language.
        await page.goto("/search?q=credit")
        assert await page.get_by_text("Credit scoring model denies loans").first.is_visible()
        assert await page.get_by_role("heading", name=words("Search the registry")).count() > 0
        # The facets are in this page's language, whatever language was served before.
        assert await page.get_by_text(words("Sharing level"), exact=True).count() > 0
        await _check(page, axe_source, language, "search")
        # The published briefs, listed with their documents; then the brief made in this
        # language, read as a web page (Arabic right to left, without overflow).
        brief = published_briefs[language]
        await page.goto("/briefs")
        assert await page.get_by_role("heading", name=words("Risk briefs")).is_visible()
        assert await page.locator(f"a[href='/api/v1/briefs/{brief}/brief.pdf']").count()
        await _check(page, axe_source, language, "briefs")
        await page.goto(f"/api/v1/briefs/{brief}/brief.html")
        root = page.locator("html")
        assert (await root.get_attribute("lang") or "").split("-")[0] == language
        assert await root.get_attribute("dir") == LANGUAGES[language][2]
        if language == "ar":
            assert await _overflow(page, DESKTOP) == []
    finally:
        await context.close()


async def _overflow(page: Page, viewport: dict[str, int]) -> list[str]:
    """What sticks out past the page's width at this viewport (empty: nothing)."""
    await page.set_viewport_size(viewport)  # type: ignore[arg-type]  # a ViewportSize
    found: list[str] = await page.evaluate(
        """() => {
            const root = document.documentElement;
            if (root.scrollWidth <= root.clientWidth) return [];
            return [...document.body.querySelectorAll('*')]
                .filter((el) => { const box = el.getBoundingClientRect();
                                  return box.left < -1 || box.right > root.clientWidth + 1; })
                .slice(0, 5).map((el) => el.tagName + '.' + el.className);
        }"""
    )
    return found


async def test_the_arabic_brief_fits_a_phone(
    browser: Browser, live_site: LiveSite, published_briefs: dict[str, str]
) -> None:
    context = await _context(browser, live_site, "ar-EG", PHONE)
    page = await context.new_page()
    try:
        await page.goto(f"/api/v1/briefs/{published_briefs['ar']}/brief.html")
        assert await _overflow(page, PHONE) == []
    finally:
        await context.close()


async def test_the_switch_is_remembered_without_javascript(
    browser: Browser, live_site: LiveSite
) -> None:
    context = await browser.new_context(
        base_url=live_site.url, java_script_enabled=False, locale="en-GB"
    )
    page = await context.new_page()
    try:
        await page.goto("/search?q=credit")
        await page.get_by_role("button", name="العربية").click()
        await page.wait_for_url("**/search?q=credit")
        assert await page.locator("html").get_attribute("dir") == "rtl"
        await page.goto("/briefs")
        assert await page.locator("html").get_attribute("lang") == "ar"
        assert await page.get_by_role("heading", name="موجزات المخاطر").is_visible()
        await page.get_by_role("button", name="中文").click()
        await page.wait_for_url("**/briefs")
        assert await page.locator("html").get_attribute("lang") == "zh-Hans"
    finally:
        await context.close()
