"""The audit log is a hash chain: intact chains verify, and any hand edit is found and located."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.audit.service import Actor, EventDraft, append, verify
from incidents.db import Database, create_engine

ACTOR = Actor(label="test")


async def _append_five(connection: AsyncConnection) -> list[int]:
    """Five events appended; their sequence numbers."""
    head = (await verify(connection)).head_seq
    drafts = [
        EventDraft("thing.changed", "thing", str(number), {"value": number}, {"value": number + 1})
        for number in range(5)
    ]
    await append(connection, ACTOR, drafts)
    return list(range(head + 1, head + 6))


async def _as_superuser_bypassing_the_append_only_trigger(
    connection: AsyncConnection, statement: str
) -> None:
    # What an attacker with database access would do; the application itself cannot.
    await connection.execute(
        text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete")
    )
    await connection.execute(text(statement))
    await connection.execute(
        text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_delete")
    )


async def test_appended_events_are_numbered_and_the_chain_verifies(
    connection: AsyncConnection,
) -> None:
    before = await verify(connection)
    seqs = await _append_five(connection)
    numbered = (
        await connection.execute(
            text("SELECT seq FROM audit_events WHERE seq > :head ORDER BY seq"),
            {"head": before.head_seq},
        )
    ).scalars()
    assert list(numbered) == seqs
    result = await verify(connection)
    assert result.ok, result.problems
    assert result.head_seq == seqs[-1]
    assert result.events_checked == before.events_checked + 5


async def test_the_application_cannot_update_or_delete_events(connection: AsyncConnection) -> None:
    seqs = await _append_five(connection)
    for statement in (
        f"UPDATE audit_events SET action = 'x' WHERE seq = {seqs[0]}",
        f"DELETE FROM audit_events WHERE seq = {seqs[0]}",
    ):
        savepoint = await connection.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            await connection.execute(text(statement))
        await savepoint.rollback()


async def test_an_edited_event_is_detected_at_its_sequence_number(
    connection: AsyncConnection,
) -> None:
    seqs = await _append_five(connection)
    edited = seqs[2]
    await _as_superuser_bypassing_the_append_only_trigger(
        connection,
        f"""UPDATE audit_events SET after = '{{"value": 999}}' WHERE seq = {edited}""",
    )
    result = await verify(connection)
    assert not result.ok
    assert [problem.seq for problem in result.problems] == [edited]
    assert "edited" in result.problems[0].reason


async def test_a_deleted_event_is_detected_where_it_was(connection: AsyncConnection) -> None:
    seqs = await _append_five(connection)
    deleted = seqs[1]
    await _as_superuser_bypassing_the_append_only_trigger(
        connection, f"DELETE FROM audit_events WHERE seq = {deleted}"
    )
    result = await verify(connection)
    assert not result.ok
    assert result.problems[0].seq == deleted
    assert "deleted" in result.problems[0].reason


async def test_events_cut_from_the_end_are_detected(connection: AsyncConnection) -> None:
    seqs = await _append_five(connection)
    await _as_superuser_bypassing_the_append_only_trigger(
        connection, f"DELETE FROM audit_events WHERE seq >= {seqs[3]}"
    )
    result = await verify(connection)
    assert not result.ok
    assert "head" in result.problems[-1].reason


async def test_a_fully_rewritten_chain_is_caught_by_a_recorded_head(
    connection: AsyncConnection,
) -> None:
    await _append_five(connection)
    recorded = (await verify(connection)).head_hash
    assert (await verify(connection, expected_head=recorded)).ok
    # Rewriting the whole chain consistently would also rewrite the head; what the attacker
    # cannot change is a head hash somebody recorded outside the database.
    result = await verify(connection, expected_head="ab" * 32)
    assert not result.ok
    assert "recorded head" in result.problems[-1].reason


async def test_a_pending_event_cannot_be_sealed_or_edited_by_the_application(
    connection: AsyncConnection,
) -> None:
    # Only the commit-time trigger may fill in an event's place in the chain.
    await connection.execute(text("SET CONSTRAINTS audit_events_seal DEFERRED"))
    await append(connection, ACTOR, [EventDraft("thing.changed", "thing", "1", None, {"v": 1})])
    pending = (
        await connection.execute(text("SELECT seq FROM audit_events WHERE seq < 0"))
    ).scalar_one()
    for statement in (
        f"UPDATE audit_events SET seq = 1000000, hash = '\\x00', pending_canonical = NULL "
        f"WHERE seq = {pending}",
        f"UPDATE audit_events SET action = 'x' WHERE seq = {pending}",
    ):
        savepoint = await connection.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            await connection.execute(text(statement))
        await savepoint.rollback()


async def test_events_are_chained_in_commit_order_by_concurrent_writers(
    committed_database_url: str,
) -> None:
    # Each writer inserts pending events; PostgreSQL chains them as each transaction commits.
    database = Database(create_engine(committed_database_url, pool_size=10))
    writers = 40

    async def write(number: int) -> None:
        async with database.transaction() as writer:
            drafts = [EventDraft("thing.changed", "thing", f"{number}-{n}") for n in range(3)]
            await append(writer, ACTOR, drafts)
            seqs = await writer.execute(text("SELECT seq FROM audit_events WHERE seq < 0"))
            assert len(seqs.all()) == 3  # pending inside the transaction, invisible outside

    try:
        async with database.connect() as reader:
            before = await verify(reader)
        await asyncio.gather(*(write(number) for number in range(writers)))
        async with database.connect() as reader:
            result = await verify(reader)
            unsealed = await reader.execute(text("SELECT count(*) FROM audit_events WHERE seq < 0"))
            assert unsealed.scalar_one() == 0
            order = await reader.execute(
                text("SELECT entity_id FROM audit_events WHERE seq > :head ORDER BY seq"),
                {"head": before.head_seq},
            )
            entity_ids = list(order.scalars())
    finally:
        await database.dispose()
    assert result.ok, result.problems
    assert result.head_seq == before.head_seq + 3 * writers
    # A transaction's events stay together and in the order it appended them.
    for start in range(0, len(entity_ids), 3):
        number = entity_ids[start].split("-")[0]
        assert entity_ids[start : start + 3] == [f"{number}-{n}" for n in range(3)]
