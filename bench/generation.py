"""Generation: `incidents generate` into a fresh registry, beside raw COPY of the same rows."""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from pathlib import Path

from bench.common import DATA, Result, asyncpg_connection, incidents, serve

TABLES = ("incidents", "reports", "report_revisions", "audit_events")


def generate(reports: int) -> tuple[float, float, Path]:
    """(seconds the command reports, wall seconds, data dir) for a fresh registry."""
    data_dir = DATA / f"generate-{reports}"
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    incidents(
        "db", "upgrade", data_dir=data_dir
    )  # cluster and schema first: not part of the figure
    started = time.perf_counter()
    output = incidents("generate", "--reports", str(reports), "--seed", "3", data_dir=data_dir)
    wall = time.perf_counter() - started
    reported = float(re.search(r"in ([\d.]+) s", output).group(1))  # type: ignore[union-attr]
    return reported, wall, data_dir


async def raw_copy(data_dir: Path) -> float:
    """COPY the generated rows out, then into empty copies of the tables, indexes built after."""
    with serve(data_dir) as service:
        async with asyncpg_connection(service.database_url) as connection:
            dumps = {}
            for table in TABLES:
                await connection.execute(f"DROP TABLE IF EXISTS bench_{table}")
                await connection.execute(
                    f"CREATE TABLE bench_{table} (LIKE {table} INCLUDING DEFAULTS)"
                )
                dump = data_dir / f"{table}.copy"
                await connection.copy_from_table(
                    table,
                    output=str(dump),
                    format="binary",
                    columns=await _columns(connection, table),
                )
                dumps[table] = dump
            indexes = await connection.fetch(
                "SELECT indexdef FROM pg_indexes WHERE tablename = ANY($1::text[])", list(TABLES)
            )
            started = time.perf_counter()
            async with connection.transaction():
                for table, dump in dumps.items():
                    await connection.copy_to_table(
                        f"bench_{table}",
                        source=str(dump),
                        format="binary",
                        columns=await _columns(connection, table),
                    )
                for row in indexes:
                    definition = re.sub(
                        r"INDEX (\S+) ON public\.(\w+)",
                        r"INDEX bench_\1 ON public.bench_\2",
                        row[0],
                    )
                    await connection.execute(definition)
            elapsed = time.perf_counter() - started
            for table, dump in dumps.items():
                await connection.execute(f"DROP TABLE bench_{table}")
                dump.unlink()
    return elapsed


async def _columns(connection: object, table: str) -> list[str]:
    rows = await connection.fetch(  # type: ignore[attr-defined]
        "SELECT column_name FROM information_schema.columns WHERE table_name = $1 "
        "AND is_generated = 'NEVER' ORDER BY ordinal_position",
        table,
    )
    return [row[0] for row in rows]


def main(reports: int = 1_000_000) -> list[Result]:
    reported, wall, data_dir = generate(reports)
    baseline = asyncio.run(raw_copy(data_dir))
    shutil.rmtree(data_dir)
    return [
        Result(
            f"generate {reports:,} reports",
            reported,
            "s",
            "<= 60 s" if reports == 1_000_000 else "(scaling)",
            reported <= 60 * reports / 1_000_000,
            baseline,
            "raw COPY of the same rows + indexes",
            f"wall {wall:.1f} s incl. process start",
        ),
    ]
