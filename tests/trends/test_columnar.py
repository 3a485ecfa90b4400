"""Trends counted from the columnar copy are the trends counted from the registry: the same
answer, to every role, for every query shape, on a registry with restricted reports, other
organizations' drafts, rejected and withdrawn reports; and still the same after reports are
filed, accepted, withdrawn, moved between incidents and merged (the copy is kept current before
each answer). The copy is private, rebuilt when damaged, and correct under concurrent updates."""

from __future__ import annotations

import asyncio
import stat
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from sqlalchemy import text

from incidents.app import create_app
from incidents.config import Settings
from incidents.db import Database, create_engine
from incidents.synthetic.generate import generate
from incidents.taxonomy.service import TaxonomyRegistry
from incidents.trends import columnar, columnar_files
from tests.conftest import cloned_database, serve_in_process
from tests.factories import Members, make_members, report_payload
from tests.registry import END

QUARTERS = {"period": "quarter", "from": "2025-01-01", "to": "2026-07-01"}
YEARS = {"period": "year", "from": "2022-01-01", "to": "2026-01-01"}
MONTHS = {"period": "month", "from": "2025-06-01", "to": "2026-03-01"}
# Coarse shapes (counted from the copy) and record-level ones (from the registry, both ways).
QUERIES: list[dict[str, str]] = [
    {**QUARTERS},
    {**QUARTERS, "by": "harm_domain"},
    {**QUARTERS, "by": "country"},
    {**QUARTERS, "by": "severity,region"},
    {**YEARS, "by": "sector", "region": "Africa"},
    {**YEARS, "by": "harm_subdomain", "min_severity": "serious_incident"},
    {**MONTHS, "by": "development", "cross_border": "true"},
    {**QUARTERS, "by": "harm_type", "jurisdiction": "KE", "sector": "H"},
    {**YEARS, "by": "sub_region", "event_type": "hazard"},
    {**YEARS, "by": "severity", "sharing": "TLP:RED"},
    {**QUARTERS, "jurisdiction": "KE,BR"},
    {**YEARS, "q": "recognition", "by": "country"},
]


class World(msgspec.Struct):
    columnar: httpx.AsyncClient
    registry: httpx.AsyncClient
    """The same service with the copy turned off: it reads the registry for every trend."""
    database: Database
    url: str
    members: Members
    copy_dir: Path


