"""Audit events are chained at commit, inside PostgreSQL.

Until now an append locked the chain head, numbered and hashed its events in Python, and held
the lock until the client's COMMIT arrived: every concurrent write queued behind one client
round trip (measured: 15 of 16 filing transactions waiting on the head at 175 reports/s).

Now a request inserts its events *pending*: a provisional negative seq, no hashes, and the
canonical bytes that are hashed (everything but the seq). A deferred constraint trigger seals
them when the transaction commits: it locks the head, gives each event the next seq, computes
SHA-256 exactly as before (canonical JSON with the seq, then prev_hash || content_hash), and
moves the head. The lock is held only from that trigger to the end of the commit, with no
client round trip in between. Events are numbered in commit order; a sealed event is
indistinguishable from one chained by the application, so `audit verify` is unchanged, and
bulk loads that chain in Python (generation, imports of many events) still work alongside.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision: str | None = "0005"
branch_labels = None
depends_on = None

SEALED = (
    "(pending_canonical IS NULL AND seq > 0 AND content_hash IS NOT NULL "
    "AND prev_hash IS NOT NULL AND hash IS NOT NULL) OR "
    "(pending_canonical IS NOT NULL AND seq < 0 AND content_hash IS NULL "
    "AND prev_hash IS NULL AND hash IS NULL)"
)


def upgrade() -> None:
    op.execute("CREATE SEQUENCE audit_pending_numbers")
    op.add_column("audit_events", sa.Column("pending_canonical", sa.LargeBinary(), nullable=True))
    for column in ("content_hash", "prev_hash", "hash"):
        op.alter_column("audit_events", column, existing_type=sa.LargeBinary(32), nullable=True)
    op.create_check_constraint(op.f("ck_audit_events_sealed"), "audit_events", SEALED)
    # Still append-only for the application: the one update allowed is the seal's own, made
    # from inside the sealing trigger, which fills the chain columns and changes nothing else.
    op.execute(
        """
        CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE' AND pg_trigger_depth() > 1
               AND OLD.pending_canonical IS NOT NULL AND NEW.pending_canonical IS NULL
               AND (OLD.id, OLD.occurred_at, OLD.actor_org_id, OLD.actor_key_id,
                    OLD.actor_label, OLD.action, OLD.entity_type, OLD.entity_id,
                    OLD.before, OLD.after)
                   IS NOT DISTINCT FROM
                   (NEW.id, NEW.occurred_at, NEW.actor_org_id, NEW.actor_key_id,
                    NEW.actor_label, NEW.action, NEW.entity_type, NEW.entity_id,
                    NEW.before, NEW.after)
            THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION audit_events_seal() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            head_seq bigint;
            head_hash bytea;
            own bytea;
            link bytea;
        BEGIN
            SELECT seq, hash INTO head_seq, head_hash FROM audit_head WHERE id = 1 FOR UPDATE;
            head_seq := head_seq + 1;
            own := sha256(convert_to('[' || head_seq::text || ',', 'UTF8')
                          || NEW.pending_canonical);
            link := sha256(head_hash || own);
            UPDATE audit_events
               SET seq = head_seq, content_hash = own, prev_hash = head_hash, hash = link,
                   pending_canonical = NULL
             WHERE id = NEW.id;
            UPDATE audit_head SET seq = head_seq, hash = link WHERE id = 1;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        """
        CREATE CONSTRAINT TRIGGER audit_events_seal AFTER INSERT ON audit_events
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
        WHEN (NEW.pending_canonical IS NOT NULL)
        EXECUTE FUNCTION audit_events_seal()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER audit_events_seal ON audit_events")
    op.execute("DROP FUNCTION audit_events_seal()")
    op.execute(
        """
        CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    op.drop_constraint(op.f("ck_audit_events_sealed"), "audit_events", type_="check")
    for column in ("content_hash", "prev_hash", "hash"):
        op.alter_column("audit_events", column, existing_type=sa.LargeBinary(32), nullable=False)
    op.drop_column("audit_events", "pending_canonical")
    op.execute("DROP SEQUENCE audit_pending_numbers")
