"""Incidents: the canonical events reports belong to; a merged incident keeps its identifier and
points to the one it was merged into."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Computed,
    DateTime,
    ForeignKey,
    Sequence,
    SmallInteger,
    String,
    Table,
    Uuid,
    func,
    text,
)

from incidents.db import metadata

# 32 random bits from PostgreSQL's strong random source (the first hex digits of a UUIDv4).
DISCLOSURE_KEY = "('x' || lpad(substr(gen_random_uuid()::text, 1, 8), 16, '0'))::bit(64)::bigint"


def readable_reference(prefix: str) -> str:
    """Readable references (INC-2026-000042) follow from the year and the never-reused number."""
    digits = "lpad(number::text, greatest(6, length(number::text)), '0')"  # lpad alone truncates
    return f"'{prefix}-' || year::text || '-' || {digits}"


incident_numbers = Sequence("incident_numbers", metadata=metadata)


incidents = Table(
    "incidents",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column(
        "number",
        BigInteger,
        incident_numbers,
        nullable=False,
        unique=True,
        server_default=incident_numbers.next_value(),
    ),
    Column("year", SmallInteger, nullable=False),
    Column(
        "ref",
        String(24),
        Computed(readable_reference("INC"), persisted=True),
        nullable=False,
        index=True,
    ),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("merged_into", Uuid, ForeignKey("incidents.id")),
    Column("merged_at", DateTime(timezone=True)),
    # Secret random key for cell-key perturbation of published counts (migration 0010).
    Column("disclosure_key", BigInteger, nullable=False, server_default=text(DISCLOSURE_KEY)),
    CheckConstraint("merged_into IS NULL OR merged_into <> id", name="not_merged_into_itself"),
)
