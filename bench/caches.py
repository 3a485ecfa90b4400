"""What keeping every in-process cache correct across workers costs each request: the key
generation and the taxonomy's newest version, read apart and together (one prepared round trip
on loopback, what a request with a cached key sends), beside
the whole `GET /api/v1/me` they are part of (in-process ASGI, key cache on). The cost does not
grow with the registry (a one-row and a primary-key look-up), so an empty registry serves.

`uv run python -m bench.caches` (starts a throw-away embedded cluster under /tmp).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, cast

import httpx
from tests.factories import make_members

from incidents.app import create_app, shutdown, startup
from incidents.bootstrap import load_shipped_taxonomy
from incidents.config import Settings
from incidents.db import Database, create_engine, current_generation, seen
from incidents.embedded import EmbeddedCluster
from incidents.migrate import upgrade
from incidents.taxonomy.service import TaxonomyRegistry

ROUNDS = 3_000


async def _median_us(call: Any) -> float:
    for _ in range(200):  # warm: prepared statements, pool
        await call()
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        await call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


async def measure(url: str, data_dir: Path) -> None:
    engine = create_engine(url, pool_size=2)
    await upgrade(engine)
    database = Database(engine)
    await load_shipped_taxonomy(database, Settings())
    async with database.transaction() as connection:
        members = await make_members(connection)
    registry = TaxonomyRegistry()
    await registry.follow(database)
    key_check = await _median_us(lambda: current_generation(database, "keys"))
    taxonomy_check = await _median_us(lambda: registry.follow(database))
    both = await _median_us(lambda: seen(database))

    async def bare_select() -> None:
        async with database.transaction() as connection:
            await connection.exec_driver_sql("SELECT 1")

    transaction = await _median_us(bare_select)
    app = create_app(Settings(data_dir=data_dir, auth_cache_seconds=600), database=database)
    await startup(app)
    transport = httpx.ASGITransport(app=cast(Any, app))
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        headers = members.regulator.headers

        async def me() -> None:
            response = await client.get("/api/v1/me", headers=headers)
            assert response.status_code == 200

        whole = await _median_us(me)
    await shutdown(app)
    await database.dispose()
    print(f"key generation check:      {key_check:8.0f} us (median of {ROUNDS:,})")
    print(f"taxonomy version check:    {taxonomy_check:8.0f} us")
    print(f"both in one round trip:    {both:8.0f} us (what a request with a cached key sends)")
    print(f"  against the two apart:   {both / (key_check + taxonomy_check):8.2f}x")
    print(f"baseline: SELECT 1 in a SQLAlchemy transaction: {transaction:8.0f} us")
    print(f"GET /api/v1/me (key cached, the one check in it): {whole:8.0f} us")
    print(f"the one check: {both / whole:.0%} of the request")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="incidents-bench-caches-") as scratch:
        cluster = EmbeddedCluster(Path(scratch) / "pg", for_tests=True)
        url = cluster.start()
        try:
            asyncio.run(measure(url, Path(scratch)))
        finally:
            cluster.stop()


if __name__ == "__main__":
    main()
