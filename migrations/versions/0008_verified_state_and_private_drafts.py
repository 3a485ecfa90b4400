"""Verification checkpoints, and draft revisions kept to their submitter.

`audit verify` now replays the event log into the state it implies and compares it with the live
tables. `audit_checkpoints` records each successful verification (the chain head it reached and
the oldest transaction its snapshot could not see), so that the next one can check only what
was written or altered since, plus every deletion.

`report_revisions.draft_only` marks a revision replaced while its report was still a draft: the
submitter's working copy, which nobody else is shown once the report is submitted. It is filled
here from the audit log (the revisions that a `report.updated` event replaced while the report's
last recorded status was `draft`); the column's default covers every other row without a rewrite.

`report_revisions.salt` is a random salt for revisions written while their report is a draft:
their audit events record a salted content hash instead of the content, so that nobody reading
the log can test guesses of what a draft said, while the chain still proves the stored revision.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision: str | None = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mode", sa.String(12), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.Column("snapshot_xmin", sa.BigInteger(), nullable=False),
        sa.Column("based_on", sa.BigInteger(), nullable=True),
        sa.Column("events_checked", sa.BigInteger(), nullable=False),
        sa.Column("reports_checked", sa.BigInteger(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("actor_label", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
        sa.ForeignKeyConstraint(
            ["based_on"],
            ["audit_checkpoints.id"],
            name=op.f("fk_audit_checkpoints_based_on_audit_checkpoints"),
        ),
        sa.CheckConstraint(
            "mode IN ('full', 'incremental')", name=op.f("ck_audit_checkpoints_mode")
        ),
    )
    # Like the log itself: what was verified stays as it was recorded.
    op.execute(
        """
        CREATE FUNCTION audit_checkpoints_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_checkpoints is append-only (% refused)', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_checkpoints_no_update_delete BEFORE UPDATE OR DELETE "
        "ON audit_checkpoints FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_append_only()"
    )

    op.add_column(
        "report_revisions",
        sa.Column("draft_only", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column("report_revisions", sa.Column("salt", sa.LargeBinary(), nullable=True))
    op.execute(
        """
        UPDATE report_revisions AS revision SET draft_only = true
        FROM audit_events AS replaced
        WHERE replaced.entity_type = 'report' AND replaced.action = 'report.updated'
          AND revision.report_id::text = replaced.entity_id
          AND revision.revision = (replaced.before ->> 'revision')::int
          AND (
              SELECT earlier.after ->> 'status' FROM audit_events AS earlier
              WHERE earlier.entity_type = 'report' AND earlier.entity_id = replaced.entity_id
                AND earlier.seq < replaced.seq AND earlier.after ? 'status'
              ORDER BY earlier.seq DESC LIMIT 1
          ) = 'draft'
        """
    )


def downgrade() -> None:
    op.drop_column("report_revisions", "salt")
    op.drop_column("report_revisions", "draft_only")
    op.execute("DROP TRIGGER audit_checkpoints_no_update_delete ON audit_checkpoints")
    op.execute("DROP FUNCTION audit_checkpoints_append_only()")
    op.drop_table("audit_checkpoints")
