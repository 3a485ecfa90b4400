"""Issue 16, the list page's statements: the worker's time per list request with the page's SQL
built by SQLAlchemy for every request (ClauseAdapter over the filters, SQLAlchemy's cache key
for the whole statement) beside the same pages built once per shape and sent through asyncpg's
prepared statements (reports/shapes.py), in process (httpx.ASGITransport, one request at a
time, so the time is the worker's CPU plus one loopback round trip per statement), on a small
generated registry; and the statement building alone, per filter mix.

`uv run python -m bench.list_statements [--reports N] [--rounds R]` (a throw-away embedded
cluster under /tmp).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import urlencode

import httpx
from sqlalchemy import bindparam
from tests.factories import make_member

from incidents.app import create_app, shutdown, startup
from incidents.bootstrap import load_shipped_taxonomy
from incidents.config import Settings
from incidents.db import Database, create_engine
from incidents.embedded import EmbeddedCluster
from incidents.members.schemas import Principal
from incidents.migrate import upgrade
from incidents.reports import reading, shapes
from incidents.reports.filters import compile_filters, provide_filters
from incidents.synthetic.generate import generate
from incidents.taxonomy.service import TaxonomyRegistry

#: Filter mixes (query parameters), as bench/reads.py's list pages plus a search.
MIXES: list[dict[str, str]] = [
    {},
    {"status": "accepted"},
    {"harm_domain": "4"},
    {"jurisdiction": "KE"},
    {"region": "Africa", "sector": "K"},
    {"severity": "serious_incident", "status": "accepted"},
    {"harm_type": "human_rights", "occurred_from": "2025-01-01"},
    {"q": "deepfake"},
]
_LISTED = {"status", "harm_domain", "jurisdiction", "region", "sector", "severity", "harm_type"}


def _conditions(mix: dict[str, str], taxonomy: TaxonomyRegistry) -> list[Any]:
    arguments: dict[str, Any] = {
        name: [value] if name in _LISTED else value for name, value in mix.items()
    }
    if "occurred_from" in arguments:
        arguments["occurred_from"] = date.fromisoformat(arguments["occurred_from"])
    return compile_filters(provide_filters(**arguments), taxonomy)


async def _median_us(call: Callable[[], Awaitable[Any]], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        await call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def _building_us(principal: Principal, conditions: list[Any], rounds: int) -> tuple[float, float]:
    """Per page statement: built and keyed by SQLAlchemy (what execute() does before its
    compiled cache can answer) against split into shape and values and bound (what the shaped
    path does once the shape is kept)."""
    plan: Literal["window"] | None = "window" if conditions else None
    start = time.perf_counter()
    for _ in range(rounds):
        statement = reading.list_statement(principal, conditions, "newest", None, None, 50, plan)
        statement._generate_cache_key()
    built = (time.perf_counter() - start) / rounds * 1e6
    split = shapes.split(conditions)
    assert split is not None
    prepared = shapes.prepare(
        reading._statement(
            principal.kind,
            bindparam("viewer_org", None),
            shapes.template(conditions),
            None,
            None,
            sort="newest",
            limit=50,
            plan=plan,
            window=None,
        ),
        split.expanding,
    )
    start = time.perf_counter()
    for _ in range(rounds):
        found = shapes.split(conditions)
        assert found is not None
        values = dict(found.values, viewer_org=principal.organization_id, search_text=None)
        prepared.arguments(values)
    shaped = (time.perf_counter() - start) / rounds * 1e6
    return built, shaped


async def measure(url: str, data_dir: Path, count: int, rounds: int) -> None:
    engine = create_engine(url, pool_size=2)
    await upgrade(engine)
    database = Database(engine)
    settings = Settings(data_dir=data_dir, auth_cache_seconds=600)
    await load_shipped_taxonomy(database, settings)
    taxonomy = TaxonomyRegistry()
    await taxonomy.follow(database)
    await generate(database, taxonomy.current, reports_wanted=count)
    async with database.transaction() as connection:
        researcher = await make_member(connection, "Bench Observatory", "research")
        regulator = await make_member(connection, "Bench Kenya Regulator", "regulator", "KE")
    app = create_app(settings, database=database)
    await startup(app)
    transport = httpx.ASGITransport(app=cast(Any, app))
    print(f"{count:,} generated reports; median of {rounds} requests each, one at a time")
    print(f"{'role':10} {'filters':44} {'built us':>9} {'shaped us':>9} {'ratio':>6}")
    totals = {False: 0.0, True: 0.0}
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for role, member in (("research", researcher), ("regulator", regulator)):
            for mix in MIXES:
                path = f"/api/v1/reports?{urlencode({**mix, 'limit': 50})}"

                async def page(path: str = path, headers: Any = member.headers) -> None:
                    response = await client.get(path, headers=headers)
                    assert response.status_code == 200, response.text

                figures: dict[bool, list[float]] = {}
                for shaped in (False, True, False, True):  # interleaved: drift hits both
                    reading.SHAPED = shaped
                    for _ in range(20):  # warm
                        await page()
                    figures.setdefault(shaped, []).append(await _median_us(page, rounds))
                before, after = (min(figures[flag]) for flag in (False, True))
                totals[False] += before
                totals[True] += after
                label = urlencode(mix) or "(none)"
                print(f"{role:10} {label:44} {before:9.0f} {after:9.0f} {after / before:6.2f}")
    print(
        f"{'all':10} {'(sum of medians)':44} {totals[False]:9.0f} {totals[True]:9.0f} "
        f"{totals[True] / totals[False]:6.2f}"
    )
    await shutdown(app)
    principal = Principal(
        organization_id=researcher.organization.id,
        organization_name="bench",
        kind="research",
        jurisdiction=None,
        key_id=uuid.uuid4(),
        key_prefix="bench",
    )
    print("statement building alone, per page statement (researcher, newest):")
    print(f"{'filters':44} {'built us':>9} {'shaped us':>9}")
    for mix in MIXES:
        built, bound = _building_us(principal, _conditions(mix, taxonomy), rounds)
        print(f"{urlencode(mix) or '(none)':44} {built:9.0f} {bound:9.0f}")
    reading.SHAPED = True
    await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=300)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="incidents-bench-list-") as scratch:
        cluster = EmbeddedCluster(Path(scratch) / "pg", for_tests=True)
        url = cluster.start()
        try:
            asyncio.run(measure(url, Path(scratch), arguments.reports, arguments.rounds))
        finally:
            cluster.stop()


if __name__ == "__main__":
    main()
