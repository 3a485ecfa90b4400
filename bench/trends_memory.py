"""Peak memory of a quarterly trend counted from the columnar copy at several times a registry's
size, without generating that registry: the copy of a generated registry is replicated N times
(each replica's incidents and disclosure keys renamed, so an incident stays whole in its month
and replicas never merge), and counted by the service's own code (`trends/copied.py`) in a
fresh process.

    uv run python -m bench.trends_memory --reports 1000000 --times 10

What it measures is what the copy bounds: a trend's passes over the partitions (each month of
the replicated copy holds ``times`` the rows of the registry's). It does not measure building
the copy from a registry of that size (a stream of record batches, see trends/columnar.py).
The baseline beside it is the same count over the registry's own copy (times 1).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import msgspec
import polars as pl
import psutil

from bench.common import DATA, ensure_registry, incidents, serve

SCALED = "trends-scaled"


def replicate(source: Path, target: Path, times: int) -> None:
    """A copy at ``target`` holding every month of the copy at ``source`` ``times`` over."""
    from incidents.trends.columnar import Store
    from incidents.trends.columnar_files import MANIFEST, Partition

    found = Store(source).manifest()
    if found is None:
        raise SystemExit(f"no usable copy in {source}: run `incidents trends rebuild` first")
    if found.delta:
        raise SystemExit("the copy holds a delta: run `incidents trends rebuild` first")
    if target.exists():
        shutil.rmtree(target)
    base = target / found.generation
    base.mkdir(parents=True)
    partitions = []
    for part in found.partitions:
        rows = pl.read_parquet(source / found.generation / part.name)
        copies = [
            rows.with_columns(
                (pl.lit(f"{replica:04x}") + pl.col("incident").bin.encode("hex"))
                .str.decode("hex")
                .alias("incident"),
                pl.col("incident_key") + replica * 10**12,
                pl.col("report_key") + replica * 10**12,
            )
            for replica in range(times)
        ]
        pl.concat(copies).write_parquet(base / part.name)
        partitions.append(Partition(part.name, part.first, part.last, part.rows * times))
    manifest = msgspec.structs.replace(found, partitions=tuple(partitions))
    (target / MANIFEST).write_bytes(msgspec.json.encode(manifest))


async def _count(copy: Path, url: str) -> dict[str, float]:
    """One quarterly trend by harm domain over ``copy``, in this process (the first over a
    copy derives each partition's incidents and keeps them; the next reads those)."""
    from incidents.db import Database, create_engine
    from incidents.reports.filters import Filters
    from incidents.taxonomy.service import TaxonomyRegistry
    from incidents.trends import copied
    from incidents.trends.columnar import Store
    from incidents.trends.columnar_files import Snapshot
    from incidents.trends.periods import window
    from incidents.trends.service import reference_of

    database = Database(create_engine(url, pool_size=1))
    taxonomy = TaxonomyRegistry()
    async with database.connect() as connection:
        await taxonomy.refresh(connection, force=True)
    await database.dispose()
    manifest = Store(copy).manifest()
    assert manifest is not None
    snapshot = Snapshot(copy, manifest)
    reference = reference_of(taxonomy)
    span = window("quarter", None, None)
    before = psutil.Process().memory_info().rss / 2**20
    started = time.perf_counter()
    cells, _ = copied._count(snapshot, Filters(), taxonomy, reference, ["harm_domain"], span)
    counted = cells.select(pl.col("incidents").sum()).collect().item()
    return {
        "reports": manifest.rows,
        "incidents": counted,
        "seconds": time.perf_counter() - started,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "before_mb": before,
    }


def measure(copy: Path, url: str) -> dict[str, float]:
    """``_count`` in a fresh process (its peak is its own)."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.trends_memory", "--count", str(copy), "--url", url],
        capture_output=True,
        text=True,
        check=True,
    )
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--times", type=int, default=10)
    parser.add_argument("--count", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.count:
        print(json.dumps(asyncio.run(_count(arguments.count, arguments.url))))
        return
    data_dir = ensure_registry(arguments.reports)
    incidents("trends", "rebuild", data_dir=data_dir)
    own = data_dir / "trends-columnar"
    scaled = DATA / SCALED
    started = time.perf_counter()
    replicate(own, scaled, arguments.times)
    built = time.perf_counter() - started
    rows: list[tuple[str, str, dict[str, float]]] = []
    with serve(data_dir) as service:
        for name, copy in (("the registry's own", own), (f"x{arguments.times}", scaled)):
            for run in ("first", "next"):
                rows.append((name, run, measure(copy, service.database_url)))
    shutil.rmtree(scaled)
    print(f"replicated copy written in {built:.0f} s")
    print("| copy | trend | reports | incidents counted | time | peak RSS (before the count) |")
    print("|---|---|---|---|---|---|")
    for name, run, figures in rows:
        print(
            f"| {name} | {run} | {figures['reports']:,.0f} | {figures['incidents']:,.0f} "
            f"| {figures['seconds']:.1f} s | {figures['peak_mb']:,.0f} MB "
            f"({figures['before_mb']:,.0f} MB) |"
        )


if __name__ == "__main__":
    main()
