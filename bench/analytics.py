"""Analytics over the registry: quarterly trends end to end (beside the same aggregation as a
hand-written PostgreSQL GROUP BY and in DuckDB) and a complete brief."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

from tests.factories import report_payload

from bench.common import PeakRss, Result, asyncpg_connection, incidents, key_for, serve

GROUP_BY = """
WITH first AS (
    SELECT incident_id, min(occurred_on) AS occurred_on FROM reports
    WHERE status = 'accepted' GROUP BY incident_id
), domains AS (
    SELECT DISTINCT r.incident_id, code AS harm_domain
    FROM reports r, unnest(r.harm_domains) AS code
    WHERE r.status = 'accepted' AND strpos(code, '.') = 0
)
SELECT date_trunc('quarter', f.occurred_on)::date AS period, d.harm_domain, count(*) AS incidents
FROM first f JOIN domains d USING (incident_id)
GROUP BY 1, 2 ORDER BY 1, 2
"""

DUCKDB = """
WITH first AS (
    SELECT incident, min(occurred_on) AS occurred_on FROM reports GROUP BY incident
), domains AS (
    SELECT DISTINCT incident, code AS harm_domain
    FROM (SELECT incident, unnest(harm_domains) AS code FROM reports) WHERE strpos(code, '.') = 0
)
SELECT date_trunc('quarter', f.occurred_on) AS period, d.harm_domain, count(*) AS incidents
FROM first f JOIN domains d USING (incident) GROUP BY 1, 2 ORDER BY 1, 2
"""


async def trends(data_dir: Path, rounds: int = 3) -> list[Result]:
    """Quarterly trends by harm domain for the secretariat: from the columnar copy (built ahead
    by `incidents trends rebuild`, kept current by the service), then, in the same run, from
    the registry (the copy turned off), beside a hand-written GROUP BY and DuckDB."""
    import httpx

    key = key_for(data_dir, "secretariat")
    filer = key_for(data_dir, "regulator")
    params = {"by": "harm_domain", "period": "quarter", "from": "2020-01-01"}
    built = json.loads(incidents("trends", "rebuild", data_dir=data_dir))
    largest = max(part["rows"] for part in built["partitions"])
    with serve(data_dir) as service:
        async with httpx.AsyncClient(base_url=service.base, timeout=600) as client:
            rounds_seen, memory, answer = await _timed(client, service, params, key, rounds)
            columnar, first = statistics.median(rounds_seen), rounds_seen[0]
            after_filing, counted = await _after_filing(client, params, key, filer, answer)
        group_by = await _postgres(service.database_url, rounds)
        duck = _duckdb(service.database_url)
    with serve(data_dir, trends_columnar="false") as service:
        async with httpx.AsyncClient(base_url=service.base, timeout=600) as client:
            registry_rounds, registry_memory, _ = await _timed(client, service, params, key, rounds)
    registry = statistics.median(registry_rounds)
    cells = len(answer["cells"])
    return [
        Result(
            "quarterly trends from the columnar copy, end to end",
            columnar,
            "s",
            "<= 0.2x the GROUP BY",
            columnar / group_by <= 0.2,
            group_by,
            "PostgreSQL GROUP BY",
            f"{cells} cells; DuckDB on the same rows {duck:.2f} s (after the read); "
            f"from the registry {registry:.2f} s ({registry / group_by:.2f}x); the first round "
            f"{first:.2f} s",
        ),
        Result(
            "the next trend after a filing is accepted (copy brought current first)",
            after_filing,
            "s",
            "counted, <= 0.2x the GROUP BY",
            counted and after_filing / group_by <= 0.2,
            group_by,
            "PostgreSQL GROUP BY",
            "the new incident counted" if counted else "NOT counted",
        ),
        Result(
            "quarterly trends from the registry (copy off), end to end",
            registry,
            "s",
            "(the path before)",
            True,
            group_by,
            "PostgreSQL GROUP BY",
        ),
        Result(
            "quarterly trends from the copy: peak worker memory",
            memory.peak / 2**20,
            "MB",
            "<= 1,024 MB",
            memory.peak / 2**20 <= 1024,
            registry_memory.peak / 2**20,
            "the same trends from the registry",
            f"largest partition {largest:,} of {built['reports']:,} reports",
        ),
        Result(
            "`incidents trends rebuild` (the whole copy)",
            built["seconds"],
            "s",
            "(none)",
            True,
            note=f"{len(built['partitions'])} partitions; incidents derived after it in "
            f"{built['derive_seconds']:.1f} s; peak {built['peak_rss_mb']:.0f} MB",
        ),
    ]


async def _timed(
    client: Any, service: Any, params: dict[str, str], key: str, rounds: int
) -> tuple[list[float], PeakRss, Any]:
    """(seconds of each round, peak worker memory, the last answer) of ``rounds`` trends."""
    timings = []
    async with PeakRss(service.worker) as memory:
        for _ in range(rounds):
            started = time.perf_counter()
            response = await client.get(
                "/api/v1/trends", params=params, headers={"Authorization": f"Bearer {key}"}
            )
            response.raise_for_status()
            timings.append(time.perf_counter() - started)
    return timings, memory, response.json()


async def _after_filing(
    client: Any, params: dict[str, str], key: str, filer: str, before: Any
) -> tuple[float, bool]:
    """File a report (harm domain 1, 2026-Q1), accept it, then time the next trend; whether
    its incident is counted there."""
    secretariat = {"Authorization": f"Bearer {key}"}
    payload = report_payload(title=f"Columnar benchmark {uuid.uuid4().hex[:8]}")
    filed = await client.post(
        "/api/v1/reports", json=payload, headers={"Authorization": f"Bearer {filer}"}
    )
    filed.raise_for_status()
    ref = filed.json()["report"]["ref"]
    for step in ("start-review", "accept"):
        (
            await client.post(f"/api/v1/reports/{ref}/{step}", json={}, headers=secretariat)
        ).raise_for_status()
    started = time.perf_counter()
    response = await client.get("/api/v1/trends", params=params, headers=secretariat)
    response.raise_for_status()
    elapsed = time.perf_counter() - started

    def cell(answer: Any) -> int:
        return int(
            next(
                row["incidents"]
                for row in answer["cells"]
                if row["period"] == "2026-Q1" and row["harm_domain"] == "1" and not row["year_only"]
            )
        )

    return elapsed, cell(response.json()) == cell(before) + 1


async def _postgres(url: str, rounds: int) -> float:
    async with asyncpg_connection(url) as connection:
        timings = []
        for _ in range(rounds):
            started = time.perf_counter()
            await connection.fetch(GROUP_BY)
            timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def _duckdb(url: str) -> float:
    """DuckDB's time for the same aggregation over the same rows, read once through ADBC."""
    import adbc_driver_postgresql.dbapi as adbc
    import duckdb

    with adbc.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT incident_id AS incident, occurred_on, harm_domains FROM reports "
            "WHERE status = 'accepted'"
        )
        reports = cursor.fetch_arrow_table()
    database = duckdb.connect()
    database.register("reports", reports)
    started = time.perf_counter()
    database.execute(DUCKDB).fetchall()
    return time.perf_counter() - started


async def brief(data_dir: Path) -> list[Result]:
    import httpx

    key = key_for(data_dir, "secretariat")
    headers = {"Authorization": f"Bearer {key}"}
    with serve(data_dir) as service:
        async with httpx.AsyncClient(base_url=service.base, timeout=600) as client:
            latest = (
                await client.get("/api/v1/trends", params={"period": "quarter"}, headers=headers)
            ).json()
            regular = [row for row in latest["totals"] if not row["year_only"]]
            period = regular[-2]["period"]  # the latest complete quarter
            started = time.perf_counter()
            queued = await client.post("/api/v1/briefs", json={"period": period}, headers=headers)
            queued.raise_for_status()
            while True:
                status = (await client.get(queued.headers["location"], headers=headers)).json()
                if status["status"] in {"draft", "failed"}:
                    break
                await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - started
    return [
        Result(
            f"complete brief ({period}, HTML + PDF + data)",
            elapsed,
            "s",
            "<= 15 s",
            elapsed <= 15 and status["status"] == "draft",
            note=status["status"],
        ),
    ]


def main(data_dir: Path) -> list[Result]:
    return asyncio.run(trends(data_dir)) + asyncio.run(brief(data_dir))
