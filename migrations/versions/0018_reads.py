"""A generation counter for answers over public reports (accepted, TLP:CLEAR): moved, once per
transaction, by any insert, change or deletion of a report that is public before or after it,
and by renaming an organization that filed a public report. Each worker keeps public facet
counts and page validators at the generation they were read at (reports/public_cache.py).
Rows that are not public never move it (the trigger's WHEN is false: no function call), so
filings, drafts and restricted reports cost nothing and say nothing through it.

Revision ID: 0018_reads
Revises: 0017_columnar
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0018_reads"
down_revision: str | None = "0017_columnar"
branch_labels = None
depends_on = None

PUBLIC_NEW = "(NEW.status = 'accepted' AND NEW.sharing = 'TLP:CLEAR')"
PUBLIC_OLD = "(OLD.status = 'accepted' AND OLD.sharing = 'TLP:CLEAR')"


def upgrade() -> None:
    op.execute(
        "INSERT INTO cache_generations (name) VALUES ('public_reports') ON CONFLICT DO NOTHING"
    )
    # Values from a sequence, which no rollback takes back: a generation, once read, never
    # stands for other data later (a rolled-back change, a restore, a promoted replica).
    op.execute("CREATE SEQUENCE public_reports_generation")
    # Once per statement (a COPY of a million public reports moves it once); the row lock is
    # met only by writers of public reports.
    op.execute(
        """
        CREATE FUNCTION bump_public_reports_generation_now() RETURNS void LANGUAGE sql AS $$
            UPDATE cache_generations SET generation = nextval('public_reports_generation')
            WHERE name = 'public_reports'
        $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION bump_public_reports_generation() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF current_setting('incidents.public_reports_moved', true)
                IS DISTINCT FROM statement_timestamp()::text
            THEN
                PERFORM bump_public_reports_generation_now();
                PERFORM set_config(
                    'incidents.public_reports_moved', statement_timestamp()::text, true
                );
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        f"""
        CREATE TRIGGER reports_public_generation_insert AFTER INSERT ON reports
        FOR EACH ROW WHEN {PUBLIC_NEW}
        EXECUTE FUNCTION bump_public_reports_generation()
        """
    )
    op.execute(
        f"""
        CREATE TRIGGER reports_public_generation_update AFTER UPDATE ON reports
        FOR EACH ROW WHEN ({PUBLIC_OLD} OR {PUBLIC_NEW})
        EXECUTE FUNCTION bump_public_reports_generation()
        """
    )
    op.execute(
        f"""
        CREATE TRIGGER reports_public_generation_delete AFTER DELETE ON reports
        FOR EACH ROW WHEN {PUBLIC_OLD}
        EXECUTE FUNCTION bump_public_reports_generation()
        """
    )
    # A public report shows its submitter's name.
    op.execute(
        """
        CREATE FUNCTION bump_public_reports_generation_by_organization() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (
                SELECT 1 FROM reports WHERE organization_id = OLD.id
                AND status = 'accepted' AND sharing = 'TLP:CLEAR'
            ) THEN
                PERFORM bump_public_reports_generation_now();
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER organizations_public_generation AFTER UPDATE OF name ON organizations
        FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
        EXECUTE FUNCTION bump_public_reports_generation_by_organization()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER organizations_public_generation ON organizations")
    op.execute("DROP FUNCTION bump_public_reports_generation_by_organization()")
    op.execute("DROP FUNCTION bump_public_reports_generation_now()")
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER reports_public_generation_{event} ON reports")
    op.execute("DROP FUNCTION bump_public_reports_generation()")
    op.execute("DELETE FROM cache_generations WHERE name = 'public_reports'")
    op.execute("DROP SEQUENCE public_reports_generation")
