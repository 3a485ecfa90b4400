"""Columnar trends: each report row remembers the transaction that last wrote it, so the
columnar copy of the trends extract can re-read only the reports changed since its watermark.

Existing rows keep NULL (the copy's first build reads every row); new rows get the inserting
transaction's id from the column default, updated rows from a trigger (any UPDATE, whoever runs
it), and a partial index finds the changed rows.

Revision ID: 0017_columnar
Revises: 0015_web_uploads
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_columnar"
down_revision: str | None = "0015_web_uploads"
branch_labels = None
depends_on = None

CHANGED_XACT = "(pg_current_xact_id())::text::bigint"


def upgrade() -> None:
    # Added without a default, then given one: existing rows are not rewritten.
    op.add_column("reports", sa.Column("changed_xact", sa.BigInteger(), nullable=True))
    op.alter_column("reports", "changed_xact", server_default=sa.text(CHANGED_XACT))
    op.create_index(
        "ix_reports_changed_xact",
        "reports",
        ["changed_xact"],
        postgresql_where=sa.text("changed_xact IS NOT NULL"),
    )
    op.execute(
        f"""
        CREATE FUNCTION reports_mark_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.changed_xact := {CHANGED_XACT};
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER reports_changed BEFORE UPDATE ON reports "
        "FOR EACH ROW EXECUTE FUNCTION reports_mark_changed()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER reports_changed ON reports")
    op.execute("DROP FUNCTION reports_mark_changed()")
    op.drop_index("ix_reports_changed_xact", table_name="reports")
    op.drop_column("reports", "changed_xact")
