"""Run the benchmarks: `uv run python -m bench.run [all|generate|writes|reads|analytics|integrity|
scaling]`.

Each prints a table: the figure, its target, the baseline measured in the same run, and the
ratio; figures are also kept in bench/out/results.json. Benchmarks run on loopback against a
registry generated once into ../bench-data (INCIDENTS_BENCH_DATA to move it); they need `wrk`
(apt-get install wrk).
"""

from __future__ import annotations

import argparse
import platform
import time

import psutil

from bench import analytics, generation, integrity, reads, writes
from bench.common import Result, ensure_registry, report

SIZE = 1_000_000


def machine() -> str:
    return (
        f"{platform.node()}: {psutil.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}"
    )


def scaling(sizes: list[int]) -> list[Result]:
    import asyncio

    results: list[Result] = []
    for size in sizes:
        data_dir = ensure_registry(size)
        for result in (
            asyncio.run(analytics.trends(data_dir))
            + asyncio.run(reads.lists_and_search(data_dir))[:3]
        ):
            result.name = f"[{size:,}] {result.name}"
            results.append(result)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "which",
        nargs="?",
        default="all",
        choices=["all", "generate", "writes", "reads", "analytics", "integrity", "scaling"],
    )
    parser.add_argument(
        "--reports", type=int, default=SIZE, help="registry size (default 1,000,000)"
    )
    parser.add_argument(
        "--sizes", default="100000,1000000", help="for scaling: comma-separated sizes"
    )
    arguments = parser.parse_args()
    print(machine())
    results: list[Result] = []
    if arguments.which in {"all", "generate"}:
        results += generation.main(arguments.reports)
        report(results, "generation")
    if arguments.which in {"all", "writes", "reads", "analytics", "integrity"}:
        data_dir = ensure_registry(arguments.reports)
        for name, module in (
            ("writes", writes),
            ("reads", reads),
            ("analytics", analytics),
            ("integrity", integrity),
        ):
            if arguments.which in {"all", name}:
                found = module.main(data_dir)
                report(found, f"{name} over {arguments.reports:,} reports")
                results += found
    if arguments.which == "scaling":
        results += scaling([int(size) for size in arguments.sizes.split(",")])
    if len(results) > 1:
        report(results, "all benchmarks")


if __name__ == "__main__":
    main()
