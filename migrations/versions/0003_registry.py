"""Reports, incidents, revisions and idempotency keys.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision: str | None = "0002"
branch_labels = None
depends_on = None


def reference(prefix: str) -> str:
    return f"'{prefix}-' || year::text || '-' || lpad(number::text, greatest(6, length(number::text)), '0')"


# Schema-qualified: PostgreSQL 17+ builds indexes with search_path limited to pg_catalog.
SEARCH_DOCUMENT = (
    "to_tsvector('simple'::regconfig, {schema}.incidents_unaccent("
    "coalesce($1, '') || ' ' || coalesce($2, '') || ' ' || coalesce($3, '') || ' ' || coalesce($4, '')))"
)


def upgrade() -> None:
    schema = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'unaccent'"
            )
        )
        .scalar_one()
    )
    own_schema = op.get_bind().execute(sa.text("SELECT current_schema()")).scalar_one()
    # unaccent() is only STABLE; a generated column needs an IMMUTABLE function, and one that
    # names its dictionary and schema so that it means the same under any search_path.
    op.execute(
        f"""
        CREATE FUNCTION incidents_unaccent(text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        AS $$ SELECT {schema}.unaccent('{schema}.unaccent'::regdictionary, $1) $$
        """
    )
    # What full-text search reads: an index expression, not a stored column, so that the text is
    # not kept twice and the work of building it is done once, at index build time.
    op.execute(
        f"""
        CREATE FUNCTION reports_search_document(text, text, text, text) RETURNS tsvector
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $$ SELECT {SEARCH_DOCUMENT.format(schema=own_schema)} $$
        """
    )
    op.execute("CREATE SEQUENCE incident_numbers")
    op.execute("CREATE SEQUENCE report_numbers")
    op.create_table(
        "incidents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "number",
            sa.BigInteger(),
            server_default=sa.text("nextval('incident_numbers')"),
            nullable=False,
        ),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column(
            "ref", sa.String(24), sa.Computed(reference("INC"), persisted=True), nullable=False
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("merged_into", sa.Uuid(), nullable=True),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "merged_into IS NULL OR merged_into <> id",
            name=op.f("ck_incidents_not_merged_into_itself"),
        ),
        sa.ForeignKeyConstraint(
            ["merged_into"], ["incidents.id"], name=op.f("fk_incidents_merged_into_incidents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
        sa.UniqueConstraint("number", name=op.f("uq_incidents_number")),
    )
    op.create_table(
        "reports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "number",
            sa.BigInteger(),
            server_default=sa.text("nextval('report_numbers')"),
            nullable=False,
        ),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column(
            "ref", sa.String(24), sa.Computed(reference("RPT"), persisted=True), nullable=False
        ),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("sharing", sa.String(10), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("taxonomy_version", sa.Integer(), nullable=False),
        sa.Column("external_ref", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("language", sa.String(35), nullable=False),
        sa.Column("event_type", sa.String(10), nullable=False),
        sa.Column("severity", sa.String(64), nullable=False),
        sa.Column("severity_ordinal", sa.SmallInteger(), nullable=True),
        sa.Column("eu_categories", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("harm_domains", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("harm_types", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("affected_groups", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("sectors", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("causal_entity", sa.String(64), nullable=True),
        sa.Column("causal_intent", sa.String(64), nullable=True),
        sa.Column("causal_timing", sa.String(64), nullable=True),
        sa.Column("system_type", sa.String(64), nullable=True),
        sa.Column("ai_tasks", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("lifecycle_stage", sa.String(64), nullable=True),
        sa.Column("autonomy_level", sa.String(64), nullable=True),
        sa.Column("ai_system_name", sa.Text(), nullable=True),
        sa.Column("developer", sa.Text(), nullable=True),
        sa.Column("deployer", sa.Text(), nullable=True),
        sa.Column("reporting_jurisdiction", sa.String(2), nullable=True),
        sa.Column("affected_jurisdictions", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("jurisdictions", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("occurred_precision", sa.String(5), nullable=False),
        sa.Column("detected_on", sa.Date(), nullable=True),
        sa.Column("people_affected", sa.BigInteger(), nullable=True),
        sa.Column("deaths", sa.Integer(), nullable=True),
        sa.Column("injuries", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('draft', 'submitted', 'under_review', 'accepted', 'rejected', 'withdrawn')",
            name=op.f("ck_reports_status_known"),
        ),
        sa.CheckConstraint(
            "sharing IN ('TLP:CLEAR', 'TLP:GREEN', 'TLP:AMBER', 'TLP:RED')",
            name=op.f("ck_reports_sharing_known"),
        ),
        sa.CheckConstraint(
            "event_type IN ('incident', 'hazard')", name=op.f("ck_reports_event_type_known")
        ),
        sa.CheckConstraint(
            "occurred_precision IN ('day', 'month', 'year')",
            name=op.f("ck_reports_precision_known"),
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_reports_incident_id_incidents")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_reports_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["taxonomy_version"],
            ["taxonomy_versions.version"],
            name=op.f("fk_reports_taxonomy_version_taxonomy_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("number", name=op.f("uq_reports_number")),
    )
    op.create_index(op.f("ix_incidents_ref"), "incidents", ["ref"])
    op.create_index(op.f("ix_reports_ref"), "reports", ["ref"])
    op.create_index(
        "uq_reports_organization_external_ref",
        "reports",
        ["organization_id", "external_ref"],
        unique=True,
        postgresql_where=sa.text("external_ref IS NOT NULL"),
    )
    op.create_index(op.f("ix_reports_incident_id"), "reports", ["incident_id"])
    op.create_index(
        op.f("ix_reports_organization_id_number"), "reports", ["organization_id", "number"]
    )
    op.create_index(
        op.f("ix_reports_status_sharing_number"), "reports", ["status", "sharing", "number"]
    )
    op.create_index(op.f("ix_reports_occurred_on"), "reports", ["occurred_on"])
    op.create_index("ix_reports_submitted_at", "reports", ["submitted_at"])
    op.create_index("ix_reports_harm_domains", "reports", ["harm_domains"], postgresql_using="gin")
    op.create_index(
        "ix_reports_jurisdictions", "reports", ["jurisdictions"], postgresql_using="gin"
    )
    op.create_index(
        "ix_reports_search",
        "reports",
        [sa.text("reports_search_document(title, summary, ai_system_name, developer)")],
        postgresql_using="gin",
    )
    op.create_index(
        "ix_reports_title_trigram",
        "reports",
        ["title"],
        postgresql_using="gin",
        postgresql_ops={"title": "gin_trgm_ops"},
    )
    op.create_index(
        "ix_reports_occurred_title",
        "reports",
        ["occurred_on", "title"],
        postgresql_using="gist",
        postgresql_ops={"title": "gist_trgm_ops"},
    )
    op.create_index("ix_reports_system", "reports", [sa.text("lower(ai_system_name)")])

    op.create_table(
        "report_revisions",
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("content", postgresql.JSONB(), nullable=False),
        sa.Column("sharing", sa.String(10), nullable=False),
        sa.Column("taxonomy_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_org_id", sa.Uuid(), nullable=True),
        sa.Column("actor_key_id", sa.Uuid(), nullable=True),
        sa.Column("actor_label", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_report_revisions_report_id_reports")
        ),
        sa.PrimaryKeyConstraint("report_id", "revision", name=op.f("pk_report_revisions")),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("request_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=True),
        sa.Column("response", sa.LargeBinary(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("organization_id", "key", name=op.f("pk_idempotency_keys")),
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_table("report_revisions")
    op.drop_table("reports")
    op.drop_table("incidents")
    op.execute("DROP SEQUENCE report_numbers")
    op.execute("DROP SEQUENCE incident_numbers")
    op.execute("DROP FUNCTION reports_search_document(text, text, text, text)")
    op.execute("DROP FUNCTION incidents_unaccent(text)")
