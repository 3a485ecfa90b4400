"""Member organizations and their API keys."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
    Uuid,
    func,
    true,
)

from incidents.db import metadata
from incidents.ids import new_id

ORGANIZATION_KINDS = ("regulator", "research", "secretariat", "source")

organizations = Table(
    "organizations",
    metadata,
    Column("id", Uuid, primary_key=True, default=new_id),
    Column("name", String(200), nullable=False, unique=True),
    Column("kind", String(20), nullable=False),
    Column("jurisdiction", String(2)),
    Column("active", Boolean, nullable=False, server_default=true()),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(
        "kind IN ('regulator', 'research', 'secretariat', 'source')", name="kind_known"
    ),
    CheckConstraint(
        "kind <> 'regulator' OR jurisdiction IS NOT NULL", name="regulator_has_jurisdiction"
    ),
    CheckConstraint("jurisdiction ~ '^[A-Z]{2}$'", name="jurisdiction_alpha2"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Uuid, primary_key=True, default=new_id),
    Column(
        "organization_id",
        Uuid,
        ForeignKey("organizations.id", ondelete="RESTRICT"),
        nullable=False,
    ),
    Column("prefix", String(16), nullable=False, unique=True),
    Column("key_hash", LargeBinary(32), nullable=False, unique=True),
    Column("label", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_used_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    Index(None, "organization_id"),
)
