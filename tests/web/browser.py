"""The browser test harness: a live server on a committed database, headless Chromium from
Debian's package driven by Playwright (never a browser of Playwright's own), axe-core injected
into each page, each page's first-load transfer measured, and screenshots at desktop and phone
widths written to docs/screenshots/.

``INCIDENTS_BROWSER_TESTS``: unset, the browser tests skip (saying why) when Chromium, Playwright
or axe-core is missing; ``required`` (CI) makes that a failure; ``off`` skips them.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import msgspec
import pytest

from incidents.app import create_app
from incidents.config import Settings
from incidents.db import Database, create_engine
from tests.factories import Members, make_members
from tests.web.axe import AxeUnavailable, axe_script

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Page

MODE_VARIABLE = "INCIDENTS_BROWSER_TESTS"
CHROMIUM = Path(os.environ.get("INCIDENTS_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_PRESENT = CHROMIUM.is_file()
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
#: Every page's first load, everything included, compressed as sent (issue 14).
MAX_FIRST_LOAD_BYTES = 150_000
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _mode() -> str:
    return os.environ.get(MODE_VARIABLE, "").strip().lower()


def unavailable(reason: str) -> None:
    """Skip, or fail when the browser tests are required."""
    if _mode() == "required":
        pytest.fail(f"{MODE_VARIABLE}=required but {reason}")
    pytest.skip(f"browser tests skipped: {reason} (set {MODE_VARIABLE}=required to fail instead)")


class LiveSite(msgspec.Struct):
    url: str
    members: Members
    database: Database
    """On the tests' event loop (the server has its own), for setting up data."""


class _ServerThread(threading.Thread):
    def __init__(self, app: Any, port: int) -> None:
        super().__init__(daemon=True, name="live-server")
        import uvicorn

        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
        )

    def run(self) -> None:
        self.server.run()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="session")
async def live_site(
    server_url: str, template_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveSite]:
    """The whole service on a port of its own, on a database where commits are real."""
    from tests.conftest import cloned_database

    if _mode() == "off":
        pytest.skip(f"{MODE_VARIABLE}=off")
    async with cloned_database(server_url, template_url) as url:
        database = Database(create_engine(url, pool_size=2))
        async with database.transaction() as connection:
            members = await make_members(connection)
        settings = Settings(
            database_url=url, data_dir=tmp_path_factory.mktemp("live"), auth_cache_seconds=0
        )
        port = _free_port()
        thread = _ServerThread(create_app(settings), port)
        thread.start()
        for _ in range(200):
            if thread.server.started:
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("the live server did not start")
        try:
            yield LiveSite(url=f"http://127.0.0.1:{port}", members=members, database=database)
        finally:
            thread.server.should_exit = True
            await asyncio.to_thread(thread.join, 10)
            await database.dispose()


@pytest.fixture(scope="session")
def axe_source() -> str:
    if _mode() == "off":
        pytest.skip(f"{MODE_VARIABLE}=off")
    try:
        return axe_script().read_text()
    except AxeUnavailable as error:
        unavailable(str(error))
        raise


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if _mode() == "off":
        pytest.skip(f"{MODE_VARIABLE}=off")
    if not CHROMIUM_PRESENT:
        unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        unavailable("the playwright package is not installed")
        raise
    async with async_playwright() as playwright:
        args = ["--no-sandbox"] if os.geteuid() == 0 else []
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=args
        )
        yield launched
        await launched.close()


class Visit(msgspec.Struct):
    """One page's first load in a fresh browser, as measured."""

    transferred: int
    """Bytes on the wire (headers and compressed bodies) of every request of the first load."""
    requests: list[str]
    console_errors: list[str]
    """Errors in the console (a CSP refusal, a script error), failed loads excepted: those
    are in ``statuses``."""
    statuses: dict[str, int]
    """Each URL's HTTP status."""


async def new_context(
    browser: Browser,
    site: LiveSite,
    *,
    viewport: dict[str, int] = DESKTOP,
    javascript: bool = True,
) -> BrowserContext:
    return await browser.new_context(
        base_url=site.url,
        viewport=viewport,  # type: ignore[arg-type]  # a ViewportSize TypedDict
        java_script_enabled=javascript,
        locale="en-GB",
    )


async def sign_in(page: Page, key: str) -> None:
    """Sign in through the form, as a person would."""
    await page.goto("/sign-in")
    await page.get_by_label("API key").fill(key)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_load_state()


