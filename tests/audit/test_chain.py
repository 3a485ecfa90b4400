"""The audit log is a hash chain: intact chains verify, and any hand edit is found and located."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.audit.service import Actor, EventDraft, append, verify

ACTOR = Actor(label="test")


async def _append_five(connection: AsyncConnection) -> list[int]:
    drafts = [
        EventDraft("thing.changed", "thing", str(number), {"value": number}, {"value": number + 1})
        for number in range(5)
    ]
    return await append(connection, ACTOR, drafts)


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
    assert seqs == list(range(before.head_seq + 1, before.head_seq + 6))
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
