"""Risk briefs: their parameters, the hashes that make them reproducible, their documents and
where each stands in the editorial workflow."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    Uuid,
    false,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

from incidents.db import metadata

briefs = Table(
    "briefs",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("period", String(10), nullable=False),
    Column("parameters", JSONB, nullable=False),
    Column("status", String(12), nullable=False),
    Column("error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("created_by", String(200), nullable=False),
    Column("taxonomy_version", Integer),
    Column("input_hash", String(64)),
    Column("data_hash", String(64)),
    Column("html", LargeBinary),
    Column("pdf", LargeBinary),
    Column("data_json", LargeBinary),
    Column("data_zip", LargeBinary),
    Column("published_at", DateTime(timezone=True)),
    # Migration 0011: the editorial workflow.
    Column("provisional", Boolean, nullable=False, server_default=false()),
    Column("audit", JSONB),
    Column("executive_summary", Text),
    Column("issuing_body", String(200)),
    Column("issued_on", Date),
    Column("version", Integer),
    Column("approved_at", DateTime(timezone=True)),
    Column("superseded_by", Uuid),
    Column("retracted_at", DateTime(timezone=True)),
    Column("retraction_notice", Text),
    CheckConstraint(
        "status IN ('queued', 'running', 'failed', 'draft', 'approved', 'published', "
        "'superseded', 'retracted')",
        name="status_known",
    ),
    Index(None, "published_at"),
)
