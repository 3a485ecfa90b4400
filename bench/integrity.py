"""Integrity: `incidents audit verify` over the whole registry (full, then incremental), beside
reading the same rows with nothing checked, with the command's peak memory."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import psutil

from bench.common import Result, asyncpg_connection, environment, found, serve

TOUCHED = 1_000


def verify(data_dir: Path, *options: str) -> tuple[float, float, int, str]:
    """(wall seconds, seconds the command reports, peak RSS in bytes, output) of one run."""
    started = time.perf_counter()
    process = psutil.Popen(
        [sys.executable, "-m", "incidents", "audit", "verify", *options],
        env=environment(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    peak = 0
    while process.poll() is None:
        processes = [process, *process.children(recursive=True)]
        rss = 0
        for each in processes:
            try:
                if each.name() != "postgres":
                    rss += each.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        peak = max(peak, rss)
        time.sleep(0.1)
    wall = time.perf_counter() - started
    output = process.stdout.read() if process.stdout else ""
    if process.returncode != 0:
        raise RuntimeError(f"audit verify {' '.join(options)} failed:\n{output}")
    return wall, float(found(r"checked in ([\d.]+) s", output)), peak, output


async def read_only(url: str) -> float:
    """What verification reads, read and dropped: the log in keyset pages, then the reports with
    their events and revisions through a server-side cursor (the verification's own query)."""
    from incidents.oversight.statements import REPORTS_SQL

    async with asyncpg_connection(url) as connection:
        started = time.perf_counter()
        async with connection.transaction(isolation="repeatable_read"):
            last = 0
            while rows := await connection.fetch(
                "SELECT * FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT 5000", last
            ):
                last = rows[-1]["seq"]
            cursor = await connection.cursor(REPORTS_SQL)
            while await cursor.fetch(1_000):
                pass
        return time.perf_counter() - started


async def touch(url: str, count: int) -> None:
    """Rewrite ``count`` reports with their own values: new row versions an incremental run
    must re-check, without changing what they say."""
    async with asyncpg_connection(url) as connection:
        await connection.execute(
            "UPDATE reports SET updated_at = updated_at WHERE id IN "
            f"(SELECT id FROM reports ORDER BY number LIMIT {int(count)})"
        )


def main(data_dir: Path) -> list[Result]:
    with serve(data_dir) as service:  # the commands below use the cluster it runs
        wall, reported, peak, output = verify(data_dir)
        reports = int(found(r"([\d,]+) reports", output).replace(",", ""))
        baseline = asyncio.run(read_only(service.database_url))
        quiet_wall, quiet, quiet_peak, _ = verify(data_dir, "--incremental")
        asyncio.run(touch(service.database_url, TOUCHED))
        touched_wall, touched, _, touched_output = verify(data_dir, "--incremental")
    rechecked = found(r"([\d,]+) reports", touched_output)
    return [
        Result(
            f"audit verify, full ({reports:,} reports)",
            reported,
            "s",
            "<= 600 s at 1M",
            reported <= 600 * reports / 1_000_000,
            baseline,
            "the same rows read, nothing checked",
            f"wall {wall:.1f} s incl. process start",
        ),
        Result(
            "audit verify, full: peak RSS",
            peak / 2**20,
            "MB",
            "< 200 MB",
            peak < 200 * 2**20,
        ),
        Result(
            "audit verify --incremental, nothing changed",
            quiet,
            "s",
            "<= 60 s",
            quiet <= 60,
            reported,
            "full run",
            f"wall {quiet_wall:.1f} s; peak RSS {quiet_peak / 2**20:.0f} MB",
        ),
        Result(
            f"audit verify --incremental, {TOUCHED:,} reports rewritten",
            touched,
            "s",
            "<= 60 s",
            touched <= 60,
            reported,
            "full run",
            f"wall {touched_wall:.1f} s; {rechecked} reports re-checked",
        ),
    ]
