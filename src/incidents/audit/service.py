"""Appending to and verifying the hash-chained audit log.

Each event's ``content_hash`` is SHA-256 of its canonical JSON (fixed field order, sorted keys);
its ``hash`` is SHA-256(prev_hash || content_hash). The single ``audit_head`` row holds the
newest seq and hash; appends lock it, so events are numbered without gaps in commit order, and
any edited, deleted or re-ordered row breaks the chain where it happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import TextClause, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.audit.models import audit_events, audit_head
from incidents.db import copy_rows
from incidents.ids import new_id

GENESIS_HASH = bytes(32)
_VERIFY_BATCH = 5_000


class Actor(msgspec.Struct, frozen=True):
    """Who made a change: an organization's key over the API, or a named operator on the CLI."""

    label: str
    org_id: uuid.UUID | None = None
    key_id: uuid.UUID | None = None


class EventDraft(msgspec.Struct, frozen=True):
    action: str
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


class _Canonical(msgspec.Struct, array_like=True):
    """The bytes that are hashed: every stored field of the event except the hashes."""

    seq: int
    id: str
    occurred_at: str
    actor_org_id: str | None
    actor_key_id: str | None
    actor_label: str
    action: str
    entity_type: str
    entity_id: str
    before: Any
    after: Any


_encoder = msgspec.json.Encoder(order="sorted")


def canonical(
    *,
    seq: int,
    event_id: uuid.UUID,
    occurred_at: datetime,
    actor_org_id: uuid.UUID | None,
    actor_key_id: uuid.UUID | None,
    actor_label: str,
    action: str,
    entity_type: str,
    entity_id: str,
    before: Any,
    after: Any,
) -> bytes:
    fields = _Canonical(
        seq=seq,
        id=str(event_id),
        occurred_at=occurred_at.astimezone(UTC).isoformat(),
        actor_org_id=str(actor_org_id) if actor_org_id else None,
        actor_key_id=str(actor_key_id) if actor_key_id else None,
        actor_label=actor_label,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        before=before,
        after=after,
    )
    return _encoder.encode(fields)


def content_hash(**fields: Any) -> bytes:
    """SHA-256 of the event's canonical bytes (keyword arguments as for `canonical`)."""
    return hashlib.sha256(canonical(**fields)).digest()


def pending_canonical(**fields: Any) -> bytes:
    """The canonical bytes after the seq: what the commit-time seal hashes behind `[<seq>,`."""
    return canonical(**{**fields, "seq": 0})[len(b"[0,") :]


def key_fingerprint(key_hash: bytes) -> str:
    """What a key's audit event records of it: a hash of the stored hash, never the key."""
    return hashlib.sha256(key_hash).hexdigest()


def chain_hash(prev_hash: bytes, own_content_hash: bytes) -> bytes:
    return hashlib.sha256(prev_hash + own_content_hash).digest()


def jsonable(value: Any) -> Any:
    """Structs, UUIDs and dates -> plain JSON values, so that what is hashed is what is stored."""
    return msgspec.to_builtins(value)


def _fields(actor: Actor, draft: EventDraft, occurred_at: datetime) -> dict[str, Any]:
    """An event's hashed fields, as `canonical` takes them (without the seq)."""
    return {
        "event_id": new_id(),
        "occurred_at": occurred_at,
        "actor_org_id": actor.org_id,
        "actor_key_id": actor.key_id,
        "actor_label": actor.label,
        "action": draft.action,
        "entity_type": draft.entity_type,
        "entity_id": draft.entity_id,
        "before": jsonable(draft.before),
        "after": jsonable(draft.after),
    }


def _row(fields: dict[str, Any]) -> dict[str, Any]:
    """The audit_events columns of an event's fields (the id column is named ``id``)."""
    row = dict(fields)
    row["id"] = row.pop("event_id")
    return row


def chain_rows(
    actor: Actor, drafts: Sequence[EventDraft], head_seq: int, head_hash: bytes
) -> list[dict[str, Any]]:
    """Number and hash ``drafts`` after the given head; returns rows ready to insert."""
    occurred_at = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    previous = head_hash
    for seq, draft in enumerate(drafts, start=head_seq + 1):
        fields = _fields(actor, draft, occurred_at)
        own = content_hash(seq=seq, **fields)
        link = chain_hash(previous, own)
        rows.append(
            {"seq": seq, **_row(fields), "content_hash": own, "prev_hash": previous, "hash": link}
        )
        previous = link
    return rows


