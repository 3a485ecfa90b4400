"""Briefs a governance body can circulate: an editorial workflow (draft, approved, published,
superseded, retracted), the secretariat's executive summary, issuing body, date of issue and
version, provisional briefs, and the disclosure audit's result.

Finished briefs of the earlier schema become drafts, or published briefs when they were.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision: str | None = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("briefs", "status", type_=sa.String(12))
    for column in (
        sa.Column("provisional", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("audit", postgresql.JSONB(), nullable=True),
        sa.Column("executive_summary", sa.Text(), nullable=True),
        sa.Column("issuing_body", sa.String(200), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("superseded_by", sa.Uuid(), nullable=True),
        sa.Column("retracted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retraction_notice", sa.Text(), nullable=True),
    ):
        op.add_column("briefs", column)
    op.execute(
        "UPDATE briefs SET status = CASE WHEN published_at IS NULL THEN 'draft' "
        "ELSE 'published' END, version = CASE WHEN published_at IS NULL THEN NULL ELSE 1 END "
        "WHERE status = 'done'"
    )
    op.create_check_constraint(
        op.f("ck_briefs_status_known"),
        "briefs",
        "status IN ('queued', 'running', 'failed', 'draft', 'approved', 'published', "
        "'superseded', 'retracted')",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_briefs_status_known"), "briefs")
    op.execute(
        "UPDATE briefs SET status = 'done' WHERE status IN "
        "('draft', 'approved', 'published', 'superseded', 'retracted')"
    )
    for name in (
        "retraction_notice",
        "retracted_at",
        "superseded_by",
        "approved_at",
        "version",
        "issued_on",
        "issuing_body",
        "executive_summary",
        "audit",
        "provisional",
    ):
        op.drop_column("briefs", name)
    op.alter_column("briefs", "status", type_=sa.String(10))
