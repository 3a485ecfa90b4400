"""Indexed duplicate probes at submission: the same AI system or developer around a date.

Filing a report suggests possible duplicates. These two btree indexes make that probe a pair of
short index range scans (well under a millisecond at a million reports) instead of a trigram
nearest-neighbour search, which stays for the on-demand `/similar` endpoint.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_reports_system", table_name="reports")
    op.create_index(
        "ix_reports_system_occurred",
        "reports",
        [sa.text("lower(ai_system_name)"), "occurred_on"],
    )
    op.create_index(
        "ix_reports_developer_occurred",
        "reports",
        [sa.text("lower(developer)"), "occurred_on"],
    )


def downgrade() -> None:
    op.drop_index("ix_reports_developer_occurred", table_name="reports")
    op.drop_index("ix_reports_system_occurred", table_name="reports")
    op.create_index("ix_reports_system", "reports", [sa.text("lower(ai_system_name)")])
