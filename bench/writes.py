"""Writes: one report at a time (closed-loop throughput with wrk, p99 at a fixed arrival rate) and
batches of 5,000, each beside its baseline (a bare handler's raw INSERT; raw COPY)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import msgspec
from tests.factories import report_payload

from bench.common import (
    Load,
    PeakRss,
    Result,
    asyncpg_connection,
    environment,
    free_port,
    http_request,
    key_for,
    open_loop,
    scratch_copy,
    serve,
    wrk,
)

SECONDS = 20


def _body() -> bytes:
    return json.dumps(report_payload(sharing="TLP:AMBER")).encode()


def _lua(body: bytes, key: str) -> str:
    return (
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(body.decode())}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {key}"\n'
    )


@contextlib.contextmanager
def baseline_server(database_url: str) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.baseline_app:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env={**environment(Path(tempfile.gettempdir())), "BENCH_DATABASE_URL": database_url},
        cwd=Path(__file__).resolve().parents[1],
    )
    base = f"http://127.0.0.1:{port}"
    import httpx

    for _ in range(200):
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base}/reports", timeout=2).status_code == 200:
                break
        time.sleep(0.1)
    try:
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


async def _prepare_baseline_table(database_url: str) -> None:
    async with asyncpg_connection(database_url) as connection:
        await connection.execute("DROP TABLE IF EXISTS bench_baseline")
        await connection.execute("CREATE TABLE bench_baseline (LIKE reports INCLUDING ALL)")


async def _drop_baseline_table(database_url: str) -> None:
    async with asyncpg_connection(database_url) as connection:
        await connection.execute("DROP TABLE IF EXISTS bench_baseline")


async def _max_then_half(
    base: str, path: str, body: bytes, key: str
) -> tuple[dict[str, float], Load]:
    """Closed-loop maximum (wrk, 32 connections), then half of it offered open-loop: the
    latency at a load the server can carry, measured from each request's scheduled time."""
    headers = {"Authorization": f"Bearer {key}"}
    wrk(f"{base}{path}", seconds=3, connections=8, script=_lua(body, key))  # warm-up
    closed = wrk(f"{base}{path}", seconds=SECONDS, connections=32, script=_lua(body, key))
    steady = await open_loop(
        base,
        closed["rate"] / 2,
        SECONDS,
        lambda _: http_request("POST", path, body=body, headers=headers),
    )
    return closed, steady


async def single(data_dir: Path) -> list[Result]:
    key = key_for(data_dir, "regulator")
    body = _body()
    with serve(data_dir) as service:
        async with PeakRss(service.worker) as memory:
            closed, steady = await _max_then_half(service.base, "/api/v1/reports", body, key)
        await _prepare_baseline_table(service.database_url)
        try:
            with baseline_server(service.database_url) as base:
                raw_closed, raw_steady = await _max_then_half(base, "/reports", body, key)
                same_closed, same_steady = await _max_then_half(base, "/filings", body, key)
        finally:
            await _drop_baseline_table(service.database_url)
    half = closed["rate"] / 2
    return [
        Result(
            "single filing throughput",
            closed["rate"],
            "reports/s",
            ">= 0.4x bare INSERT",
            closed["rate"] >= 0.4 * raw_closed["rate"] and closed["errors"] == 0,
            raw_closed["rate"],
            "bare handler + one raw INSERT",
            f"wrk 32 connections {SECONDS}s, {closed['errors']:.0f} errors",
        ),
        Result(
            "single filing throughput vs the same statements",
            closed["rate"],
            "reports/s",
            ">= 0.8x",
            closed["rate"] >= 0.8 * same_closed["rate"],
            same_closed["rate"],
            "bare handler + the filing statement via raw asyncpg",
            f"wrk 32 connections {SECONDS}s, {same_closed['errors']:.0f} baseline errors",
        ),
        Result(
            f"single filing p99 at half its maximum ({half:.0f}/s)",
            steady.percentile(0.99),
            "ms",
            "<= 25 ms",
            steady.percentile(0.99) <= 25 and steady.errors == 0,
            same_steady.percentile(0.99),
            f"same statements at half their max ({same_closed['rate'] / 2:.0f}/s)",
            f"open loop, p50 {steady.percentile(0.5):.1f} ms, {steady.errors} errors; bare "
            f"INSERT p99 {raw_steady.percentile(0.99):.1f} ms at {raw_closed['rate'] / 2:.0f}/s",
        ),
        Result(
            "worker memory under submission load",
            memory.peak / 2**20,
            "MB",
            "<= 150 MB RSS",
            memory.peak / 2**20 <= 150,
            note="peak RSS of the one worker",
        ),
    ]


