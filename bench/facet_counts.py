"""Facet counts at scale: the list page's nine facets counted one scan per facet (as before
issue 16) against one pass for all of them, same connection, same filters, one at a time:
`uv run python -m bench.facet_counts DATABASE_URL`."""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import msgspec
from sqlalchemy import func, literal_column, select

from bench.common import Result, report
from bench.reads import _principal
from incidents.db import Database, create_engine
from incidents.reports.access import visible
from incidents.reports.facets import FACETS, MAX_FACET_VALUES, facets_statement
from incidents.reports.filters import Filters, compile_filters
from incidents.reports.models import reports
from incidents.taxonomy.service import TaxonomyRegistry
from incidents.web.listing import MEMBER_FACETS

QUERIES: list[dict[str, Any]] = [
    {},
    {"harm_domain": ["4"]},
    {"jurisdiction": ["KE"]},
    {"q": "deepfake"},
]


def per_facet(principal: Any, conditions: list[Any], name: str) -> Any:
    """The query each facet ran before issue 16 (one scan of the visible rows per facet)."""
    column_name, is_array, _ = FACETS[name]
    column = reports.c[column_name]
    value = func.unnest(column).label("value") if is_array else column.label("value")
    inner = select(value, reports.c.incident_id).where(visible(principal), *conditions).subquery()
    return (
        select(inner.c.value, func.count().label("n"))
        .where(inner.c.value.is_not(None))
        .group_by(inner.c.value)
        .order_by(literal_column("n").desc(), inner.c.value)
        .limit(MAX_FACET_VALUES)
    )


async def measure(url: str, rounds: int) -> list[Result]:
    database = Database(create_engine(url, pool_size=1))
    taxonomy = TaxonomyRegistry()
    results = []
    async with database.connect() as connection:
        await taxonomy.refresh(connection, force=True)
        for who in ("research", None):
            principal = await _principal(url, who) if who else None
            names = list(MEMBER_FACETS)
            for query in QUERIES:
                filters = msgspec.convert(query, Filters)
                conditions = compile_filters(filters, taxonomy)
                nine: list[float] = []
                one: list[float] = []
                for _ in range(rounds):
                    started = time.perf_counter()
                    before = {
                        name: [
                            tuple(row)
                            for row in await connection.execute(
                                per_facet(principal, conditions, name)
                            )
                        ]
                        for name in names
                    }
                    nine.append(time.perf_counter() - started)
                    started = time.perf_counter()
                    rows = (
                        await connection.execute(
                            facets_statement(principal, conditions, names, "reports")
                        )
                    ).all()
                    one.append(time.perf_counter() - started)
                    after: dict[str, list[tuple[Any, ...]]] = {name: [] for name in names}
                    for name, value, counted in rows:
                        after[name].append((value, counted))
                    assert after == before, f"counts differ for {query}"
                results.append(
                    Result(
                        f"{len(names)} facet counts, {who or 'public'}, {query or 'no filter'}",
                        min(one) * 1000,
                        "ms",
                        "faster, the same counts",
                        min(one) < min(nine),
                        min(nine) * 1000,
                        "one scan per facet",
                        f"best of {rounds}, counts identical",
                    )
                )
    await database.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--rounds", type=int, default=2)
    arguments = parser.parse_args()
    report(asyncio.run(measure(arguments.url, arguments.rounds)), "facet counts")


if __name__ == "__main__":
    main()
