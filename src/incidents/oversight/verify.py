"""`audit verify`: the hash chain, then every live table against the state the log implies.

One REPEATABLE READ snapshot holds the log and the tables still while they are compared: the
log is walked in keyset pages, then each table is checked (oversight/tables.py) against the log's
replay (oversight/replay.py), in bounded memory whatever the registry's size. A clean run is
recorded as a checkpoint; an incremental run then re-checks only the rows written since that
checkpoint's snapshot, the events after it, and every deletion.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Literal

import msgspec
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.audit.models import audit_checkpoints, audit_events
from incidents.audit.service import ChainProblem
from incidents.audit.service import verify as verify_chain
from incidents.db import Database, as_dict
from incidents.oversight.compare import Difference, ReportCheck
from incidents.oversight.tables import Progress, StoredCheckpoint, TableCheck

# An incremental run infers each row's full transaction id from its 32-bit xmin; that holds for
# transactions less than 2^31 old, so a checkpoint further back than this is not used.
_XID_HORIZON = 1_000_000_000


class Checkpoint(msgspec.Struct, kw_only=True):
    id: int
    created_at: datetime
    mode: str
    seq: int
    hash: str


class VerifyResult(msgspec.Struct, kw_only=True):
    ok: bool
    mode: Literal["full", "incremental"]
    since: Checkpoint | None = None
    """The checkpoint an incremental run started from."""
    head_seq: int
    head_hash: str
    events_checked: int
    reports_checked: int = 0
    revisions_checked: int = 0
    incidents_checked: int = 0
    organizations_checked: int = 0
    api_keys_checked: int = 0
    taxonomy_versions_checked: int = 0
    problems: list[ChainProblem]
    """The log itself: events edited, deleted, re-ordered or cut off."""
    differences: list[Difference] = []
    """The live tables against the log's replay (the first MAX_DIFFERENCES)."""
    differences_found: int = 0
    not_checked: list[str] = []
    """What the replay could not check, and why."""
    notes: list[str] = []
    """How the run went about it (e.g. an incremental run asked for with no checkpoint yet)."""
    seconds: float = 0.0
    snapshot_xmin: int = 0
    """The oldest transaction the verified snapshot could not see: where the next incremental
    run starts looking for changed rows."""
    checkpoint: int | None = None
    """The checkpoint recorded for this run (the CLI records one after every clean run)."""


@contextlib.asynccontextmanager
async def snapshot(database: Database) -> AsyncIterator[AsyncConnection]:
    """One consistent view of the log and the tables for the whole verification."""
    async with database.connect() as connection:
        if connection.in_transaction():  # a test's own transaction: already one view
            yield connection
            return
        await connection.execution_options(isolation_level="REPEATABLE READ")
        async with connection.begin() as transaction:
            yield connection
            await transaction.rollback()  # nothing to keep: temporary tables only


async def verify_database(
    database: Database,
    *,
    expected_head: str | None = None,
    incremental: bool = False,
    record_as: str | None = None,
    progress: Progress | None = None,
) -> VerifyResult:
    """Verify in a snapshot; if it is clean and ``record_as`` names who ran it, record a
    checkpoint that the next incremental run starts from."""
    async with snapshot(database) as connection:
        result = await verify_all(
            connection, expected_head=expected_head, incremental=incremental, progress=progress
        )
    if result.ok and record_as is not None:
        async with database.transaction() as connection:
            result.checkpoint = await record_checkpoint(connection, result, record_as)
    return result


async def record_checkpoint(connection: AsyncConnection, result: VerifyResult, actor: str) -> int:
    checkpoint_id: int = (
        await connection.execute(
            insert(audit_checkpoints)
            .values(
                created_at=datetime.now(UTC),
                mode=result.mode,
                seq=result.head_seq,
                hash=bytes.fromhex(result.head_hash),
                snapshot_xmin=result.snapshot_xmin,
                based_on=result.since.id if result.since else None,
                events_checked=result.events_checked,
                reports_checked=result.reports_checked,
                seconds=result.seconds,
                actor_label=actor,
            )
            .returning(audit_checkpoints.c.id)
        )
    ).scalar_one()
    return checkpoint_id


async def latest_checkpoint(connection: AsyncConnection) -> StoredCheckpoint | None:
    table = audit_checkpoints
    columns = [table.c[name] for name in StoredCheckpoint.__struct_fields__]
    row = (
        (await connection.execute(select(*columns).order_by(table.c.id.desc()).limit(1)))
        .mappings()
        .first()
    )
    return None if row is None else msgspec.convert(as_dict(row), StoredCheckpoint)