@pytest.fixture(scope="module")
async def world(
    server_url: str, template_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    async with cloned_database(server_url, template_url) as url:
        database = Database(create_engine(url, pool_size=5))
        taxonomy = TaxonomyRegistry()
        async with database.transaction() as connection:
            await taxonomy.refresh(connection, force=True)
            members = await make_members(connection)
        await generate(database, taxonomy.current, reports_wanted=1_500, seed=7, end=END)
        data_dir = tmp_path_factory.mktemp("columnar")
        on = create_app(Settings(database_url=url, data_dir=data_dir), database=database)
        off = create_app(
            Settings(database_url=url, data_dir=data_dir, trends_columnar=False),
            database=database,
        )
        async with serve_in_process(on) as with_copy, serve_in_process(off) as without:
            yield World(with_copy, without, database, url, members, data_dir / "trends-columnar")
        await database.dispose()


def _viewers(world: World) -> dict[str, dict[str, str]]:
    members = world.members
    return {
        "public": {},
        "researcher": members.researcher.headers,
        "regulator": members.regulator.headers,
        "same_jurisdiction": members.same_jurisdiction.headers,
        "other_regulator": members.other_regulator.headers,
        "secretariat": members.secretariat.headers,
    }


async def _same_answers(world: World) -> int:
    """Every viewer x query asked of both services; returns how many were counted from the
    copy (population "all")."""
    from_copy = 0
    for viewer, headers in _viewers(world).items():
        for params in QUERIES:
            ours = await world.columnar.get("/api/v1/trends", params=params, headers=headers)
            theirs = await world.registry.get("/api/v1/trends", params=params, headers=headers)
            assert ours.status_code == theirs.status_code == 200, (viewer, params, ours.text)
            assert ours.json() == theirs.json(), (viewer, params)
            from_copy += ours.json()["population"] == "all"
    return from_copy


async def _post(world: World, path: str, headers: dict[str, str], body: Any = None) -> Any:
    response = await world.columnar.post(path, json={} if body is None else body, headers=headers)
    assert response.status_code in {200, 201}, response.text
    return response.json()


async def _file(world: World, headers: dict[str, str], **fields: Any) -> Any:
    values: dict[str, Any] = {
        "occurred_on": "2025-11-03",
        "detected_on": "2025-11-05",
        "status": "submitted",
        **fields,
    }
    payload = report_payload(**values)
    return (await _post(world, "/api/v1/reports", headers, payload))["report"]


async def _accept(world: World, ref: str) -> None:
    secretariat = world.members.secretariat.headers
    await _post(world, f"/api/v1/reports/{ref}/start-review", secretariat)
    await _post(world, f"/api/v1/reports/{ref}/accept", secretariat)


async def _statuses(world: World) -> set[tuple[str, str]]:
    async with world.database.connect() as connection:
        rows = await connection.execute(text("SELECT DISTINCT status, sharing FROM reports"))
        return {(row.status, row.sharing) for row in rows}


async def test_every_role_gets_the_same_trends_from_the_copy_as_from_the_registry(
    world: World,
) -> None:
    members = world.members
    # Besides the generated registry: restricted reports, another organization's draft, a
    # rejected and a withdrawn report.
    red = await _file(world, members.regulator.headers, sharing="TLP:RED")
    await _accept(world, red["ref"])
    amber = await _file(world, members.other_regulator.headers, sharing="TLP:AMBER")
    await _accept(world, amber["ref"])
    await _file(world, members.same_jurisdiction.headers, sharing="TLP:GREEN", status="draft")
    rejected = await _file(world, members.other_regulator.headers, sharing="TLP:GREEN")
    secretariat = members.secretariat.headers
    await _post(world, f"/api/v1/reports/{rejected['ref']}/start-review", secretariat)
    await _post(
        world, f"/api/v1/reports/{rejected['ref']}/reject", secretariat, {"reason": "unclear"}
    )
    withdrawn = await _file(world, members.regulator.headers, sharing="TLP:CLEAR")
    await _accept(world, withdrawn["ref"])
    await _post(world, f"/api/v1/reports/{withdrawn['ref']}/withdraw", members.regulator.headers)
    present = await _statuses(world)
    for needed in [
        ("accepted", "TLP:RED"),
        ("accepted", "TLP:AMBER"),
        ("draft", "TLP:GREEN"),
        ("rejected", "TLP:GREEN"),
        ("withdrawn", "TLP:CLEAR"),
    ]:
        assert needed in present, needed

    counted_from_copy = await _same_answers(world)

    assert counted_from_copy == 6 * 9, "every coarse query of every viewer came from the copy"
    manifest = columnar.Store(world.copy_dir).manifest()
    assert manifest is not None
    assert manifest.rows > 1000


async def test_a_filing_accepted_a_moment_ago_counts_in_the_next_trend(world: World) -> None:
    headers = world.members.secretariat.headers
    params = {**QUARTERS, "by": "sector"}

    async def sector_h(client: httpx.AsyncClient) -> int:
        body = (await client.get("/api/v1/trends", params=params, headers=headers)).json()
        return sum(
            row["incidents"]
            for row in body["cells"]
            if row["sector"] == "H" and row["period"] == "2025-Q4"
        )

    before = await sector_h(world.columnar)
    filed = await _file(world, world.members.regulator.headers, sectors=["H"])
    assert await sector_h(world.columnar) == before, "submitted is not counted yet"
    await _accept(world, filed["ref"])
    assert await sector_h(world.columnar) == before + 1
    assert await sector_h(world.registry) == before + 1
    await _post(world, f"/api/v1/reports/{filed['ref']}/withdraw", world.members.regulator.headers)
    assert await sector_h(world.columnar) == before


async def test_moved_and_merged_reports_count_as_the_registry_counts_them(world: World) -> None:
    headers = world.members.regulator.headers
    secretariat = world.members.secretariat.headers
    # Two reports of one event from different dates and countries, first as two incidents.
    first = await _file(world, headers, occurred_on="2025-02-10", affected_jurisdictions=["KE"])
    second = await _file(
        world,
        world.members.other_regulator.headers,
        occurred_on="2025-08-20",
        affected_jurisdictions=["BR"],
        sectors=["K"],
    )
    third = await _file(world, headers, occurred_on="2024-12-30", affected_jurisdictions=["GH"])
    for report in (first, second, third):
        await _accept(world, report["ref"])
    assert await _same_answers(world)
    await _post(
        world,
        f"/api/v1/reports/{second['ref']}/move",
        secretariat,
        {"incident": first["incident"]["ref"]},
    )
    assert await _same_answers(world)
    await _post(
        world,
        f"/api/v1/incidents/{third['incident']['ref']}/merge",
        secretariat,
        {"into": first["incident"]["ref"]},
    )
    assert await _same_answers(world)
    # Out again into an incident of its own: the incident it left changes too.
    await _post(world, f"/api/v1/reports/{first['ref']}/move", secretariat, {"incident": None})
    assert await _same_answers(world)


def _private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


async def test_the_copy_is_private_and_rebuilt_when_damaged(world: World, tmp_path: Path) -> None:
    store = columnar.Store(tmp_path / "copy")
    built = await asyncio.to_thread(store.rebuild, world.url)
    assert built.partitions
    assert _private(store.directory)
    assert all(_private(path) for path in store.directory.rglob("*"))

    (store.directory / columnar_files.MANIFEST).write_text("{not json")
    assert store.manifest() is None
    again = (await asyncio.to_thread(store.current, world.url)).manifest
    assert again.generation != built.generation
    assert again.rows == built.rows

    part = again.partitions[0]
    (store.directory / again.generation / part.name).unlink()
    assert store.manifest() is None, "a missing partition makes the copy unusable"
    rebuilt = (await asyncio.to_thread(store.current, world.url)).manifest
    assert rebuilt.rows == built.rows
    assert [p.name for p in store.directory.iterdir() if p.name.startswith("generation-")] == [
        rebuilt.generation
    ], "older generations are removed"

    stale = msgspec.structs.replace(rebuilt, format=columnar_files.FORMAT + 1)
    (store.directory / columnar_files.MANIFEST).write_bytes(msgspec.json.encode(stale))
    assert store.manifest() is None, "another format is rebuilt, never read"


async def test_two_workers_updating_at_once_leave_one_correct_copy(
    world: World, tmp_path: Path
) -> None:
    directory = tmp_path / "shared"
    store = columnar.Store(directory)
    await asyncio.to_thread(store.rebuild, world.url)
    filed = await _file(world, world.members.regulator.headers, sectors=["A"])
    await _accept(world, filed["ref"])
    # Two processes' stores on one directory, updating at once.
    results = await asyncio.gather(
        asyncio.to_thread(columnar.Store(directory).current, world.url),
        asyncio.to_thread(columnar.Store(directory).current, world.url),
    )
    assert results[0].manifest == results[1].manifest
    found = columnar.Store(directory).manifest()
    assert found is not None
    assert found.delta_rows >= 1
    async with world.database.connect() as connection:
        accepted = (
            await connection.execute(text("SELECT count(*) FROM reports WHERE status = 'accepted'"))
        ).scalar_one()
    snapshot = columnar_files.Snapshot(directory, found)
    assert _rows_in(snapshot) == accepted


def _rows_in(snapshot: columnar_files.Snapshot) -> int:
    """The accepted reports the copy stands for: partition rows not superseded, plus the delta."""
    import polars as pl

    affected = snapshot.affected()
    total = 0
    for path in snapshot.partitions(date.min, date.max):
        rows = pl.scan_parquet(path)
        if affected is not None:
            rows = rows.filter(~pl.col("incident").is_in(affected.implode()))
        total += rows.select(pl.len()).collect().item()
    delta = snapshot.delta()
    if delta is not None:
        total += pl.scan_parquet(delta).select(pl.len()).collect().item()
    return total


async def test_a_delta_folded_into_its_months_counts_as_the_registry_does(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every update folds its delta into the months it touches instead of keeping a delta.
    monkeypatch.setattr(columnar, "DELTA_ROWS", 0)
    monkeypatch.setattr(columnar, "DELTA_SHARE", 0.0)
    headers = world.members.regulator.headers
    secretariat = world.members.secretariat.headers
    before = columnar.Store(world.copy_dir).manifest()
    assert before is not None
    early = await _file(world, headers, occurred_on="2023-03-02", affected_jurisdictions=["NG"])
    late = await _file(world, headers, occurred_on="2025-09-09", affected_jurisdictions=["KE"])
    for report in (early, late):
        await _accept(world, report["ref"])
    assert await _same_answers(world)
    # The later report joins the earlier one's incident: it leaves its month for 2023-03.
    await _post(
        world,
        f"/api/v1/reports/{late['ref']}/move",
        secretariat,
        {"incident": early["incident"]["ref"]},
    )
    assert await _same_answers(world)
    await _post(world, f"/api/v1/reports/{early['ref']}/withdraw", headers)
    assert await _same_answers(world)
    after = columnar.Store(world.copy_dir).manifest()
    assert after is not None
    assert after.delta is None
    assert after.generation == before.generation, "folded, not rebuilt"
    rewritten = {part.name for part in after.partitions} - {p.name for p in before.partitions}
    assert any(name.startswith("2023-03.") for name in rewritten)


async def test_the_rebuild_command_builds_the_copy_and_says_what_it_holds(
    world: World, tmp_path: Path
) -> None:
    import json

    from click.testing import CliRunner

    from incidents.cli import main

    environment = {"INCIDENTS_DATABASE_URL": world.url, "INCIDENTS_DATA_DIR": str(tmp_path)}
    result = await asyncio.to_thread(CliRunner(env=environment).invoke, main, ["trends", "rebuild"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    async with world.database.connect() as connection:
        accepted = (
            await connection.execute(text("SELECT count(*) FROM reports WHERE status = 'accepted'"))
        ).scalar_one()
    assert printed["reports"] == accepted
    assert any(".incidents-" in path.name for path in (tmp_path / "trends-columnar").rglob("*"))
    built = columnar.Store(tmp_path / "trends-columnar").manifest()
    assert built is not None
    assert built.generation == printed["generation"]
    assert _private(tmp_path / "trends-columnar")

    off = await asyncio.to_thread(
        CliRunner(env={**environment, "INCIDENTS_TRENDS_COLUMNAR": "false"}).invoke,
        main,
        ["trends", "rebuild"],
    )
    assert off.exit_code == 1
    assert "INCIDENTS_TRENDS_COLUMNAR is off" in off.output
    assert "Traceback" not in off.output


async def test_a_copy_that_cannot_be_written_falls_back_to_the_registry(
    world: World, tmp_path: Path
) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the copy's directory should be")
    app = create_app(
        Settings(database_url=world.url, data_dir=tmp_path, trends_columnar_dir=blocked),
        database=world.database,
    )
    headers = world.members.secretariat.headers
    params = {**QUARTERS, "by": "harm_domain"}
    async with serve_in_process(app) as client:
        answer = await client.get("/api/v1/trends", params=params, headers=headers)
    expected = await world.registry.get("/api/v1/trends", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json() == expected.json()


async def test_a_brief_made_from_the_copy_is_the_brief_made_from_the_registry(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Reports changed since the copy was built (a delta the brief must read past): a new
    # restricted report in the brief's quarter and a public one withdrawn from it.
    regulator = world.members.regulator.headers
    secretariat = world.members.secretariat.headers
    built = await world.columnar.get("/api/v1/trends", params=QUARTERS, headers=secretariat)
    assert built.status_code == 200, "the copy exists before the changes"
    amber = await _file(world, regulator, sharing="TLP:AMBER", sectors=["H"])
    clear = await _file(world, regulator, sharing="TLP:CLEAR", sectors=["K"])
    for report in (amber, clear):
        await _accept(world, report["ref"])
    await _post(world, f"/api/v1/reports/{clear['ref']}/withdraw", regulator)
    read_from_copy: list[int] = []
    reading = columnar.Copy.report_rows

    async def counted(self: columnar.Copy, columns: Any) -> Any:
        rows = await reading(self, columns)
        read_from_copy.append(rows.height)
        return rows

    monkeypatch.setattr(columnar.Copy, "report_rows", counted)
    made: dict[str, tuple[str, bytes]] = {}
    for name, client in (("copy", world.columnar), ("registry", world.registry)):
        queued = await client.post(
            "/api/v1/briefs", json={"period": "2025-Q4"}, headers=secretariat
        )
        assert queued.status_code == 202, queued.text
        location = queued.headers["location"]
        for _ in range(600):
            status = (await client.get(location, headers=secretariat)).json()
            if status["status"] not in {"queued", "running"}:
                break
            await asyncio.sleep(0.1)
        assert status["status"] == "draft", status
        data = await client.get(f"{location}/data.json", headers=secretariat)
        assert data.status_code == 200
        made[name] = (status["data_hash"], data.content)

    async with world.database.connect() as connection:
        accepted = (
            await connection.execute(text("SELECT count(*) FROM reports WHERE status = 'accepted'"))
        ).scalar_one()
    assert read_from_copy == [accepted], "the first brief read every accepted report from the copy"
    assert made["copy"] == made["registry"], "the same figures, byte for byte"
    manifest = columnar.Store(world.copy_dir).manifest()
    assert manifest is not None
    assert manifest.delta is not None, "the copy was read past a delta"
