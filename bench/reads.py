"""Reads over the registry: a filtered list of 50, full-text search, and a full CSV export, each
beside the same query run straight through asyncpg."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.common import (
    PeakRss,
    Result,
    asyncpg_connection,
    http_request,
    key_for,
    open_loop,
    serve,
    wrk,
)

LIST_QUERIES = [
    {},
    {"status": "accepted"},
    {"harm_domain": "4"},
    {"jurisdiction": "KE"},
    {"region": "Africa", "sector": "K"},
    {"severity": "serious_incident", "status": "accepted"},
    {"harm_type": "human_rights", "occurred_from": "2025-01-01"},
    {"cross_border": "true"},
]
SEARCHES = [
    "deepfake",
    "fraud campaign",
    "Argus Vision",
    "discriminatory outcomes",
    "surveilance",
    "Helix Labs",
]
SECONDS = 20


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def _page_sql(
    database_url: str, principal: Any, queries: list[dict[str, str]]
) -> list[tuple[str, str, str]]:
    """The service's own SQL for each query (compiled with its values inline): the page query,
    or the window query and its two fallbacks (a wider window, the matches), as the service runs
    them."""
    from sqlalchemy.dialects.postgresql import asyncpg as postgresql

    from incidents.db import Database, create_engine
    from incidents.reports.filters import compile_filters
    from incidents.reports.reading import WIDE_WINDOW, list_statement
    from incidents.taxonomy.service import TaxonomyRegistry

    database = Database(create_engine(database_url, pool_size=1))
    registry = TaxonomyRegistry()
    async with database.connect() as connection:
        await registry.refresh(connection, force=True)
    await database.dispose()

    def sql(query: Any) -> str:
        compiled = query.compile(
            dialect=postgresql.dialect(),  # type: ignore[no-untyped-call]  # untyped upstream
            compile_kwargs={"literal_binds": True},
        )
        return str(compiled)

    pages = []
    for params in queries:
        filters = _filters(params)
        conditions = compile_filters(filters, registry)
        if filters.q:
            # A search takes its page from its matches alone (reports/reading.py).
            matches = list_statement(
                principal, conditions, "newest", filters.q, None, 50, "matches"
            )
            pages.append((sql(matches), "", ""))
        elif conditions:
            window = list_statement(principal, conditions, "newest", filters.q, None, 50, "window")
            wide = list_statement(
                principal, conditions, "newest", filters.q, None, 50, "window", WIDE_WINDOW
            )
            matches = list_statement(
                principal, conditions, "newest", filters.q, None, 50, "matches"
            )
            pages.append((sql(window), sql(wide), sql(matches)))
        else:
            page = sql(list_statement(principal, conditions, "newest", None, None, 50))
            pages.append((page, "", ""))
    return pages


def _filters(params: dict[str, str]) -> Any:
    """The Filters the service builds from these query parameters (coded filters such as
    sector or harm_domain included: built by the service's own dependency, not converted)."""
    from datetime import date

    from incidents.reports.filters import provide_filters

    single: dict[str, Any] = {
        "cross_border": lambda value: value == "true",
        "occurred_from": date.fromisoformat,
        "occurred_to": date.fromisoformat,
        "event_type": str,
        "development": str,
        "min_severity": str,
        "q": str,
    }
    arguments: dict[str, Any] = {
        key: single[key](value) if key in single else [value] for key, value in params.items()
    }
    return provide_filters(**arguments)


async def _raw_p99(
    database_url: str, principal: Any, queries: list[dict[str, str]], rounds: int
) -> float:
    """The service's own SQL for each query timed straight through asyncpg: what the database
    costs, without HTTP, Litestar or SQLAlchemy."""
    pages = await _page_sql(database_url, principal, queries)
    timings = []
    async with asyncpg_connection(database_url) as connection:
        for _ in range(rounds):
            for statements in pages:
                started = time.perf_counter()
                for statement in statements:
                    if statement and len(await connection.fetch(statement)) > 50:
                        break
                timings.append((time.perf_counter() - started) * 1000)
    return _percentile(timings, 0.99)


async def _principal(database_url: str, kind: str) -> Any:
    from incidents.members.schemas import Principal

    async with asyncpg_connection(database_url) as connection:
        row = await connection.fetchrow(
            "SELECT id, name, kind, jurisdiction FROM organizations WHERE kind = $1 LIMIT 1", kind
        )
    return Principal(
        organization_id=row["id"],
        organization_name=row["name"],
        kind=row["kind"],
        jurisdiction=row["jurisdiction"],
        key_id=uuid.uuid4(),
        key_prefix="inc_bench",
    )


def _rotating(paths: list[str]) -> str:
    """A wrk script that requests each path in turn."""
    quoted = ", ".join(f'"{path}"' for path in paths)
    return (
        f"paths = {{{quoted}}}\ni = 0\n"
        "request = function()\n  i = i + 1\n"
        '  return wrk.format("GET", paths[(i % #paths) + 1])\nend\n'
    )


async def lists_and_search(data_dir: Path) -> list[Result]:
    key = key_for(data_dir, "research")
    headers = {"Authorization": f"Bearer {key}"}
    list_paths = [f"/api/v1/reports?{urlencode({**q, 'limit': 50})}" for q in LIST_QUERIES]
    search_paths = [f"/api/v1/reports?{urlencode({'q': q, 'limit': 50})}" for q in SEARCHES]
    with serve(data_dir) as service:
        for path in list_paths + search_paths:  # warm the caches once
            await open_loop(
                service.base, 20, 0.2, lambda _, p=path: http_request("GET", p, headers=headers)
            )
        async with PeakRss(service.worker) as memory:
            listed = await open_loop(
                service.base,
                200,
                SECONDS,
                lambda i: http_request("GET", list_paths[i % len(list_paths)], headers=headers),
            )
        closed = wrk(
            f"{service.base}/api/v1/reports",
            seconds=SECONDS,
            connections=16,
            script=_rotating(list_paths),
            headers=[f"Authorization: Bearer {key}"],
        )
        searched = await open_loop(
            service.base,
            50,
            SECONDS,
            lambda i: http_request("GET", search_paths[i % len(search_paths)], headers=headers),
        )
        principal = await _principal(service.database_url, "research")
        raw_list = await _raw_p99(service.database_url, principal, LIST_QUERIES, 20)
        raw_search = await _raw_p99(
            service.database_url, principal, [{"q": q} for q in SEARCHES], 20
        )
    return [
        Result(
            "filtered list of 50, p99 at 200/s",
            listed.percentile(0.99),
            "ms",
            "<= 20 ms",
            listed.percentile(0.99) <= 20 and listed.errors == 0,
            raw_list,
            "same SQL via asyncpg",
            f"{len(LIST_QUERIES)} filter mixes as a researcher, "
            f"p50 {listed.percentile(0.5):.1f} ms",
        ),
        Result(
            "filtered list of 50, throughput",
            closed["rate"],
            "pages/s",
            "(200/s offered above)",
            closed["rate"] >= 200 and closed["errors"] == 0,
            note=f"wrk 16 connections {SECONDS}s, p50 {closed['p50']:.1f} ms",
        ),
        Result(
            "full-text search, p99 at 50/s",
            searched.percentile(0.99),
            "ms",
            "<= 50 ms",
            searched.percentile(0.99) <= 50 and searched.errors == 0,
            raw_search,
            "same SQL via asyncpg",
            f"{len(SEARCHES)} searches incl. a typo, p50 {searched.percentile(0.5):.1f} ms",
        ),
        Result(
            "worker memory under list load",
            memory.peak / 2**20,
            "MB",
            "<= 150 MB RSS",
            memory.peak / 2**20 <= 150,
        ),
    ]


async def export(data_dir: Path) -> list[Result]:
    import httpx

    key = key_for(data_dir, "secretariat")
    with serve(data_dir) as service:
        async with httpx.AsyncClient(base_url=service.base, timeout=3600) as client:
            await client.get("/api/v1/reports?limit=1", headers={"Authorization": f"Bearer {key}"})
            async with PeakRss(service.worker) as memory:
                started = time.perf_counter()
                rows = 0
                async with client.stream(
                    "GET", "/api/v1/reports.csv", headers={"Authorization": f"Bearer {key}"}
                ) as response:
                    async for chunk in response.aiter_bytes():
                        rows += chunk.count(b"\n")
                elapsed = time.perf_counter() - started
        growth = (memory.peak - memory.before) / 2**20
        async with asyncpg_connection(service.database_url) as connection:
            started = time.perf_counter()

            class Sink:
                async def __call__(self, data: bytes) -> None:
                    return None

            await connection.copy_from_query(
                "SELECT r.*, v.content FROM reports r JOIN report_revisions v "
                "ON v.report_id = r.id AND v.revision = r.revision WHERE r.status <> 'draft'",
                output=Sink(),
                format="csv",
            )
            raw = time.perf_counter() - started
    return [
        Result(
            "export all reports as CSV: RSS growth",
            growth,
            "MB",
            "< 100 MB",
            growth < 100,
            note=f"{rows - 1:,} rows in {elapsed:.1f} s ({(rows - 1) / elapsed:,.0f} rows/s)",
        ),
        Result(
            "export all reports as CSV: time",
            elapsed,
            "s",
            "(no target)",
            True,
            raw,
            "raw COPY TO STDOUT",
        ),
    ]


def main(data_dir: Path) -> list[Result]:
    return asyncio.run(lists_and_search(data_dir)) + asyncio.run(export(data_dir))