_LOCK_HEAD = text("SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE")


async def lock_head(connection: AsyncConnection) -> tuple[int, bytes]:
    """Lock the chain head until the transaction ends; appends after this are ordered."""
    row = (await connection.execute(_LOCK_HEAD)).one()
    return int(row.seq), bytes(row.hash)


async def store_head(connection: AsyncConnection, seq: int, head_hash: bytes) -> None:
    await connection.execute(
        update(audit_head).where(audit_head.c.id == 1).values(seq=seq, hash=head_hash)
    )


async def seal_pending(connection: AsyncConnection) -> None:
    """Chain this transaction's pending events now rather than at its commit (and any it
    appends later as each statement ends): for bulk loads that must alter the table after."""
    await connection.execute(text("SET CONSTRAINTS audit_events_seal IMMEDIATE"))


def _pending_statement() -> TextClause:
    columns = [
        column.name
        for column in audit_events.columns
        if column.name not in ("seq", "content_hash", "prev_hash", "hash")
    ]
    values = [
        f"CAST(:{name} AS jsonb)" if name in ("before", "after") else f":{name}" for name in columns
    ]
    return text(
        f"INSERT INTO audit_events (seq, {', '.join(columns)}) "
        f"VALUES (-nextval('audit_pending_numbers'), {', '.join(values)})"
    )


_PENDING = _pending_statement()
_SEALED_AT_COMMIT_UP_TO = 20


def pending_rows(actor: Actor, drafts: Sequence[EventDraft]) -> list[dict[str, Any]]:
    """Rows inserted unsealed: PostgreSQL numbers and hashes them at commit."""
    occurred_at = datetime.now(UTC)
    rows = []
    for draft in drafts:
        fields = _fields(actor, draft, occurred_at)
        row = _row(fields)
        row["before"] = _encode_json(fields["before"])
        row["after"] = _encode_json(fields["after"])
        row["pending_canonical"] = pending_canonical(seq=0, **fields)
        rows.append(row)
    return rows


async def append(connection: AsyncConnection, actor: Actor, drafts: Sequence[EventDraft]) -> None:
    """Append events in the caller's transaction.

    A handful of events (every API write) are inserted pending and chained by PostgreSQL when
    the transaction commits, so concurrent writers never wait on each other's round trips.
    Many events at once (batches, imports) are chained here under the head's lock, which is
    then held until the commit: call this last.
    """
    if not drafts:
        return
    if len(drafts) <= _SEALED_AT_COMMIT_UP_TO:
        await connection.execute(_PENDING, pending_rows(actor, drafts))
        return
    head_seq, head_hash = await lock_head(connection)
    rows = chain_rows(actor, drafts, head_seq, head_hash)
    await copy_rows(
        connection,
        "audit_events",
        _COLUMNS,
        [
            tuple(_encode_json(row[c]) if c in ("before", "after") else row[c] for c in _COLUMNS)
            for row in rows
        ],
    )
    await store_head(connection, rows[-1]["seq"], rows[-1]["hash"])


_COLUMNS = [column.name for column in audit_events.columns if column.name != "pending_canonical"]


def _encode_json(value: Any) -> str | None:
    return None if value is None else msgspec.json.encode(value).decode()


class ChainProblem(msgspec.Struct):
    seq: int
    reason: str


class ChainResult(msgspec.Struct, kw_only=True):
    ok: bool
    events_checked: int
    head_seq: int
    head_hash: str
    problems: list[ChainProblem]


def event_problems(row: Any) -> list[str]:
    """What is wrong with one sealed event (a row by column name) on its own: its content or
    its link edited."""
    found = []
    recomputed = content_hash(
        seq=row["seq"],
        event_id=row["id"],
        occurred_at=row["occurred_at"],
        actor_org_id=row["actor_org_id"],
        actor_key_id=row["actor_key_id"],
        actor_label=row["actor_label"],
        action=row["action"],
        entity_type=row["entity_type"],
        entity_id=row["entity_id"],
        before=row["before"],
        after=row["after"],
    )
    if recomputed != bytes(row["content_hash"]):
        found.append("content does not match its hash: the event was edited")
    if chain_hash(bytes(row["prev_hash"]), bytes(row["content_hash"])) != bytes(row["hash"]):
        found.append("hash does not follow from prev_hash and content_hash")
    return found


