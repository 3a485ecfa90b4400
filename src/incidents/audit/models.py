"""The append-only, hash-chained audit log."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    Sequence,
    String,
    Table,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB

from incidents.db import metadata

audit_events = Table(
    "audit_events",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("id", Uuid, nullable=False, unique=True),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("actor_org_id", Uuid),
    Column("actor_key_id", Uuid),
    Column("actor_label", String(200), nullable=False),
    Column("action", String(60), nullable=False),
    Column("entity_type", String(40), nullable=False),
    Column("entity_id", String(80), nullable=False),
    Column("before", JSONB),
    Column("after", JSONB),
    # Chain columns: filled when the event's transaction commits (see migration 0006); until
    # then the event is pending, with a negative seq and the canonical bytes to hash.
    Column("content_hash", LargeBinary(32)),
    Column("prev_hash", LargeBinary(32)),
    Column("hash", LargeBinary(32)),
    Column("pending_canonical", LargeBinary),
    CheckConstraint(
        "(pending_canonical IS NULL AND seq > 0 AND content_hash IS NOT NULL "
        "AND prev_hash IS NOT NULL AND hash IS NOT NULL) OR "
        "(pending_canonical IS NOT NULL AND seq < 0 AND content_hash IS NULL "
        "AND prev_hash IS NULL AND hash IS NULL)",
        name="sealed",
    ),
    Index(None, "entity_type", "entity_id", "seq"),
    Index(None, "actor_org_id", "seq"),
)

pending_numbers = Sequence("audit_pending_numbers", metadata=metadata)

# One row: the seq and hash of the newest event. Locking it orders concurrent appends.
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", LargeBinary(32), nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)

# One row per successful `audit verify` (migration 0008): the head it reached, and the oldest
# transaction its snapshot could not see, so the next run checks what was written after it.
audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("mode", String(12), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", LargeBinary(32), nullable=False),
    Column("snapshot_xmin", BigInteger, nullable=False),
    Column("based_on", BigInteger, ForeignKey("audit_checkpoints.id")),
    Column("events_checked", BigInteger, nullable=False),
    Column("reports_checked", BigInteger, nullable=False),
    Column("seconds", Float, nullable=False),
    Column("actor_label", String(200), nullable=False),
    CheckConstraint("mode IN ('full', 'incremental')", name="mode"),
)
