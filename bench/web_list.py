"""Server time of a web list page against the JSON API's same page: `uv run python -m
bench.web_list [--reports N]`.

The page is /search (and /explore) as a researcher signed in through the form; the JSON page is
the API address the page shows as its equivalent (the same filters, page size and facets).
Both are requested open-loop at the same rate, interleaved, on one worker; the figure is the
ratio of their p95 latencies (target: at most 1.5x).
"""

from __future__ import annotations

import argparse
import asyncio
import re
from pathlib import Path
from urllib.parse import urlencode

import httpx

from bench.common import Result, ensure_registry, http_request, key_for, open_loop, report, serve

QUERIES = [
    {},
    {"harm_domain": "4"},
    {"jurisdiction": "KE"},
    {"region": "Africa", "sector": "K"},
    {"severity": "serious_incident"},
    {"q": "deepfake"},
]
PAGE_SIZE = 20
RATE = 10
SECONDS = 30
_API = re.compile(r"<code>(/api/v1/[^<]+)</code>")


def _session(base: str, key: str) -> dict[str, str]:
    """Sign in through the form as a browser does; the cookies that carry the session."""
    with httpx.Client(base_url=base, follow_redirects=False) as client:
        form = client.get("/sign-in")
        token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
        assert token, "no CSRF field on the sign-in page"
        answer = client.post("/sign-in", data={"api_key": key, "_csrf_token": token.group(1)})
        assert answer.status_code == 303, answer.text
        return dict(client.cookies)


def _equivalents(base: str, cookies: dict[str, str], path: str) -> list[tuple[str, str]]:
    """(page, the API address it names) for each query."""
    pairs = []
    with httpx.Client(base_url=base, cookies=cookies) as client:
        for query in QUERIES:
            page = f"{path}?{urlencode(query)}" if query else path
            shown = _API.search(client.get(page).text)
            assert shown, f"{page} names no API address"
            pairs.append((page, shown.group(1).replace("&amp;", "&")))
    return pairs


async def compare(data_dir: Path) -> list[Result]:
    key = key_for(data_dir, "research")
    results = []
    with serve(data_dir) as service:
        cookies = _session(service.base, key)
        cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
        for path in ("/search", "/explore"):
            pairs = _equivalents(service.base, cookies, path)
            pages = [http_request("GET", page, headers={"Cookie": cookie}) for page, _ in pairs]
            apis = [
                http_request("GET", api, headers={"Authorization": f"Bearer {key}"})
                for _, api in pairs
            ]
            for payloads in (pages, apis):  # warm both once
                await open_loop(
                    service.base, 20, len(payloads) / 20, lambda i, p=payloads: p[i % len(p)]
                )
            web = await open_loop(service.base, RATE, SECONDS, lambda i, p=pages: p[i % len(p)])
            api = await open_loop(service.base, RATE, SECONDS, lambda i, p=apis: p[i % len(p)])
            ratio = web.percentile(0.95) / max(api.percentile(0.95), 1e-9)
            results.append(
                Result(
                    f"{path} page p95 vs JSON API's same page",
                    web.percentile(0.95),
                    "ms",
                    "<= 1.5x the API",
                    ratio <= 1.5 and web.errors == 0 and api.errors == 0,
                    api.percentile(0.95),
                    "same page from the JSON API",
                    f"{len(QUERIES)} filter mixes as a researcher at {RATE}/s, "
                    f"ratio {ratio:.2f}, errors {web.errors}/{api.errors}",
                )
            )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=1_000_000)
    arguments = parser.parse_args()
    data_dir = ensure_registry(arguments.reports)
    results = asyncio.run(compare(data_dir))
    report(results, f"web list pages at {arguments.reports:,} reports")


if __name__ == "__main__":
    main()
