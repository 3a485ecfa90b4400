"""Full-text search on a stored tsvector, typo tolerance from a vocabulary, a list index that
serves "newest with this status".

Measured over 1,000,000 reports (bench/RESULTS.md): searches took 1-2.5 s, because a page of
newest matches was found by walking the reports newest first and, for each one, rebuilding its
text search document (to_tsvector + unaccent) and computing trigram word similarity against the
title. Now:

- `reports.search_vector` stores the document (a generated column; GIN index), so matching a
  row is a cheap test on stored data, and the planner has statistics on its words;
- typo tolerance no longer compares the query with every title: each query word that is not in
  `search_words` (the words of reports every member may see) is replaced by its nearest
  vocabulary words, found with a trigram index over tens of thousands of words, not millions
  of titles. A statement trigger keeps the vocabulary current as reports are filed or changed;
- the (status, sharing, number) index becomes (status, number, sharing), so that "newest
  accepted" (the commonest status filter) reads the index in order instead of skipping over
  every newer report of another status; and a partial index on number holds exactly the
  reports every member may see, so a researcher's newest-first page or search never skips
  over newer AMBER, RED or unfinished reports.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision: str | None = "0006"
branch_labels = None
depends_on = None

DOCUMENT = "reports_search_document(title, summary, ai_system_name, developer)"
SHARED = (
    "sharing IN ('TLP:CLEAR', 'TLP:GREEN') AND status IN ('submitted', 'under_review', 'accepted')"
)
# What every member organization may see, exactly as incidents.reports.access writes it.
MEMBERS_SEE = (
    "status = ANY ('{submitted,under_review,accepted}'::text[]) "
    "AND sharing = ANY ('{TLP:CLEAR,TLP:GREEN}'::text[])"
)


def upgrade() -> None:
    op.execute("SET LOCAL maintenance_work_mem = '512MB'")
    op.drop_index("ix_reports_search", table_name="reports")
    op.drop_index("ix_reports_title_trigram", table_name="reports")
    op.add_column(
        "reports",
        sa.Column("search_vector", postgresql.TSVECTOR(), sa.Computed(DOCUMENT, persisted=True)),
    )
    op.create_index("ix_reports_search", "reports", ["search_vector"], postgresql_using="gin")
    op.drop_index("ix_reports_status_sharing_number", table_name="reports")
    op.create_index("ix_reports_status_number_sharing", "reports", ["status", "number", "sharing"])
    op.create_index(
        "ix_reports_shared_with_members",
        "reports",
        ["number"],
        postgresql_where=sa.text(MEMBERS_SEE),
    )

    op.create_table(
        "search_words",
        sa.Column("word", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("word", name=op.f("pk_search_words")),
    )
    op.create_index(
        "ix_search_words_trigram",
        "search_words",
        ["word"],
        postgresql_using="gist",
        postgresql_ops={"word": "gist_trgm_ops"},
    )
    op.execute(
        f"""
        INSERT INTO search_words (word)
        SELECT DISTINCT unnest(tsvector_to_array(search_vector)) FROM reports WHERE {SHARED}
        """
    )
    # Words are learnt from reports every member may see (so that a correction never hints at
    # a word only in AMBER or RED reports), once per statement: a batch or a COPY is one insert.
    op.execute(
        f"""
        CREATE FUNCTION reports_learn_words() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO search_words (word)
            SELECT DISTINCT unnest(tsvector_to_array(search_vector)) FROM changed
            WHERE {SHARED}
            ON CONFLICT DO NOTHING;
            RETURN NULL;
        END $$
        """
    )
    for event in ("INSERT", "UPDATE"):
        op.execute(
            f"""
            CREATE TRIGGER reports_learn_words_{event.lower()} AFTER {event} ON reports
            REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
            EXECUTE FUNCTION reports_learn_words()
            """
        )
    # The typo-tolerant reading of a query: each word the vocabulary does not know becomes
    # (word | its up to three nearest known words); NULL when every word is known.
    op.execute(
        """
        CREATE FUNCTION reports_search_corrected(query text) RETURNS tsquery
        LANGUAGE sql STABLE PARALLEL SAFE AS $$
            SELECT to_tsquery('simple', string_agg(options, ' & '))
            FROM (
                SELECT w.word,
                       EXISTS (SELECT 1 FROM search_words k WHERE k.word = w.word) AS known,
                       (SELECT '(' || string_agg(quote_literal(candidate), ' | ') || ')'
                        FROM (SELECT w.word AS candidate
                              UNION
                              (SELECT s.word FROM search_words s
                               WHERE s.word % w.word
                               ORDER BY s.word <-> w.word LIMIT 3)) AS near) AS options
                FROM unnest(tsvector_to_array(
                    to_tsvector('simple', incidents_unaccent(query)))) AS w(word)
            ) AS words
            HAVING bool_or(NOT known)
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION reports_search_corrected(text)")
    op.execute("DROP TRIGGER reports_learn_words_update ON reports")
    op.execute("DROP TRIGGER reports_learn_words_insert ON reports")
    op.execute("DROP FUNCTION reports_learn_words()")
    op.drop_index("ix_search_words_trigram", table_name="search_words")
    op.drop_table("search_words")
    op.drop_index("ix_reports_shared_with_members", table_name="reports")
    op.drop_index("ix_reports_status_number_sharing", table_name="reports")
    op.create_index("ix_reports_status_sharing_number", "reports", ["status", "sharing", "number"])
    op.drop_index("ix_reports_search", table_name="reports")
    op.drop_column("reports", "search_vector")
    op.create_index(
        "ix_reports_title_trigram",
        "reports",
        ["title"],
        postgresql_using="gin",
        postgresql_ops={"title": "gin_trgm_ops"},
    )
    op.create_index("ix_reports_search", "reports", [sa.text(DOCUMENT)], postgresql_using="gin")
