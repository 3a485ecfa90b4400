"""Checkpoints and incremental verification, with real commits: a clean run is recorded; the
next incremental run re-checks only what was written since, yet finds every edit and deletion."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from incidents.app import create_app
from incidents.cli import main
from incidents.config import Settings
from incidents.db import Database, create_engine
from incidents.migrate import downgrade, upgrade
from incidents.oversight.verify import VerifyResult, verify_database
from tests.conftest import serve_in_process
from tests.factories import Members, make_members, report_payload
from tests.reports.helpers import file_accepted


@contextlib.asynccontextmanager
async def _registry(
    url: str, data_dir: Path
) -> AsyncIterator[tuple[Database, Members, httpx.AsyncClient]]:
    database = Database(create_engine(url, pool_size=3))
    async with database.transaction() as connection:
        members = await make_members(connection)
    try:
        async with serve_in_process(
            create_app(Settings(data_dir=data_dir, auth_cache_seconds=0), database=database)
        ) as client:
            yield database, members, client
    finally:
        await database.dispose()


async def _tamper(database: Database, *statements: str, **params: Any) -> None:
    """Edits committed by hand, as someone with database access would."""
    async with database.transaction() as connection:
        for statement in statements:
            await connection.execute(text(statement), params)


def _named(result: VerifyResult) -> set[tuple[str, str]]:
    return {(difference.entity, difference.attribute) for difference in result.differences}


async def test_incremental_runs_recheck_what_changed_and_find_every_edit_and_deletion(
    committed_database_url: str, tmp_path: Path
) -> None:
    async with _registry(committed_database_url, tmp_path) as (database, members, client):
        a, b, c, d = [await file_accepted(client, members) for _ in range(4)]
        # Asked for an incremental run before any checkpoint: everything is verified.
        full = await verify_database(database, incremental=True, record_as="test")
        assert full.ok
        assert full.mode == "full"
        assert full.notes == ["no checkpoint yet: verified everything"]
        assert full.checkpoint is not None
        assert full.reports_checked == 4

        quiet = await verify_database(database, incremental=True, record_as="test")
        assert quiet.ok, [difference.reason for difference in quiet.differences]
        assert quiet.mode == "incremental"
        assert quiet.since is not None
        assert quiet.since.id == full.checkpoint
        assert quiet.reports_checked == 0
        assert quiet.checkpoint is not None

        e = await file_accepted(client, members)
        await _tamper(
            database,
            "UPDATE reports SET sharing = 'TLP:CLEAR' WHERE id = :a",
            "DELETE FROM report_revisions WHERE report_id = :b",
            "DELETE FROM report_revisions WHERE report_id = :c",
            "DELETE FROM reports WHERE id = :c",
            a=a["id"],
            b=b["id"],
            c=c["id"],
        )
        found = await verify_database(database, incremental=True, record_as="test")

        assert not found.ok
        assert found.checkpoint is None
        assert found.since is not None
        assert found.since.id == quiet.checkpoint
        assert _named(found) == {
            (a["ref"], "sharing"),
            (b["ref"], "revision 1"),
            (c["ref"], "row"),
        }
        # The new report, the edited one and the one that lost its revision; not d.
        assert found.reports_checked == 3
        assert _named(await verify_database(database)) == _named(found)
        assert d["ref"] not in {entity for entity, _ in _named(found)}
        assert e["ref"] not in {entity for entity, _ in _named(found)}


async def test_an_event_edited_before_the_checkpoint_is_found_when_its_row_is_rechecked(
    committed_database_url: str, tmp_path: Path
) -> None:
    async with _registry(committed_database_url, tmp_path) as (database, members, client):
        report = await file_accepted(client, members, sharing="TLP:RED")
        assert (await verify_database(database, record_as="test")).ok
        # Rewritten consistently in the log and in the table: only the event's hash tells.
        await _tamper(
            database,
            "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete",
            "UPDATE audit_events SET after = jsonb_set(after, '{sharing}', '\"TLP:CLEAR\"') "
            "WHERE entity_id = :id AND action = 'report.created'",
            "ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_delete",
            "UPDATE reports SET sharing = 'TLP:CLEAR' WHERE id = :id",
            "UPDATE report_revisions SET sharing = 'TLP:CLEAR' WHERE report_id = :id",
            id=report["id"],
        )
        found = await verify_database(database, incremental=True)
        assert not found.ok
        assert [problem.reason for problem in found.problems] == [
            "content does not match its hash: the event was edited"
        ]


async def test_a_checkpoint_whose_event_was_altered_is_not_trusted(
    committed_database_url: str, tmp_path: Path
) -> None:
    async with _registry(committed_database_url, tmp_path) as (database, members, client):
        await file_accepted(client, members)
        full = await verify_database(database, record_as="test")
        await _tamper(
            database,
            "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete",
            "UPDATE audit_events SET hash = sha256(hash) WHERE seq = :seq",
            "ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_delete",
            seq=full.head_seq,
        )
        found = await verify_database(database, incremental=True)
        assert not found.ok
        assert any(
            problem.reason.startswith(f"the event checkpoint {full.checkpoint} ended at")
            for problem in found.problems
        )


def test_the_command_shows_progress_records_checkpoints_and_names_differences(
    committed_database_url: str, tmp_path: Path
) -> None:
    async def setup() -> dict[str, Any]:
        async with _registry(committed_database_url, tmp_path) as (_, members, client):
            return await file_accepted(client, members, sharing="TLP:RED")

    report = asyncio.run(setup())
    run = CliRunner(env={"INCIDENTS_DATABASE_URL": committed_database_url})

    clean = run.invoke(main, ["audit", "verify"])
    assert clean.exit_code == 0, clean.output
    assert "verifying reports [##############################] 1/1" in clean.stderr
    assert "chain intact and the tables match the log (checkpoint 1)" in clean.stdout
    assert "full: " in clean.stdout
    assert "1 reports" in clean.stdout

    async def tamper() -> None:
        database = Database(create_engine(committed_database_url, pool_size=1))
        await _tamper(
            database, "UPDATE reports SET sharing = 'TLP:CLEAR' WHERE id = :id", id=report["id"]
        )
        await database.dispose()

    asyncio.run(tamper())
    found = run.invoke(main, ["audit", "verify", "--incremental"])
    assert found.exit_code == 1
    assert (
        f"{report['ref']}: sharing is 'TLP:CLEAR' in the reports table; the audit log says "
        "'TLP:RED'"
    ) in found.stdout
    assert "incremental since checkpoint 1: " in found.stdout


async def test_a_recorded_head_and_the_checkpoints_themselves_are_held_to(
    committed_database_url: str, tmp_path: Path
) -> None:
    async with _registry(committed_database_url, tmp_path) as (database, members, client):
        await file_accepted(client, members)
        full = await verify_database(database, record_as="test")
        await file_accepted(client, members)
        # A head recorded before the checkpoint must still be in the chain it starts from.
        kept = await verify_database(database, incremental=True, expected_head=full.head_hash)
        assert kept.ok
        assert kept.mode == "incremental"
        rewritten = await verify_database(database, incremental=True, expected_head="ab" * 32)
        assert [problem.reason for problem in rewritten.problems] == [
            "the recorded head hash is not in the chain: history was rewritten or truncated"
        ]
        async with database.transaction() as connection:
            for statement in (
                "UPDATE audit_checkpoints SET snapshot_xmin = snapshot_xmin + 1000",
                "DELETE FROM audit_checkpoints",
            ):
                savepoint = await connection.begin_nested()
                with pytest.raises(DBAPIError, match="append-only"):
                    await connection.execute(text(statement))
                await savepoint.rollback()


async def test_the_migration_marks_the_drafts_working_copies_already_written(
    committed_database_url: str, tmp_path: Path
) -> None:
    async with _registry(committed_database_url, tmp_path) as (database, members, client):
        created = await client.post(
            "/api/v1/reports",
            json=report_payload(status="draft"),
            headers=members.regulator.headers,
        )
        report = created.json()["report"]
        edited = await client.patch(
            f"/api/v1/reports/{report['ref']}",
            json={"deaths": 3},
            headers={**members.regulator.headers, "If-Match": created.headers["etag"]},
        )
        assert edited.status_code == 200
        submitted = await client.post(
            f"/api/v1/reports/{report['ref']}/submit", headers=members.regulator.headers
        )
        corrected = await client.patch(
            f"/api/v1/reports/{report['ref']}",
            json={"deaths": 4},
            headers={**members.regulator.headers, "If-Match": submitted.headers["etag"]},
        )
        assert corrected.status_code == 200
        await downgrade(database.engine, "0007")
        await upgrade(database.engine)
        async with database.connect() as connection:
            marked = await connection.execute(
                text(
                    "SELECT revision, draft_only FROM report_revisions WHERE report_id = :id "
                    "ORDER BY revision"
                ),
                {"id": report["id"]},
            )
            assert [tuple(row) for row in marked] == [(1, True), (2, False), (3, False)]
