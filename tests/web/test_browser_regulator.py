"""A regulator in a real browser: the pages meet the bars, filing works with JavaScript off and
by keyboard alone, possible duplicates appear as the title is typed, errors sit beside their
fields."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.web.browser import (
    LiveSite,
    Records,
    axe_violations,
    check_page,
    new_context,
    screenshot,
    sign_in,
)

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

pytestmark = [pytest.mark.slow, pytest.mark.browser]


async def test_regulator_pages_meet_the_bars(
    browser: Browser, live_site: LiveSite, axe_source: str, records: Records
) -> None:
    key = live_site.members.regulator.key
    for path, name in {
        "/my-reports": "my-reports",
        "/file": "file",
        f"/reports/{records.amber}": "own-report",
        f"/reports/{records.amber}/edit": "correct",
    }.items():
        await check_page(browser, live_site, axe_source, path, name, key=key)


async def _fill(page: Page, title: str) -> None:
    await page.locator("#field-title").fill(title)
    await page.locator("#field-summary").fill("A chatbot told callers their benefits had ended.")
    await page.get_by_label("Incident: harm happened").check()
    await page.locator("#field-occurred_on").fill("2026-04-02")
    await page.locator("#field-severity").select_option("incident")
    await page.locator("#field-harm_domain").select_option("3.1")
    await page.locator("#field-harm_type").select_option("economic_property")
    await page.locator("#field-ai_system_name").fill("BenefitBot")
    await page.locator("#field-affected_jurisdictions").fill("Kenya")
    await page.get_by_label("TLP:GREEN", exact=False).check()


async def test_filing_works_with_javascript_off(browser: Browser, live_site: LiveSite) -> None:
    context = await new_context(browser, live_site, javascript=False)
    page = await context.new_page()
    await sign_in(page, live_site.members.regulator.key)
    await page.goto("/file")
    await _fill(page, "")
    await page.get_by_role("button", name="Submit to the registry").click()
    await page.wait_for_load_state()
    # The API's error, beside its field; nothing typed is lost.
    title = page.locator("#field-title")
    assert await title.get_attribute("aria-invalid") == "true"
    assert await page.locator("#field-ai_system_name").input_value() == "BenefitBot"
    assert await page.locator("#error-title-1").inner_text() == "Required field is missing"
    await title.fill("Benefits chatbot wrongly tells callers their payments ended")
    await page.get_by_role("button", name="Submit to the registry").click()
    await page.wait_for_load_state()
    assert "/reports/RPT-" in page.url
    assert await page.get_by_role(
        "heading", name="Benefits chatbot wrongly tells callers their payments ended"
    ).is_visible()
    await context.close()


async def test_duplicates_appear_as_the_title_is_typed_and_filing_by_keyboard(
    browser: Browser, live_site: LiveSite, axe_source: str
) -> None:
    context = await new_context(browser, live_site)
    page = await context.new_page()
    await sign_in(page, live_site.members.regulator.key)
    await page.goto("/file")
    await _fill(page, "")
    # The form with an error shown meets the bars too.
    await page.get_by_role("button", name="Submit to the registry").click()
    await page.wait_for_load_state()
    assert await page.locator("#error-title-1").is_visible()
    await screenshot(page, "file-errors")
    assert await axe_violations(page, axe_source) == []
    title = page.locator("#field-title")
    await title.focus()
    async with page.expect_response(lambda response: "/file/duplicates" in response.url):
        await page.keyboard.type("Credit scoring model denies loans to women")
    join = page.get_by_role("radio", name="Join", exact=False).first
    await join.wait_for()
    assert "Credit scoring" in (await page.locator("#duplicates").inner_text())
    # Keyboard alone: move to the candidate, choose it, then submit.
    await join.focus()
    await page.keyboard.press("Space")
    assert await join.is_checked()
    await page.get_by_role("button", name="Submit to the registry").focus()
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/reports/RPT-*")
    await page.locator("dl.facts a[href^='/incidents/']").click()
    await page.wait_for_url("**/incidents/INC-*")
    # The new report joined the incident of the report it duplicates.
    assert (
        await page.get_by_role(
            "link", name="Credit scoring model denies loans to women at twice the rate"
        ).count()
        + await page.get_by_text(
            "Credit scoring model denies loans to women at twice the rate"
        ).count()
        > 0
    )
    await context.close()


async def test_every_field_of_the_filing_form_is_reached_by_tab(
    browser: Browser, live_site: LiveSite
) -> None:
    context = await new_context(browser, live_site)
    page = await context.new_page()
    await sign_in(page, live_site.members.regulator.key)
    await page.goto("/file")
    reached: list[str] = []
    for _ in range(400):
        await page.keyboard.press("Tab")
        name, text = await page.evaluate(
            "[document.activeElement.name || '', document.activeElement.textContent.trim()]"
        )
        reached.append(name)
        if text == "Submit to the registry":
            break
    else:
        pytest.fail("Tab never reached the submit button")
    wanted = {
        "title",
        "summary",
        "event_type",
        "occurred_on",
        "detected_on",
        "severity",
        "eu_serious_incident",
        "harm_domain",
        "harm_type",
        "affected_groups",
        "ai_system_name",
        "developer",
        "deployer",
        "system_type",
        "sectors",
        "affected_jurisdictions",
        "people_affected",
        "source_url",
        "language",
        "sharing",
        "incident",
    }
    assert wanted <= set(reached), wanted - set(reached)
    await context.close()
