"""Full-text search in the report's own language.

A report's language (BCP 47, its `language` column) picks the PostgreSQL text search
configuration its words are stemmed with: `arabic`, `english`, `french`, `russian` and `spanish`
for those languages, `simple` (no stemming) for every other. The stored document holds the words
as written (`simple`, so an exact word always matches, whatever the language) and, for those five
languages, their stems too. A query is read in every one of these configurations at once (the
searcher's language is not known; a report in French is found by "discriminations" and
"discrimination" alike), OR-ed into one tsquery so that the GIN index answers it in one scan.

Chinese has no spaces between words and PostgreSQL no Chinese parser: every run of two or more
CJK ideographs, in the document and in the query, is read as its overlapping two-character
pieces (bigrams), and a query's run must appear as consecutive bigrams (a phrase), so a word of
two or more characters anywhere in the text finds it.

The vocabulary that typo tolerance draws on (`search_words`) is rebuilt from the new documents,
so it holds stems and bigrams too; a query word is widened to its nearest known words as before.
Trigram similarity between non-Latin words needs a UTF-8 LC_CTYPE (the embedded cluster is
initialised with `C.UTF-8` from now on; see README "Languages").

Revision ID: 0013_languages
Revises: 0011
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0013_languages"
down_revision: str | None = "0012_web_sessions"
branch_labels = None
depends_on = None

OLD_DOCUMENT = "reports_search_document(title, summary, ai_system_name, developer)"
NEW_DOCUMENT = "reports_search_document(language, title, summary, ai_system_name, developer)"
SHARED = (
    "sharing IN ('TLP:CLEAR', 'TLP:GREEN') AND status IN ('submitted', 'under_review', 'accepted')"
)
# CJK Unified Ideographs, Extension A and the Compatibility Ideographs.
CJK = "\\u3400-\\u4dbf\\u4e00-\\u9fff\\uf900-\\ufaff"


def _bigrams_function(name: str, quoted: bool) -> str:
    """Each run of two or more CJK ideographs becomes its bigrams (in quotes for a query, where
    websearch_to_tsquery reads a quoted run as a phrase); other text is left as it is."""
    open_quote, close_quote = ("'\"' || ", " || '\"'") if quoted else ("", "")
    return f"""
        CREATE FUNCTION {name}(text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
            SELECT CASE WHEN $1 !~ '[{CJK}]' THEN $1 ELSE (
                SELECT string_agg(
                    CASE WHEN length(piece) >= 2 AND piece ~ '^[{CJK}]'
                         THEN {open_quote}(SELECT string_agg(substr(piece, i, 2), ' ' ORDER BY i)
                               FROM generate_series(1, length(piece) - 1) AS i){close_quote}
                         ELSE piece END,
                    ' ' ORDER BY position)
                FROM regexp_matches($1, '([{CJK}]+|[^{CJK}]+)', 'g')
                     WITH ORDINALITY AS found(groups, position),
                     LATERAL (SELECT found.groups[1] AS piece) AS pieces
            ) END
        $$
    """


def upgrade() -> None:
    schema = op.get_bind().execute(sa.text("SELECT current_schema()")).scalar_one()
    op.execute("SET LOCAL maintenance_work_mem = '512MB'")
    op.execute(_bigrams_function("incidents_cjk_bigrams", quoted=False))
    op.execute(_bigrams_function("incidents_cjk_phrases", quoted=True))
    op.execute(
        """
        CREATE FUNCTION incidents_search_configuration(language text) RETURNS regconfig
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT CASE lower(split_part(coalesce(language, ''), '-', 1))
                WHEN 'ar' THEN 'pg_catalog.arabic'::regconfig
                WHEN 'en' THEN 'pg_catalog.english'::regconfig
                WHEN 'fr' THEN 'pg_catalog.french'::regconfig
                WHEN 'ru' THEN 'pg_catalog.russian'::regconfig
                WHEN 'es' THEN 'pg_catalog.spanish'::regconfig
                ELSE 'pg_catalog.simple'::regconfig END
        $$
        """
    )
    # Schema-qualified: PostgreSQL 17+ builds indexes with search_path limited to pg_catalog.
    op.execute(
        f"""
        CREATE FUNCTION reports_search_document(text, text, text, text, text) RETURNS tsvector
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT CASE WHEN {schema}.incidents_search_configuration($1) = 'simple'::regconfig
                THEN to_tsvector('simple'::regconfig, document)
                ELSE to_tsvector('simple'::regconfig, document)
                     || to_tsvector({schema}.incidents_search_configuration($1), document) END
            FROM (SELECT {schema}.incidents_cjk_bigrams({schema}.incidents_unaccent(
                coalesce($2, '') || ' ' || coalesce($3, '') || ' ' || coalesce($4, '') || ' '
                || coalesce($5, ''))) AS document) AS texts
        $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION reports_search_query(query text) RETURNS tsquery
        LANGUAGE sql STABLE PARALLEL SAFE AS $$
            SELECT websearch_to_tsquery('simple', q) || websearch_to_tsquery('arabic', q)
                || websearch_to_tsquery('english', q) || websearch_to_tsquery('french', q)
                || websearch_to_tsquery('russian', q) || websearch_to_tsquery('spanish', q)
            FROM (SELECT {schema}.incidents_cjk_phrases({schema}.incidents_unaccent(query))
                  AS q) AS texts
        $$
        """
    )
    _replace_document(NEW_DOCUMENT)
    _corrected(f"{schema}.incidents_cjk_bigrams({schema}.incidents_unaccent(query))")


def downgrade() -> None:
    schema = op.get_bind().execute(sa.text("SELECT current_schema()")).scalar_one()
    _replace_document(OLD_DOCUMENT)
    _corrected(f"{schema}.incidents_unaccent(query)")
    op.execute("DROP FUNCTION reports_search_query(text)")
    op.execute("DROP FUNCTION reports_search_document(text, text, text, text, text)")
    op.execute("DROP FUNCTION incidents_search_configuration(text)")
    op.execute("DROP FUNCTION incidents_cjk_phrases(text)")
    op.execute("DROP FUNCTION incidents_cjk_bigrams(text)")


def _replace_document(new: str) -> None:
    """The stored document computed anew, and the vocabulary learnt again from it."""
    op.drop_index("ix_reports_search", table_name="reports")
    op.drop_column("reports", "search_vector")
    op.add_column(
        "reports",
        sa.Column("search_vector", postgresql.TSVECTOR(), sa.Computed(new, persisted=True)),
    )
    op.create_index("ix_reports_search", "reports", ["search_vector"], postgresql_using="gin")
    op.execute("TRUNCATE search_words")
    op.execute(
        f"""
        INSERT INTO search_words (word)
        SELECT DISTINCT unnest(tsvector_to_array(search_vector)) FROM reports WHERE {SHARED}
        """
    )


def _corrected(words_of_query: str) -> None:
    """The typo-tolerant reading of a query (migration 0007), its words read as the document's
    are: each word the vocabulary does not know becomes (word | its three nearest known words)."""
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION reports_search_corrected(query text) RETURNS tsquery
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
                    to_tsvector('simple', {words_of_query}))) AS w(word)
            ) AS words
            HAVING bool_or(NOT known)
        $$
        """
    )
