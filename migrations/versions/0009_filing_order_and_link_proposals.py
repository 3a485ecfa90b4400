"""Newest-first by submission time, and incident links a submitter proposes for review.

- `reports.filed_at` (stored, generated): when the report was submitted, or created for a draft.
  Lists sorted newest or oldest first follow it, not the report number: imported and generated
  reports get numbers in load order, so by number the years of an import and of a synthetic
  registry interleave. Indexed (with the number breaking ties) for every reader, and partially
  for exactly what every member may see, as the number was (0007).
- `reports.proposed_incident_id`: an incident the submitter asks the report to be linked to
  (e.g. after a rejection that says "this is INC-x"); accepting the report applies it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision: str | None = "0008"
branch_labels = None
depends_on = None

FILED_AT = "COALESCE(submitted_at, created_at)"
# What every member organization may see, exactly as incidents.reports.access writes it.
MEMBERS_SEE = (
    "status = ANY ('{submitted,under_review,accepted}'::text[]) "
    "AND sharing = ANY ('{TLP:CLEAR,TLP:GREEN}'::text[])"
)


def upgrade() -> None:
    op.execute("SET LOCAL maintenance_work_mem = '512MB'")
    op.add_column(
        "reports",
        sa.Column(
            "filed_at",
            sa.DateTime(timezone=True),
            sa.Computed(FILED_AT, persisted=True),
            nullable=False,
        ),
    )
    op.add_column(
        "reports",
        sa.Column(
            "proposed_incident_id",
            sa.Uuid(),
            sa.ForeignKey("incidents.id", name="fk_reports_proposed_incident_id_incidents"),
        ),
    )
    op.create_index("ix_reports_filed_at_number", "reports", ["filed_at", "number"])
    op.create_index(
        "ix_reports_shared_filed_at",
        "reports",
        ["filed_at", "number"],
        postgresql_where=sa.text(MEMBERS_SEE),
    )


def downgrade() -> None:
    op.drop_index("ix_reports_shared_filed_at", table_name="reports")
    op.drop_index("ix_reports_filed_at_number", table_name="reports")
    op.drop_column("reports", "proposed_incident_id")
    op.drop_column("reports", "filed_at")
