"""Every released taxonomy version, kept whole: reports name the version they were coded under."""

from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, Integer, String, Table, func
from sqlalchemy.dialects.postgresql import JSONB

from incidents.db import metadata

taxonomy_versions = Table(
    "taxonomy_versions",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("released", Date, nullable=False),
    Column("title", String(200), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("document", JSONB, nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