ChainProgress = Callable[[int, int], None]


async def verify(
    connection: AsyncConnection,
    *,
    expected_head: str | None = None,
    after: tuple[int, bytes] | None = None,
    max_problems: int = 100,
    progress: ChainProgress | None = None,
) -> ChainResult:
    """Walk the chain (from genesis, or from a verified ``after`` = (seq, hash)); report where
    it breaks (edited, deleted, re-ordered or truncated).

    A chain rewritten from some point on, with every later hash recomputed, is only caught
    against a head hash recorded earlier outside the database: pass it as ``expected_head``.
    """
    problems: list[ChainProblem] = []
    start_seq, previous = after if after is not None else (0, GENESIS_HASH)
    expected_found = expected_head is None or previous.hex() == expected_head
    expected_seq = start_seq + 1
    checked = 0
    head = (await connection.execute(select(audit_head.c.seq, audit_head.c.hash))).one()
    total = max(int(head.seq) - start_seq, 0)

    def problem(seq: int, reason: str) -> None:
        if len(problems) < max_problems:
            problems.append(ChainProblem(seq=seq, reason=reason))

    async for batch in _event_batches(connection, start_seq):
        for row in batch:
            checked += 1
            if row["seq"] != expected_seq:
                missing = (
                    f"{expected_seq}"
                    if row["seq"] == expected_seq + 1
                    else (f"{expected_seq}-{row['seq'] - 1}")
                )
                problem(expected_seq, f"event(s) {missing} missing: deleted from the log")
            if bytes(row["prev_hash"]) != previous:
                problem(row["seq"], "prev_hash does not match the hash of the event before it")
            for reason in event_problems(row):
                problem(row["seq"], reason)
            previous = bytes(row["hash"])
            expected_seq = row["seq"] + 1
            if not expected_found and previous.hex() == expected_head:
                expected_found = True
        if progress is not None:
            progress(checked, total)

    if head.seq != expected_seq - 1 or bytes(head.hash) != previous:
        problem(
            int(head.seq),
            "the chain head does not match the newest event: events were removed from the end "
            "or the head was altered",
        )
    if not expected_found and after is not None and expected_head is not None:
        # Recorded before the verified starting point: it must still be there.
        earlier = await connection.execute(
            select(audit_events.c.seq).where(
                audit_events.c.seq <= start_seq,
                audit_events.c.hash == bytes.fromhex(expected_head),
            )
        )
        expected_found = earlier.first() is not None
    if not expected_found:
        problem(
            int(head.seq),
            "the recorded head hash is not in the chain: history was rewritten or truncated",
        )
    return ChainResult(
        ok=not problems,
        events_checked=checked,
        head_seq=int(head.seq),
        head_hash=bytes(head.hash).hex(),
        problems=problems,
    )


_EVENTS_AFTER = "SELECT * FROM audit_events WHERE seq > $1 ORDER BY seq"


def _event_batches(connection: AsyncConnection, after_seq: int) -> AsyncIterator[list[Any]]:
    """Sealed events after ``after_seq`` in seq order (pending ones are invisible or negative)."""
    return stream_records(connection, _EVENTS_AFTER, after_seq, batch=_VERIFY_BATCH)


async def stream_records(
    connection: AsyncConnection, query: str, *args: Any, batch: int
) -> AsyncIterator[list[Any]]:
    """The rows of ``query`` (asyncpg records) through a server-side cursor in the connection's
    transaction, a batch at a time, the next batch asked for before the caller checks this one:
    PostgreSQL builds rows on one core while Python checks on the other, instead of taking
    turns. Memory holds two batches whatever the size of the result."""
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    name = f"stream_{uuid.uuid4().hex}"
    await driver.execute(f"DECLARE {name} NO SCROLL CURSOR FOR {query}", *args)
    fetch = f"FETCH {int(batch)} FROM {name}"
    pending: asyncio.Task[list[Any]] | None = asyncio.create_task(driver.fetch(fetch))
    try:
        while pending is not None and (rows := await pending):
            pending = asyncio.create_task(driver.fetch(fetch))
            await asyncio.sleep(0)  # the next FETCH is sent before the caller gets this batch
            yield rows
        pending = None
    finally:
        if pending is not None and not pending.done():
            # Left early: let the FETCH in flight finish; the cursor ends with the transaction.
            with contextlib.suppress(Exception):
                await pending
    await driver.execute(f"CLOSE {name}")