async def batch(data_dir: Path, batches: int = 10, size: int = 5_000) -> list[Result]:
    import httpx

    key = key_for(data_dir, "regulator")
    lines = b"".join(
        msgspec.json.encode(report_payload(title=f"Batch benchmark report {n}")) + b"\n"
        for n in range(size)
    )
    with serve(data_dir) as service:
        async with httpx.AsyncClient(base_url=service.base, timeout=300) as client:
            headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"}
            started = time.perf_counter()
            for _ in range(batches):
                response = await client.post(
                    "/api/v1/reports/batch", content=lines, headers=headers
                )
                response.raise_for_status()
            elapsed = time.perf_counter() - started
        rate = batches * size / elapsed
        baseline = await _raw_copy(service.database_url, batches, size)
    return [
        Result(
            "batch submission",
            rate,
            "reports/s",
            ">= 30,000/s",
            rate >= 30_000,
            baseline,
            "raw COPY of the same rows",
            f"{batches} batches of {size:,} (NDJSON)",
        ),
    ]


async def _raw_copy(database_url: str, batches: int, size: int) -> float:
    """COPY of the same number of report rows (taken from the registry) into a copy of the table."""
    async with asyncpg_connection(database_url) as connection:
        await connection.execute("DROP TABLE IF EXISTS bench_baseline")
        await connection.execute("CREATE TABLE bench_baseline (LIKE reports INCLUDING ALL)")
        columns = [
            row[0]
            for row in await connection.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'reports' "
                "AND is_generated = 'NEVER' AND column_name NOT IN ('id', 'number') "
                "ORDER BY ordinal_position"
            )
        ]
        template = await connection.fetch(f"SELECT {', '.join(columns)} FROM reports LIMIT {size}")
        started = time.perf_counter()
        for _ in range(batches):
            async with connection.transaction():
                rows = [(uuid.uuid4(), *row) for row in template]
                await connection.copy_records_to_table(
                    "bench_baseline", records=rows, columns=["id", *columns]
                )
        elapsed = time.perf_counter() - started
        await connection.execute("DROP TABLE bench_baseline")
    return batches * size / elapsed


def main(data_dir: Path) -> list[Result]:
    """On a scratch copy of the registry, so that the reports filed here do not change what
    the read and analytics benchmarks measure."""
    with scratch_copy(data_dir) as scratch:
        return asyncio.run(single(scratch)) + asyncio.run(batch(scratch))


if __name__ == "__main__":
    import argparse

    from bench.common import ensure_registry, report

    parser = argparse.ArgumentParser(description="the write benchmarks alone")
    parser.add_argument("which", choices=["single", "batch", "both"])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument(
        "--in-place",
        action="store_true",
        help="write into the registry itself (a copy of your own), not into a scratch copy",
    )
    arguments = parser.parse_args()
    registry = ensure_registry(arguments.reports)
    with contextlib.nullcontext(registry) if arguments.in_place else scratch_copy(registry) as data:
        found: list[Result] = []
        if arguments.which in {"single", "both"}:
            found += asyncio.run(single(data))
        if arguments.which in {"batch", "both"}:
            found += asyncio.run(batch(data))
    report(found, f"writes over {arguments.reports:,} reports")
