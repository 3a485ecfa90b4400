"""Duplicate suggestions across languages: recall at 5 on the generator's reworded reports.

The generator files several reports of one event, by different regulators, in the languages of
their regions (en, fr, es, pt, ar, zh, ru), with their own wording, and often with a shifted date,
a step of severity or other countries. For each incident of two or more reports, its last report
plays a new filing: the question is whether the suggestions for it (the report itself left out)
name its incident among the first five. Queries are split by whether the incident's other reports
are all in the query's language (same language), all in others (cross-language), or both (mixed),
and measured at filing (indexed probes only) and on demand (`/similar`, fuzzy titles too).

    uv run python -m bench.duplicates [--reports 20000] [--seed 1] [--queries 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from incidents.bootstrap import load_shipped_taxonomy
from incidents.config import Settings
from incidents.db import Database, create_engine
from incidents.embedded import EmbeddedCluster
from incidents.incidents.duplicates import find_similar
from incidents.members.schemas import Principal
from incidents.migrate import upgrade
from incidents.reports.models import reports
from incidents.synthetic.generate import generate
from incidents.taxonomy.service import TaxonomyRegistry

END = date(2026, 9, 30)
SECRETARIAT = Principal(
    organization_id=uuid.UUID(int=0),
    organization_name="bench",
    kind="secretariat",
    jurisdiction=None,
    key_id=uuid.UUID(int=0),
    key_prefix="inc_bench",
)


def _group(query: Any, others: list[Any]) -> str:
    languages = {other.language for other in others}
    if languages == {query.language}:
        return "same language"
    if query.language not in languages:
        return "cross-language"
    return "mixed"


async def measure(database: Database, queries: int, seed: int) -> dict[tuple[str, str], list[int]]:
    """{(mode, group): [hits, queries]}."""
    async with database.connect() as connection:
        rows = (
            await connection.execute(
                select(reports).where(reports.c.status != "draft").order_by(reports.c.number)
            )
        ).all()
    by_incident: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for row in rows:
        by_incident[row.incident_id].append(row)
    groups = [members for members in by_incident.values() if len(members) >= 2]
    random.Random(seed).shuffle(groups)
    tally: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    async with database.connect() as connection:
        for members in groups[:queries]:
            query, others = members[-1], members[:-1]
            group = _group(query, others)
            for mode, titles in (("at filing", False), ("on demand", True)):
                found = await find_similar(
                    connection,
                    SECRETARIAT,
                    title=query.title,
                    system=query.ai_system_name,
                    developer=query.developer,
                    occurred_on=query.occurred_on,
                    precision=query.occurred_precision,
                    jurisdictions=list(query.jurisdictions),
                    exclude_incident=None,
                    exclude_report=query.id,
                    titles=titles,
                    limit=5,
                    harm_domains=list(query.harm_domains),
                    sectors=list(query.sectors),
                    people_affected=query.people_affected,
                )
                hit = any(candidate.incident.id == query.incident_id for candidate in found)
                for key in ((mode, group), (mode, "all")):
                    tally[key][0] += int(hit)
                    tally[key][1] += 1
    return tally


async def run(reports_wanted: int, seed: int, queries: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        cluster = EmbeddedCluster(Path(folder), for_tests=True)
        cluster.start()
        try:
            url = cluster.admin_url("postgres")
            engine = create_engine(url, pool_size=2)
            await upgrade(engine)
            database = Database(engine)
            await load_shipped_taxonomy(database, Settings())
            registry = TaxonomyRegistry()
            async with database.connect() as connection:
                await registry.refresh(connection, force=True)
            started = time.perf_counter()
            await generate(
                database, registry.current, reports_wanted=reports_wanted, seed=seed, end=END
            )
            print(f"generated {reports_wanted:,} reports in {time.perf_counter() - started:.1f} s")
            started = time.perf_counter()
            tally = await measure(database, queries, seed)
            print(f"measured in {time.perf_counter() - started:.1f} s")
            await database.dispose()
        finally:
            cluster.stop()
    print("| mode | queries | group | recall at 5 |")
    print("|---|---|---|---|")
    for (mode, group), (hits, count) in sorted(tally.items()):
        print(f"| {mode} | {count:,} | {group} | {hits / count:.3f} ({hits:,}/{count:,}) |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--queries", type=int, default=3_000)
    arguments = parser.parse_args()
    asyncio.run(run(arguments.reports, arguments.seed, arguments.queries))


if __name__ == "__main__":
    main()
