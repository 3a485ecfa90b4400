"""The web batch upload: a file kept server-side between its preview and its confirmation, owned
by the session (and organization) that uploaded it, with its SHA-256 and an expiry.

Revision ID: 0015_web_uploads
Revises: 0013_languages (the brief said 0011, but this table references web_sessions of 0012 and main's head is 0013)
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_web_uploads"
down_revision: str | None = "0014_scaling"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_uploads",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("session_token_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.LargeBinary(32), nullable=False),
        sa.Column("mapping", sa.Text(), nullable=True),
        sa.Column("sheet", sa.String(200), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('table', 'reports')", name="ck_web_uploads_kind_known"),
        sa.ForeignKeyConstraint(
            ["session_token_hash"],
            ["web_sessions.token_hash"],
            name="fk_web_uploads_session_token_hash_web_sessions",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name="fk_web_uploads_organization_id_organizations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_web_uploads"),
    )
    op.create_index("ix_web_uploads_session_token_hash", "web_uploads", ["session_token_hash"])
    op.create_index("ix_web_uploads_expires_at", "web_uploads", ["expires_at"])


def downgrade() -> None:
    op.drop_table("web_uploads")
