"""The statements an audit verification reads the live tables with: each report beside its
events and revisions, aggregated by PostgreSQL; the reports an incremental run must look at again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, Text, cast, func, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import aggregate_order_by

from incidents.audit.models import audit_events
from incidents.incidents.models import incidents
from incidents.reports.models import report_revisions, reports

UUID_PATTERN = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


# What each phase reads: the reports columns compared with the replay.
REPORT_COLUMNS = [
    column
    for column in reports.columns
    if column.name
    not in {
        "number",
        "year",
        "incident_id",
        "created_at",
        "updated_at",
        "submitted_at",
        "reviewed_at",
        "search_vector",
        "changed_xact",
    }
]


EVENTS_OF_REPORT = audit_events.alias("report_event")


REVISIONS_OF_REPORT = report_revisions.alias("report_revision")


def report_query() -> Select[Any]:
    """Each report with its events and revisions, aggregated by PostgreSQL per row."""
    event = EVENTS_OF_REPORT.c
    revision = REVISIONS_OF_REPORT.c
    events = (
        select(
            func.json_agg(
                aggregate_order_by(
                    func.json_build_array(event.seq, event.action, event.before, event.after),
                    event.seq,
                )
            )
        )
        .where(event.entity_type == "report", event.entity_id == cast(reports.c.id, Text))
        .scalar_subquery()
    )
    revisions = (
        select(
            func.json_agg(
                aggregate_order_by(
                    func.json_build_array(
                        revision.revision,
                        revision.sharing,
                        revision.taxonomy_version,
                        revision.draft_only,
                        func.encode(revision.salt, "hex"),
                        revision.content,
                    ),
                    revision.revision,
                )
            )
        )
        .where(revision.report_id == reports.c.id)
        .scalar_subquery()
    )
    return select(
        *REPORT_COLUMNS,
        incidents.c.ref.label("incident_ref"),
        cast(events, Text).label("events"),
        cast(revisions, Text).label("revisions"),
    ).select_from(reports.outerjoin(incidents, incidents.c.id == reports.c.incident_id))


def compiled(query: Select[Any]) -> str:
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy's own, untyped
    return str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


REPORTS_SQL = compiled(report_query())


CHANGED_REPORTS_SQL = compiled(
    report_query().where(text("reports.id IN (SELECT id FROM verify_changed_reports)"))
)


def newer(alias: str) -> str:
    """SQL: the row was written by a transaction the checkpoint's snapshot could not see.

    A row's xmin holds the low 32 bits of its transaction id; every row this snapshot sees was
    written before ``:xmax``, so its full id is the one below ``:xmax`` with those low bits.
    """
    return (
        f"(:xmax - ((:xmax - {alias}.xmin::text::bigint) % 4294967296 + 4294967296) "
        f"% 4294967296) >= :since_xmin"
    )


DROP_CHANGED_REPORTS = text("DROP TABLE IF EXISTS verify_changed_reports")


CHANGED_REPORTS = text(
    f"""
    CREATE TEMPORARY TABLE verify_changed_reports ON COMMIT DROP AS
    SELECT CAST(e.entity_id AS uuid) AS id FROM audit_events e
     WHERE e.seq > :since_seq AND e.entity_type = 'report' AND e.entity_id ~ '{UUID_PATTERN}'
    UNION SELECT r.id FROM reports r WHERE {newer("r")}
    UNION SELECT v.report_id FROM report_revisions v WHERE {newer("v")}
    UNION SELECT r.id FROM reports r JOIN incidents i ON i.id = r.incident_id
     WHERE {newer("i")}
    UNION SELECT r.id FROM reports r
      LEFT JOIN (SELECT report_id, count(*) AS rows, max(revision) AS last
                   FROM report_revisions GROUP BY report_id) c ON c.report_id = r.id
     WHERE c.rows IS DISTINCT FROM r.revision OR c.last IS DISTINCT FROM r.revision
    """
)