async def verify_all(
    connection: AsyncConnection,
    *,
    expected_head: str | None = None,
    incremental: bool = False,
    progress: Progress | None = None,
) -> VerifyResult:
    """Everything, or (``incremental``) what changed since the latest checkpoint."""
    started = time.monotonic()
    xids = (
        await connection.execute(
            text(
                "SELECT pg_snapshot_xmin(s)::text::bigint AS xmin, "
                "pg_snapshot_xmax(s)::text::bigint AS xmax FROM pg_current_snapshot() AS s"
            )
        )
    ).one()
    notes: list[str] = []
    base = await latest_checkpoint(connection) if incremental else None
    if incremental and base is None:
        notes.append("no checkpoint yet: verified everything")
    elif base is not None and xids.xmax - base.snapshot_xmin > _XID_HORIZON:
        notes.append(f"checkpoint {base.id} is too old to start from: verified everything")
        base = None
    run = TableCheck(connection, progress, base, xids.xmax)
    chain = await verify_chain(
        connection,
        expected_head=expected_head,
        after=(base.seq, base.hash) if base is not None else None,
        progress=run.step("events"),
    )
    if base is not None:
        at_checkpoint = (
            await connection.execute(
                select(audit_events.c.hash).where(audit_events.c.seq == base.seq)
            )
        ).scalar()
        if at_checkpoint is None or bytes(at_checkpoint) != base.hash:
            chain.problems.append(
                ChainProblem(
                    seq=base.seq,
                    reason=f"the event checkpoint {base.id} ended at was edited or deleted "
                    "since: run a full verification",
                )
            )
    result = VerifyResult(
        ok=False,
        mode="incremental" if base is not None else "full",
        since=_checkpoint(base) if base is not None else None,
        head_seq=chain.head_seq,
        head_hash=chain.head_hash,
        events_checked=chain.events_checked,
        problems=chain.problems,
        snapshot_xmin=xids.xmin,
    )
    registry = await run.taxonomy()
    jurisdictions = await run.members()
    merges = await run.merges()
    check = ReportCheck(merges, lambda organization: jurisdictions.get(organization), registry)
    await run.reports(check)
    await run.missing_reports()
    await run.incidents(merges)
    older: list[str] = []
    if base is not None:
        result.problems.extend(await run.rehash_older_events(result.head_seq))
        older.append(
            f"events up to {base.seq} (checkpoint {base.id}) other than the "
            f"{run.checked['events']:,} that the re-checked rows are compared with: an edit "
            "there that left every table as it was waits for the next full run"
        )
    result.events_checked += run.checked["events"]
    result.reports_checked = run.checked["reports"]
    result.incidents_checked = run.checked["incidents"]
    result.organizations_checked = run.checked["organizations"]
    result.api_keys_checked = run.checked["api_keys"]
    result.taxonomy_versions_checked = run.checked["taxonomy_versions"]
    result.revisions_checked = check.revisions_checked
    result.differences = run.found.kept
    result.differences_found = run.found.count
    result.not_checked = [*_describe(check.not_checked + run.not_checked), *older]
    result.notes = notes
    result.ok = not result.problems and not run.found.count
    result.seconds = round(time.monotonic() - started, 2)
    return result


def _checkpoint(stored: StoredCheckpoint) -> Checkpoint:
    return Checkpoint(
        id=stored.id,
        created_at=stored.created_at,
        mode=stored.mode,
        seq=stored.seq,
        hash=stored.hash.hex(),
    )


_NOT_CHECKED = {
    "organization": "the filing organization of {n:,} reports",
    "external_ref": "the external reference of {n:,} reports",
    "status_reason": "the status reason of {n:,} reports",
    "status": "the status of {n:,} reports after a re-import whose event did not record it",
    "sharing": "the sharing level of {n:,} reports after a re-import whose event did not record it",
    "taxonomy_version": "the taxonomy version of {n:,} reports after such a re-import",
    "revision content": "the content of {n:,} revisions whose event recorded no hash",
    "revision sharing": "the sharing level of {n:,} revisions written by such a re-import",
    "revision taxonomy_version": "the taxonomy version of {n:,} revisions of such re-imports",
    "revision draft_only": "whether {n:,} revisions were draft working copies",
    "api_key key_hash_sha256": "the stored hash of {n:,} API keys",
}
_OLDER_FORMAT = {"organization", "external_ref", "status_reason", "api_key key_hash_sha256"}


def _describe(counts: Counter[str]) -> list[str]:
    lines = []
    for name, count in sorted(counts.items()):
        template = _NOT_CHECKED.get(name, name + " of {n:,} rows")
        line = template.format(n=count)
        if name in _OLDER_FORMAT:
            line += ": recorded by events only since the log is replayed, and older ones lack it"
        lines.append(line)
    lines.append(
        "timestamps (created, updated, submitted, reviewed, last used) are not replayed: events "
        "record when they were written, while imported and generated reports carry their own"
    )
    return lines
