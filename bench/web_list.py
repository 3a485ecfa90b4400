"""Server time of a web list page against the JSON API's same page: `uv run python -m
bench.web_list [--reports N]`.

The page is /search as a researcher signed in through the form; the JSON page is the API
address the page shows as its equivalent (the same filters, page size and facets). Both are
requested one at a time, alternately, on one worker; the figure is the ratio of their p95
times (target: at most 1.5x).
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

from bench.common import Result, ensure_registry, key_for, report, serve

QUERIES = [
    {},
    {"harm_domain": "4"},
    {"jurisdiction": "KE"},
    {"region": "Africa", "sector": "K"},
    {"severity": "serious_incident"},
    {"q": "deepfake"},
]
PAGE_SIZE = 20
ROUNDS = 10
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
    with httpx.Client(base_url=base, cookies=cookies, timeout=120) as client:
        for query in QUERIES:
            page = f"{path}?{urlencode(query)}" if query else path
            shown = _API.search(client.get(page).text)
            assert shown, f"{page} names no API address"
            pairs.append((page, shown.group(1).replace("&amp;", "&")))
    return pairs


def _p95(timings: list[float]) -> float:
    ordered = sorted(timings)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def compare(data_dir: Path, rounds: int = ROUNDS) -> list[Result]:
    """Each page and its JSON twin requested one at a time, alternately, on keep-alive
    connections: the time the server takes, without queueing behind other requests."""
    key = key_for(data_dir, "research")
    results = []
    with serve(data_dir) as service:
        cookies = _session(service.base, key)
        pairs = _equivalents(service.base, cookies, "/search")
        web_times: list[float] = []
        api_times: list[float] = []
        errors = 0
        with (
            httpx.Client(base_url=service.base, cookies=cookies, timeout=120) as browser,
            httpx.Client(
                base_url=service.base, headers={"Authorization": f"Bearer {key}"}, timeout=120
            ) as api,
        ):
            for round_number in range(rounds + 1):
                for page, equivalent in pairs:
                    for client, path, timings in (
                        (browser, page, web_times),
                        (api, equivalent, api_times),
                    ):
                        started = time.perf_counter()
                        answer = client.get(path)
                        elapsed = (time.perf_counter() - started) * 1000
                        errors += answer.status_code != 200
                        if round_number:  # the first round warms the caches
                            timings.append(elapsed)
        ratio = _p95(web_times) / max(_p95(api_times), 1e-9)
        results.append(
            Result(
                "/search page p95 vs the JSON API's same page",
                _p95(web_times),
                "ms",
                "<= 1.5x the API",
                ratio <= 1.5 and errors == 0,
                _p95(api_times),
                "same page from the JSON API",
                f"{len(QUERIES)} filter mixes x {rounds} as a researcher, one at a time, "
                f"web p50 {sorted(web_times)[len(web_times) // 2]:.0f} ms, errors {errors}",
            )
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    arguments = parser.parse_args()
    data_dir = ensure_registry(arguments.reports)
    results = compare(data_dir, arguments.rounds)
    report(results, f"web list pages at {arguments.reports:,} reports")


if __name__ == "__main__":
    main()
