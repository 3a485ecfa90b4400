"""Fixtures of the web tests: the browser harness (tests/web/browser.py)."""

from tests.web.browser import axe_source, browser, live_site, records

__all__ = ["axe_source", "browser", "live_site", "records"]
