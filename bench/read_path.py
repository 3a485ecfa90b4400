"""Issue 16, the read path: list-page capacity against the same SQL from a bare handler on raw
asyncpg, p99 at half of the service's own capacity, and repeated anonymous reads from the
public validators and caches against the same reads uncached:
`uv run python -m bench.read_path [--reports N] [--seconds S]`."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

from bench.common import (
    Result,
    ensure_registry,
    http_request,
    key_for,
    open_loop,
    report,
    serve,
    wrk,
)
from bench.reads import LIST_QUERIES, _page_sql, _principal, _rotating
from bench.writes import baseline_server

PUBLIC_QUERIES: list[dict[str, str]] = [
    {},
    {"harm_domain": "4"},
    {"jurisdiction": "KE"},
    {"q": "deepfake"},
]


async def list_capacity(data_dir: Path, seconds: int) -> list[Result]:
    key = key_for(data_dir, "research")
    headers = {"Authorization": f"Bearer {key}"}
    list_paths = [f"/api/v1/reports?{urlencode({**q, 'limit': 50})}" for q in LIST_QUERIES]
    with serve(data_dir) as service:
        principal = await _principal(service.database_url, "research")
        pages = await _page_sql(service.database_url, principal, LIST_QUERIES)
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump(pages, handle)
        os.environ["BENCH_LIST_SQL"] = handle.name
        baseline_paths = [f"/pages/{index}" for index in range(len(pages))]
        try:
            with baseline_server(service.database_url) as baseline:
                for path in list_paths:  # warm both
                    await open_loop(
                        service.base,
                        20,
                        0.2,
                        lambda _, p=path: http_request("GET", p, headers=headers),
                    )
                for path in baseline_paths:
                    await open_loop(baseline, 20, 0.2, lambda _, p=path: http_request("GET", p))
                closed = wrk(
                    f"{service.base}/api/v1/reports",
                    seconds=seconds,
                    connections=16,
                    script=_rotating(list_paths),
                    headers=[f"Authorization: Bearer {key}"],
                )
                bare = wrk(
                    f"{baseline}/pages/0",
                    seconds=seconds,
                    connections=16,
                    script=_rotating(baseline_paths),
                )
                half = closed["rate"] / 2
                offered = await open_loop(
                    service.base,
                    half,
                    seconds,
                    lambda i: http_request("GET", list_paths[i % len(list_paths)], headers=headers),
                )
                bare_offered = await open_loop(
                    baseline,
                    half,
                    seconds,
                    lambda i: http_request("GET", baseline_paths[i % len(baseline_paths)]),
                )
        finally:
            os.environ.pop("BENCH_LIST_SQL", None)
            os.unlink(handle.name)  # noqa: PTH108  # no blocking pathlib call in async code
    return [
        Result(
            "list page of 50, throughput (closed loop)",
            closed["rate"],
            "pages/s",
            ">= 0.6x the bare handler",
            closed["rate"] >= 0.6 * bare["rate"] and closed["errors"] == 0,
            bare["rate"],
            "same SQL, bare handler on raw asyncpg",
            f"wrk 16 connections {seconds}s, {len(LIST_QUERIES)} filter mixes as a researcher, "
            f"p50 {closed['p50']:.1f} ms vs {bare['p50']:.1f} ms",
        ),
        Result(
            f"list page of 50, p99 at half capacity ({half:.0f}/s)",
            offered.percentile(0.99),
            "ms",
            "<= 20 ms",
            offered.percentile(0.99) <= 20 and offered.errors == 0,
            bare_offered.percentile(0.99),
            "bare handler, same rate",
            f"open loop {seconds}s, p50 {offered.percentile(0.5):.1f} ms, errors {offered.errors}",
        ),
    ]


def _closed(client: httpx.Client, paths: list[str], seconds: float, etags: dict[str, str]) -> float:
    """Requests one after another for ``seconds`` (with If-None-Match when ``etags`` names the
    path); the rate answered, every answer checked."""
    count = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        path = paths[count % len(paths)]
        tag = etags.get(path)
        answer = client.get(path, headers={"If-None-Match": tag} if tag else {})
        assert answer.status_code == (304 if tag else 200), (path, answer.status_code)
        count += 1
    return count / (time.perf_counter() - started)


def _public_rates(base: str, paths: list[str], seconds: float, validated: bool) -> float:
    with httpx.Client(base_url=base, timeout=300) as client:
        client.get("/")  # the CSRF cookie a browser holds after its first page
        etags = {}
        for path in paths:
            answer = client.get(path)
            if validated:
                etags[path] = answer.headers["etag"]
        return _closed(client, paths, seconds, etags)


def public_pages(data_dir: Path, seconds: int) -> list[Result]:
    search = [f"/search?{urlencode(q)}" if q else "/search" for q in PUBLIC_QUERIES]
    with serve(data_dir, public_cache_entries="0") as service:
        refs = [
            item["ref"]
            for item in httpx.get(f"{service.base}/api/v1/reports?limit=20", timeout=60).json()[
                "items"
            ]
        ]
        reports = [f"/reports/{ref}" for ref in refs]
        uncached_search = _public_rates(service.base, search, seconds, validated=False)
        uncached_reports = _public_rates(service.base, reports, seconds, validated=False)
    with serve(data_dir) as service:
        cached_search = _public_rates(service.base, search, seconds, validated=False)
        validated_search = _public_rates(service.base, search, seconds, validated=True)
        validated_reports = _public_rates(service.base, reports, seconds, validated=True)
    note = f"one connection, requests back to back {seconds}s, anonymous"
    return [
        Result(
            "public /search, facet counts from the public cache",
            cached_search,
            "pages/s",
            ">= 5x uncached",
            cached_search >= 5 * uncached_search,
            uncached_search,
            "uncached (INCIDENTS_PUBLIC_CACHE_ENTRIES=0)",
            f"{len(search)} filter mixes, {note}",
        ),
        Result(
            "public /search, 304 from its validator",
            validated_search,
            "pages/s",
            ">= 5x uncached",
            validated_search >= 5 * uncached_search,
            uncached_search,
            "uncached (INCIDENTS_PUBLIC_CACHE_ENTRIES=0)",
            f"{len(search)} filter mixes, If-None-Match, {note}",
        ),
        Result(
            "public report page, 304 from its validator",
            validated_reports,
            "pages/s",
            ">= 5x uncached",
            validated_reports >= 5 * uncached_reports,
            uncached_reports,
            "the page rendered each time",
            f"{len(reports)} public reports, If-None-Match, {note}",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--only", choices=["lists", "public"], default=None)
    arguments = parser.parse_args()
    data_dir = ensure_registry(arguments.reports)
    results: list[Result] = []
    if arguments.only in (None, "lists"):
        results += asyncio.run(list_capacity(data_dir, arguments.seconds))
    if arguments.only in (None, "public"):
        results += public_pages(data_dir, arguments.seconds)
    report(results, f"the read path at {arguments.reports:,} reports")


if __name__ == "__main__":
    main()
