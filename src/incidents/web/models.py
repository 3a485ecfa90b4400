"""The browser's sessions: an API key exchanged for a server-side session at sign-in."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Index, LargeBinary, Table, Uuid, func

from incidents.db import metadata
from incidents.ids import new_id

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id", Uuid, primary_key=True, default=new_id),
    # Only the SHA-256 of the cookie's token is stored: a copy of the table opens no session.
    Column("token_hash", LargeBinary(32), nullable=False, unique=True),
    Column("key_id", Uuid, ForeignKey("api_keys.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_seen_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index(None, "key_id"),
    Index(None, "expires_at"),
)
