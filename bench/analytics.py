"""Analytics over the registry: quarterly trends end to end (beside the same aggregation as a
hand-written PostgreSQL GROUP BY and in DuckDB) and a complete brief."""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path

from bench.common import PeakRss, Result, asyncpg_connection, key_for, serve

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
    import httpx

    key = key_for(data_dir, "secretariat")
    params = {"by": "harm_domain", "period": "quarter", "from": "2020-01-01"}
    with serve(data_dir) as service:
        timings = []
        async with httpx.AsyncClient(base_url=service.base, timeout=600) as client:
            async with PeakRss(service.worker) as memory:
                for _ in range(rounds):
                    started = time.perf_counter()
                    response = await client.get(
                        "/api/v1/trends", params=params, headers={"Authorization": f"Bearer {key}"}
                    )
                    response.raise_for_status()
                    timings.append(time.perf_counter() - started)
            cells = len(response.json()["cells"])
        group_by = await _postgres(service.database_url, rounds)
        duck = _duckdb(service.database_url)
    figure = statistics.median(timings)
    return [
        Result(
            "quarterly trends over the registry, end to end",
            figure,
            "s",
            "<= 2 s; >= 5x faster than GROUP BY",
            figure <= 2 and group_by / figure >= 5,
            group_by,
            "PostgreSQL GROUP BY",
            f"{cells} cells; DuckDB on the same rows {duck:.2f} s (after the read)",
        ),
        Result(
            "quarterly trends: peak worker memory",
            memory.peak / 2**20,
            "MB",
            "<= 1,024 MB",
            memory.peak / 2**20 <= 1024,
        ),
    ]


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
