"""Reports, the incidents they belong to, every revision of each report, and idempotency keys.

A report's content is kept whole, per revision, in ``report_revisions``; ``reports`` holds the
current state plus the columns that filters, search and trends read (codes are stored as coded,
with their ancestors, so a filter on a domain matches its subdomains with one array test).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    Sequence,
    SmallInteger,
    String,
    Table,
    Text,
    Uuid,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR

from incidents.db import metadata
from incidents.incidents.models import DISCLOSURE_KEY, readable_reference

STATUSES = ("draft", "submitted", "under_review", "accepted", "rejected", "withdrawn")
SHARING_LEVELS = ("TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:RED")


report_numbers = Sequence("report_numbers", metadata=metadata)

# The writing transaction's id as a bigint (xid8 never wraps; bigint reflects and compares).
CHANGED_XACT = "(pg_current_xact_id())::text::bigint"


reports = Table(
    "reports",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column(
        "number",
        BigInteger,
        report_numbers,
        nullable=False,
        unique=True,
        server_default=report_numbers.next_value(),
    ),
    Column("year", SmallInteger, nullable=False),
    Column(
        "ref",
        String(24),
        Computed(readable_reference("RPT"), persisted=True),
        nullable=False,
        index=True,
    ),
    Column("incident_id", Uuid, ForeignKey("incidents.id"), nullable=False),
    Column("organization_id", Uuid, ForeignKey("organizations.id"), nullable=False),
    Column("status", String(20), nullable=False),
    Column("status_reason", Text),
    Column("sharing", String(10), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("taxonomy_version", Integer, ForeignKey("taxonomy_versions.version"), nullable=False),
    Column("external_ref", String(200)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("submitted_at", DateTime(timezone=True)),
    Column("reviewed_at", DateTime(timezone=True)),
    # The order of newest / oldest lists: submission time, or creation for a draft (0009).
    Column(
        "filed_at",
        DateTime(timezone=True),
        Computed("COALESCE(submitted_at, created_at)", persisted=True),
        nullable=False,
    ),
    # An incident the submitter proposes; accepting the report links it there (0009).
    Column(
        "proposed_incident_id",
        Uuid,
        ForeignKey("incidents.id", name="fk_reports_proposed_incident_id_incidents"),
    ),
    # What filters, search, duplicates and trends read; always derived from the content.
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("language", String(35), nullable=False),
    Column("event_type", String(10), nullable=False),
    Column("severity", String(64), nullable=False),
    Column("severity_ordinal", SmallInteger),
    Column("eu_categories", ARRAY(Text), nullable=False),
    Column("harm_domains", ARRAY(Text), nullable=False),
    Column("harm_types", ARRAY(Text), nullable=False),
    Column("affected_groups", ARRAY(Text), nullable=False),
    Column("sectors", ARRAY(Text), nullable=False),
    Column("causal_entity", String(64)),
    Column("causal_intent", String(64)),
    Column("causal_timing", String(64)),
    Column("system_type", String(64)),
    Column("ai_tasks", ARRAY(Text), nullable=False),
    Column("lifecycle_stage", String(64)),
    Column("autonomy_level", String(64)),
    Column("ai_system_name", Text),
    Column("developer", Text),
    Column("deployer", Text),
    Column("reporting_jurisdiction", String(2)),
    Column("affected_jurisdictions", ARRAY(Text), nullable=False),
    Column("jurisdictions", ARRAY(Text), nullable=False),
    Column("occurred_on", Date, nullable=False),
    Column("occurred_precision", String(5), nullable=False),
    Column("detected_on", Date),
    Column("people_affected", BigInteger),
    Column("deaths", Integer),
    Column("injuries", Integer),
    Column("disclosure_key", BigInteger, nullable=False, server_default=text(DISCLOSURE_KEY)),
    # The transaction that last wrote the row (migration 0017; a trigger sets it on update): the
    # columnar copy of the trends extract re-reads the reports changed since its watermark.
    Column("changed_xact", BigInteger, server_default=text(CHANGED_XACT)),
    # The full-text document, stored (migration 0007): title, summary, system and developer,
    # as written and stemmed in the report's language, Chinese read in bigrams (0013).
    Column(
        "search_vector",
        TSVECTOR,
        Computed(
            "reports_search_document(language, title, summary, ai_system_name, developer)",
            persisted=True,
        ),
    ),
    CheckConstraint(
        "status IN ('draft', 'submitted', 'under_review', 'accepted', 'rejected', 'withdrawn')",
        name="status_known",
    ),
    CheckConstraint(
        "sharing IN ('TLP:CLEAR', 'TLP:GREEN', 'TLP:AMBER', 'TLP:RED')", name="sharing_known"
    ),
    CheckConstraint("event_type IN ('incident', 'hazard')", name="event_type_known"),
    CheckConstraint("occurred_precision IN ('day', 'month', 'year')", name="precision_known"),
    # A reference is unique because its number is; the index on it only serves look-ups.
    Index(
        "uq_reports_organization_external_ref",
        "organization_id",
        "external_ref",
        unique=True,
        postgresql_where=text("external_ref IS NOT NULL"),
    ),
    Index(None, "incident_id"),
    Index(None, "organization_id", "number"),
    Index("ix_reports_status_number_sharing", "status", "number", "sharing"),
    # Exactly what every member may see (incidents.reports.access): researchers' pages.
    Index(
        "ix_reports_shared_with_members",
        "number",
        postgresql_where=text(
            "status = ANY ('{submitted,under_review,accepted}'::text[]) "
            "AND sharing = ANY ('{TLP:CLEAR,TLP:GREEN}'::text[])"
        ),
    ),
    Index(None, "occurred_on"),
    Index(
        "ix_reports_changed_xact",
        "changed_xact",
        postgresql_where=text("changed_xact IS NOT NULL"),
    ),
    Index("ix_reports_submitted_at", "submitted_at"),
    Index("ix_reports_filed_at_number", "filed_at", "number"),
    Index(
        "ix_reports_shared_filed_at",
        "filed_at",
        "number",
        postgresql_where=text(
            "status = ANY ('{submitted,under_review,accepted}'::text[]) "
            "AND sharing = ANY ('{TLP:CLEAR,TLP:GREEN}'::text[])"
        ),
    ),
    Index("ix_reports_harm_domains", "harm_domains", postgresql_using="gin"),
    Index("ix_reports_jurisdictions", "jurisdictions", postgresql_using="gin"),
    # Duplicate suggestions: the nearest titles among reports of about the same time.
    Index(
        "ix_reports_occurred_title",
        "occurred_on",
        "title",
        postgresql_using="gist",
        postgresql_ops={"title": "gist_trgm_ops"},
    ),
)
Index("ix_reports_system_occurred", func.lower(reports.c.ai_system_name), reports.c.occurred_on)
Index("ix_reports_developer_occurred", func.lower(reports.c.developer), reports.c.occurred_on)


Index("ix_reports_search", reports.c.search_vector, postgresql_using="gin")

# The words of reports every member may see, for typo-tolerant search (migration 0007).
search_words = Table(
    "search_words",
    metadata,
    Column("word", Text, primary_key=True),
    Index(
        "ix_search_words_trigram",
        "word",
        postgresql_using="gist",
        postgresql_ops={"word": "gist_trgm_ops"},
    ),
)

report_revisions = Table(
    "report_revisions",
    metadata,
    Column("report_id", Uuid, ForeignKey("reports.id"), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("content", JSONB, nullable=False),
    Column("sharing", String(10), nullable=False),
    Column("taxonomy_version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("actor_org_id", Uuid),
    Column("actor_key_id", Uuid),
    Column("actor_label", String(200), nullable=False),
    # Replaced while the report was a draft: the submitter's working copy, never shown to others.
    Column("draft_only", Boolean, nullable=False, server_default=false()),
    # Written while the report was a draft: its audit event holds a hash salted with this, so
    # that the log proves the content without letting its readers test guesses of it.
    Column("salt", LargeBinary),
    PrimaryKeyConstraint("report_id", "revision"),
)
