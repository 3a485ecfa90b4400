"""Risk briefs: their parameters, the hashes that make them reproducible, and their documents."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

from incidents.db import metadata

BRIEF_STATUSES = ("queued", "running", "done", "failed")

briefs = Table(
    "briefs",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("period", String(10), nullable=False),
    Column("parameters", JSONB, nullable=False),
    Column("status", String(10), nullable=False),
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
    Index(None, "published_at"),
)