async def first_load(page: Page, path: str) -> Visit:
    """Load ``path`` with an empty cache, counting every byte the network carried."""
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("Network.enable")
    await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    sizes: dict[str, float] = {}
    urls: dict[str, str] = {}
    errors: list[str] = []

    def finished(event: dict[str, Any]) -> None:
        sizes[event["requestId"]] = event["encodedDataLength"]

    def sent(event: dict[str, Any]) -> None:
        urls[event["requestId"]] = event["request"]["url"]

    def received(event: dict[str, Any]) -> None:
        statuses[event["response"]["url"]] = int(event["response"]["status"])

    def logged(message: Any) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    statuses: dict[str, int] = {}
    cdp.on("Network.loadingFinished", finished)
    cdp.on("Network.requestWillBeSent", sent)
    cdp.on("Network.responseReceived", received)
    page.on("console", logged)
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(path, wait_until="networkidle")
    await cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
    await cdp.detach()
    return Visit(
        transferred=int(sum(sizes.values())),
        requests=sorted(urls.values()),
        console_errors=errors,
        statuses=statuses,
    )


async def axe_violations(page: Page, axe_source: str) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A and AA violations on the page as it is now. Evaluated through the
    DevTools protocol, which the page's Content-Security-Policy does not govern."""
    await page.evaluate(axe_source + "\n;undefined")
    result: dict[str, Any] = await page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        AXE_TAGS,
    )
    return [
        {
            "id": violation["id"],
            "help": violation["help"],
            "nodes": [node["target"] for node in violation["nodes"]][:5],
        }
        for violation in result["violations"]
    ]


async def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    suffix = "phone" if width and width <= PHONE["width"] else "desktop"
    path = SCREENSHOTS / f"{name}-{suffix}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


async def check_page(
    browser: Browser,
    site: LiveSite,
    axe_source: str,
    path: str,
    name: str,
    *,
    key: str | None = None,
    status: int = 200,
) -> Visit:
    """The bars every page meets: first load <= 150 kB, no console error (a CSP refusal is
    one), 0 axe violations at WCAG 2.1 AA at desktop and phone widths; screenshots of both."""
    visit: Visit | None = None
    for viewport in (DESKTOP, PHONE):
        context = await new_context(browser, site, viewport=viewport)
        try:
            page = await context.new_page()
            if key is not None:
                await sign_in(page, key)
            measured = await first_load(page, path)
            visit = visit or measured
            assert measured.console_errors == [], measured.console_errors
            page_url = site.url + path
            assert measured.statuses.get(page_url) == status, measured.statuses
            others = {url: code for url, code in measured.statuses.items() if url != page_url}
            assert all(code in {200, 304} for code in others.values()), others
            assert measured.transferred <= MAX_FIRST_LOAD_BYTES, (
                f"{path}: first load {measured.transferred} bytes > {MAX_FIRST_LOAD_BYTES}"
            )
            assert all(url.startswith((site.url, "data:")) for url in measured.requests), (
                measured.requests
            )
            await screenshot(page, name)
            # The figure, for whoever runs with -s (the README quotes them).
            print(f"first load {path} at {viewport['width']}px: {measured.transferred:,} bytes")
            violations = await axe_violations(page, axe_source)
            assert violations == [], f"{path} at {viewport['width']}px: {violations}"
        finally:
            await context.close()
    assert visit is not None
    return visit


class Records(msgspec.Struct):
    """Reports filed on the live site through its API, by role and sharing level."""

    public: list[str]
    public_incident: str
    green: str
    amber: str


SAMPLE_TITLES = (
    ("Facial recognition misidentifies commuters at metro gates", ["KE"], "H"),
    ("Credit scoring model denies loans to women at twice the rate", ["KE", "UG"], "K"),
    ("Hospital triage chatbot gives unsafe medication advice", ["KE"], "Q"),
)


@pytest.fixture(scope="session")
async def records(live_site: LiveSite) -> Records:
    from tests.factories import report_payload

    members = live_site.members
    public: list[str] = []
    incident = ""
    async with httpx.AsyncClient(base_url=live_site.url) as api:
        for title, countries, sector in SAMPLE_TITLES:
            filed = await api.post(
                "/api/v1/reports",
                json=report_payload(
                    title=title,
                    sharing="TLP:CLEAR",
                    affected_jurisdictions=countries,
                    sectors=[sector],
                ),
                headers=members.regulator.headers,
            )
            assert filed.status_code == 201, filed.text
            ref = filed.json()["report"]["ref"]
            accepted = await api.post(
                f"/api/v1/reports/{ref}/accept", headers=members.secretariat.headers
            )
            assert accepted.status_code == 200, accepted.text
            public.append(ref)
            incident = accepted.json()["incident"]["ref"]
        refs = {}
        for sharing in ("TLP:GREEN", "TLP:AMBER"):
            filed = await api.post(
                "/api/v1/reports",
                json=report_payload(title=f"Restricted {sharing} report", sharing=sharing),
                headers=members.regulator.headers,
            )
            assert filed.status_code == 201, filed.text
            refs[sharing] = filed.json()["report"]["ref"]
    return Records(
        public=public,
        public_incident=incident,
        green=refs["TLP:GREEN"],
        amber=refs["TLP:AMBER"],
    )
