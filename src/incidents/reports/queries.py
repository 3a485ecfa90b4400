"""Reading the registry: reports, incidents, revisions and facets, always as the caller may see
them (``visible`` is inside every query), with cursor pagination."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Literal

import msgspec
from sqlalchemy import (
    Column,
    ColumnElement,
    Select,
    Table,
    Text,
    and_,
    case,
    cast,
    func,
    literal_column,
    select,
    text,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import visitors
from sqlalchemy.sql.util import ClauseAdapter

from incidents.errors import FieldError, NotFound, ValidationFailed
from incidents.members.models import organizations
from incidents.members.schemas import Principal
from incidents.pagination import Number, Score, decode_cursor, encode_cursor
from incidents.reports import schemas
from incidents.reports.access import sharing_visible, visible
from incidents.reports.content import format_partial_date
from incidents.reports.filters import text_rank
from incidents.reports.models import incidents, report_revisions, reports
from incidents.taxonomy.service import TaxonomyRegistry

Sort = Literal["newest", "oldest", "occurred", "relevance"]
#: What a page's cursor holds for each sort: its sort keys, the number last.
CURSOR_SHAPES: dict[str, Any] = {
    "newest": tuple[datetime, Number],
    "oldest": tuple[datetime, Number],
    "occurred": tuple[date, Number],
    "relevance": tuple[Score, Number],
}

_META = (
    "id",
    "ref",
    "reporting_jurisdiction",
    "status",
    "status_reason",
    "sharing",
    "revision",
    "taxonomy_version",
    "external_ref",
)
_TIMESTAMPS = ("created_at", "updated_at", "submitted_at", "reviewed_at")


def _as_json_timestamp(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """A timestamp as text exactly as msgspec writes it (UTC, "Z", microseconds only when not
    zero), so a report reads the same in a list (passed through) and alone (decoded, typed)."""
    utc = func.timezone("UTC", column)
    fraction = case(
        (func.extract("microseconds", column) % 1_000_000 != 0, func.to_char(utc, ".US")),
        else_="",
    )
    return func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS').op("||")(fraction).op("||")("Z")


_proposed = incidents.alias("proposed")

REPORT_COLUMNS: list[Any] = [
    # The whole report as JSON text, merged by PostgreSQL from the stored content (always a
    # complete ReportContent) and the metadata: a page passes it through untouched, a single
    # report decodes it once, typed.
    cast(
        report_revisions.c.content.op("||")(
            func.jsonb_build_object(
                *(item for name in _META for item in (name, reports.c[name])),
                *(
                    item
                    for name in _TIMESTAMPS
                    for item in (name, _as_json_timestamp(reports.c[name]))
                ),
                "incident",
                func.jsonb_build_object("id", incidents.c.id, "ref", incidents.c.ref),
                "organization",
                func.jsonb_build_object("id", organizations.c.id, "name", organizations.c.name),
                "proposed_incident",
                case(
                    (reports.c.proposed_incident_id.is_(None), None),
                    else_=select(
                        func.jsonb_build_object("id", _proposed.c.id, "ref", _proposed.c.ref)
                    )
                    .where(_proposed.c.id == reports.c.proposed_incident_id)
                    .scalar_subquery(),
                ),
            )
        ),
        Text,
    ).label("document"),
]


def report_select(*conditions: ColumnElement[bool]) -> Select[Any]:
    return (
        select(*REPORT_COLUMNS)
        .select_from(
            reports.join(
                report_revisions,
                and_(
                    report_revisions.c.report_id == reports.c.id,
                    report_revisions.c.revision == reports.c.revision,
                ),
            )
            .join(incidents, incidents.c.id == reports.c.incident_id)
            .join(organizations, organizations.c.id == reports.c.organization_id)
        )
        .where(*conditions)
    )


def to_report(row: Any) -> schemas.Report:
    return _report_decoder.decode(row.document)


_report_decoder = msgspec.json.Decoder(schemas.Report)


def etag(report: schemas.Report) -> str:
    return f'"{report.id.hex}.{report.revision}.{report.status}"'


def by_id_or_ref(table: Table, reference: str) -> ColumnElement[bool]:
    try:
        return table.c.id == uuid.UUID(reference)
    except ValueError:
        return table.c.ref == reference.upper()


async def get_report(
    connection: AsyncConnection, principal: Principal | None, reference: str
) -> schemas.Report:
    row = (
        await connection.execute(
            report_select(by_id_or_ref(reports, reference), visible(principal))
        )
    ).first()
    if row is None:
        raise NotFound(f"No report {reference} that you can see")
    return to_report(row)


class ReportsPage(msgspec.Struct):
    items: list[msgspec.Raw]  # Report documents as PostgreSQL wrote them
    next: str | None


def _order(sort: Sort, query_text: str | None) -> tuple[list[Any], list[Any]]:
    """(ORDER BY expressions, cursor expressions) for a sort; the number breaks ties. Newest
    and oldest follow submission time (creation for drafts), not the number, which imports and
    generated registries assign in load order."""
    filed = [reports.c.filed_at, reports.c.number]
    if sort == "oldest":
        return [key.asc() for key in filed], filed
    if sort == "occurred":
        return [reports.c.occurred_on.desc(), reports.c.number.desc()], [
            reports.c.occurred_on,
            reports.c.number,
        ]
    if sort == "relevance":
        if not query_text:
            raise ValidationFailed(
                "Sorting by relevance needs a search", errors=[FieldError("sort", "Give q as well")]
            )
        rank = text_rank(query_text)
        return [rank.desc(), reports.c.number.desc()], [rank, reports.c.number]
    return [key.desc() for key in filed], filed


def _after(sort: Sort, keys: list[Any], values: list[Any]) -> ColumnElement[bool]:
    if sort == "oldest":
        return tuple_(*keys) > tuple_(*values)
    return tuple_(*keys) < tuple_(*values)


_PLAN_FOR_VALUES = text("SET LOCAL plan_cache_mode = force_custom_plan")

# A filtered page is first looked for among the newest WINDOW reports the caller may see: a
# common filter fills the page there after a short walk down the number index. A rare one (a small
# country, a product name) does not, and walking further would read every report to the end of the
# registry, filtering, so the page is then taken from the matches alone, found through the filters'
# own indexes and sorted (few by construction: fewer than a page per WINDOW reports). Either way
# a page costs at most about WINDOW index entries, whatever PostgreSQL estimates for the filter.
WINDOW = 5_000


async def list_reports(
    connection: AsyncConnection,
    principal: Principal | None,
    conditions: Sequence[ColumnElement[bool]],
    *,
    sort: Sort = "newest",
    query_text: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> ReportsPage:
    # Filters are skewed (a country with 0.3% of reports, another with 20%) and pages carry
    # LIMITs: a generic plan made once for any value chose badly under load (A/B at 100k: search
    # p99 at 50/s 39 ms planned per statement vs 52-100 ms generic), while filings, whose plans
    # do not depend on values, lose a third of their throughput to planning each time. So only
    # reads plan for their values.
    await connection.execute(_PLAN_FOR_VALUES)
    adaptive = bool(conditions) and sort in ("newest", "oldest")
    query = list_statement(
        principal, conditions, sort, query_text, cursor, limit, plan="window" if adaptive else None
    )
    rows = (await connection.execute(query)).all()
    if adaptive and len(rows) <= limit:
        # Not a full page among the newest WINDOW: the matches are rare, read them directly.
        query = list_statement(
            principal, conditions, sort, query_text, cursor, limit, plan="matches"
        )
        rows = (await connection.execute(query)).all()
    keys = len(_order(sort, query_text)[1])
    items = [msgspec.Raw(row.document.encode()) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]._mapping
        next_cursor = encode_cursor([last[f"_key{i}"] for i in range(keys)])
    return ReportsPage(items=items, next=next_cursor)


# What the visibility rule (access.visible) and the order read.
_MATCH_COLUMNS = (
    "id",
    "number",
    "filed_at",
    "status",
    "sharing",
    "organization_id",
    "submitted_at",
)


def _columns_used(conditions: Sequence[ColumnElement[bool]]) -> list[Any]:
    """The id, the sort keys and every column of reports the conditions read."""
    names = {"id", "number", "filed_at"}
    for condition in conditions:
        for element in visitors.iterate(condition):
            if isinstance(element, Column) and element.table is reports:
                names.add(element.name)
    return [reports.c[name] for name in sorted(names)]


def _cursor_after(sort: Sort, keys: list[Any], cursor: str | None) -> list[ColumnElement[bool]]:
    """The condition for rows after ``cursor`` (none without one)."""
    if not cursor:
        return []
    return [_after(sort, keys, decode_cursor(cursor, CURSOR_SHAPES[sort]))]


def list_statement(
    principal: Principal | None,
    conditions: Sequence[ColumnElement[bool]],
    sort: Sort,
    query_text: str | None,
    cursor: str | None,
    limit: int,
    plan: Literal["window", "matches"] | None = None,
) -> Select[Any]:
    """The page query: one row more than asked tells whether there is a next page.

    ``plan`` (newest / oldest only): "window" looks only among the newest WINDOW visible
    reports; "matches" sorts the matching reports without walking the number index."""
    order, keys = _order(sort, query_text)
    after = _cursor_after(sort, keys, cursor)
    if plan is None:
        query = report_select(visible(principal), *conditions, *after)
    else:
        if plan == "window":
            # The newest WINDOW visible reports as a subquery (its LIMIT keeps the filters
            # outside it), the filters then applied to those rows only.
            source: Any = (
                select(*_columns_used(conditions))
                .where(visible(principal), *after)
                .order_by(*order)
                .limit(WINDOW)
                .subquery("recent")
            )
            adapt = ClauseAdapter(source).traverse
            wanted = [adapt(condition) for condition in conditions]
        else:
            # The matching reports through the filters' own indexes alone, with what the
            # visibility rule and the order need (materialized, so that the planner cannot fold
            # the rule back in and read its partial index whole); then the visible ones.
            source = (
                select(*(reports.c[name] for name in _MATCH_COLUMNS))
                .where(*conditions)
                .cte("matching")
                .prefix_with("MATERIALIZED")
            )
            wanted = [
                visible(principal, source),
                *_cursor_after(sort, [source.c.filed_at, source.c.number], cursor),
            ]
        sort_keys = [source.c.filed_at, source.c.number]
        page = (
            select(source.c.id)
            .where(*wanted)
            .order_by(*(key.desc() if sort == "newest" else key.asc() for key in sort_keys))
            .limit(limit + 1)
        )
        # Documents are built for the page's rows only.
        query = report_select(reports.c.id.in_(page.scalar_subquery()))
        # A page of rows to sort, never a walk down the index.
        unindexed = [reports.c.filed_at + literal_column("interval '0'"), reports.c.number + 0]
        order = [key.desc() if sort == "newest" else key.asc() for key in unindexed]
    query = query.add_columns(*[key.label(f"_key{i}") for i, key in enumerate(keys)])
    return query.order_by(*order).limit(limit + 1)


async def list_revisions(
    connection: AsyncConnection, principal: Principal | None, reference: str
) -> list[schemas.Revision]:
    report = await get_report(connection, principal, reference)
    own = principal is not None and principal.organization_id == report.organization.id
    query = select(report_revisions).where(report_revisions.c.report_id == report.id)
    if not own:
        # Only the submitted history is shared: working copies replaced while the report was
        # a draft stay with the submitter, the secretariat included.
        query = query.where(report_revisions.c.draft_only.is_(False))
    rows = await connection.execute(query.order_by(report_revisions.c.revision))
    revisions = []
    for row in rows:
        readable = sharing_visible(principal, row.sharing, own)
        revisions.append(
            schemas.Revision(
                revision=row.revision,
                created_at=row.created_at,
                actor=row.actor_label,
                actor_organization_id=row.actor_org_id,
                sharing=row.sharing,
                taxonomy_version=row.taxonomy_version,
                content=msgspec.convert(row.content, schemas.ReportContent, strict=False)
                if readable
                else None,
            )
        )
    return revisions


# -- facets ----------------------------------------------------------------------------------

# facet name -> (reports column, holds an array, taxonomy dimension for labels)
FACETS: dict[str, tuple[str, bool, str | None]] = {
    "status": ("status", False, None),
    "sharing": ("sharing", False, None),
    "event_type": ("event_type", False, None),
    "severity": ("severity", False, "severity"),
    "harm_domain": ("harm_domains", True, "harm_domain"),
    "harm_type": ("harm_types", True, "harm_type"),
    "affected_group": ("affected_groups", True, "affected_group"),
    "sector": ("sectors", True, "sector"),
    "eu_serious_incident": ("eu_categories", True, "eu_serious_incident"),
    "causal_entity": ("causal_entity", False, "causal_entity"),
    "causal_intent": ("causal_intent", False, "causal_intent"),
    "causal_timing": ("causal_timing", False, "causal_timing"),
    "system_type": ("system_type", False, "ai_system_type"),
    "ai_task": ("ai_tasks", True, "ai_task"),
    "lifecycle_stage": ("lifecycle_stage", False, "lifecycle_stage"),
    "autonomy_level": ("autonomy_level", False, "autonomy_level"),
    "language": ("language", False, None),
    "jurisdiction": ("jurisdictions", True, None),
    "reporting_jurisdiction": ("reporting_jurisdiction", False, None),
}
MAX_FACET_VALUES = 100


def parse_facets(value: str | None) -> list[str]:
    if not value:
        return []
    names = list(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    unknown = [name for name in names if name not in FACETS]
    if unknown:
        raise ValidationFailed(
            "Unknown facet",
            errors=[
                FieldError("facets", f"{name!r} is not one of: {', '.join(FACETS)}")
                for name in unknown
            ],
        )
    return names


async def facets(
    connection: AsyncConnection,
    principal: Principal | None,
    conditions: Sequence[ColumnElement[bool]],
    names: list[str],
    taxonomy: TaxonomyRegistry,
    *,
    count: Literal["reports", "incidents"] = "reports",
) -> dict[str, list[schemas.FacetValue]]:
    """Counts per value over exactly the rows the caller may see and has filtered to."""
    answer: dict[str, list[schemas.FacetValue]] = {}
    for name in names:
        column_name, is_array, dimension = FACETS[name]
        column = reports.c[column_name]
        value = func.unnest(column).label("value") if is_array else column.label("value")
        inner = (
            select(value, reports.c.incident_id).where(visible(principal), *conditions).subquery()
        )
        counted = (
            func.count(func.distinct(inner.c.incident_id)) if count == "incidents" else func.count()
        )
        query = (
            select(inner.c.value, counted.label("n"))
            .where(inner.c.value.is_not(None))
            .group_by(inner.c.value)
            .order_by(literal_column("n").desc(), inner.c.value)
            .limit(MAX_FACET_VALUES)
        )
        rows = (await connection.execute(query)).all()
        answer[name] = [
            schemas.FacetValue(
                value=row.value, label=_label(taxonomy, dimension, name, row.value), count=row.n
            )
            for row in rows
        ]
    return answer


def _label(taxonomy: TaxonomyRegistry, dimension: str | None, facet: str, value: str) -> str:
    if dimension is not None:
        for version in sorted(taxonomy.versions, reverse=True):
            known = taxonomy.versions[version].dimensions.get(dimension)
            if known is not None and value in known.codes:
                return known.label(value)
        return value
    if facet in {"jurisdiction", "reporting_jurisdiction"}:
        country = taxonomy.current.countries.get(value)
        return country.name if country else value
    return value


# -- incidents -------------------------------------------------------------------------------


IncidentSort = Literal["newest", "oldest"]


class IncidentsPage(msgspec.Struct):
    items: list[schemas.IncidentSummary]
    next: str | None


def incident_not_found(reference: str) -> NotFound:
    """The one answer for an incident that does not exist and for one the caller may not see."""
    return NotFound(f"No incident {reference} that you can see")


async def resolve_incident(connection: AsyncConnection, reference: str) -> Any:
    """The incident row for a reference or id (merged or not), whoever may see it; 404 if there
    is none. Callers answering someone use `seen_incident`."""
    row = (
        await connection.execute(select(incidents).where(by_id_or_ref(incidents, reference)))
    ).first()
    if row is None:
        raise incident_not_found(reference)
    return row


async def seen_incident(
    connection: AsyncConnection, principal: Principal | None, reference: str
) -> tuple[Any, Any]:
    """(the incident ``reference`` names, the one now holding its reports: itself unless it
    was merged), provided the caller may see the latter. Otherwise the same 404 as for a
    reference that names nothing: a merged reference must not lead anyone to a survivor they
    may not see, nor tell a hidden incident from a missing one."""
    named = await resolve_incident(connection, reference)
    survivor = await survivor_of(connection, named)
    if not (await connection.execute(select(incident_visible(principal, survivor.id)))).scalar():
        raise incident_not_found(reference)
    return named, survivor


async def survivor_of(connection: AsyncConnection, incident: Any) -> Any:
    """Follow merges to the incident that now holds the reports."""
    seen = set()
    while incident.merged_into is not None and incident.id not in seen:
        seen.add(incident.id)
        incident = (
            await connection.execute(
                select(incidents).where(incidents.c.id == incident.merged_into)
            )
        ).one()
    return incident


async def summaries(
    connection: AsyncConnection,
    principal: Principal | None,
    incident_ids: Sequence[uuid.UUID],
) -> dict[uuid.UUID, schemas.IncidentSummary]:
    """Each incident as the caller sees it: computed from the reports the caller may see."""
    if not incident_ids:
        return {}
    rows = (
        await connection.execute(
            select(
                reports.c.incident_id,
                incidents.c.ref,
                incidents.c.created_at,
                reports.c.title,
                reports.c.status,
                reports.c.jurisdictions,
                reports.c.severity,
                reports.c.severity_ordinal,
                reports.c.harm_domains,
                reports.c.occurred_on,
                reports.c.number,
            )
            .join(incidents, incidents.c.id == reports.c.incident_id)
            .where(reports.c.incident_id.in_(list(incident_ids)), visible(principal))
            .order_by(reports.c.number)
        )
    ).all()
    grouped: dict[uuid.UUID, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row.incident_id, []).append(row)
    result = {}
    for incident_id, members in grouped.items():
        first = members[0]
        countries = sorted({country for member in members for country in member.jurisdictions})
        worst = max(members, key=lambda member: member.severity_ordinal or 0)
        result[incident_id] = schemas.IncidentSummary(
            id=incident_id,
            ref=first.ref,
            created_at=first.created_at,
            title=first.title,
            report_count=len(members),
            jurisdictions=countries,
            cross_border=len(countries) > 1,
            severity=worst.severity,
            harm_domains=sorted({code for member in members for code in member.harm_domains}),
            first_occurred_on=min(member.occurred_on for member in members),
            statuses=sorted({member.status for member in members}),
        )
    return result


async def list_incidents(
    connection: AsyncConnection,
    principal: Principal | None,
    conditions: Sequence[ColumnElement[bool]],
    *,
    cross_border: bool | None = None,
    sort: IncidentSort = "newest",
    cursor: str | None = None,
    limit: int = 50,
) -> IncidentsPage:
    """Incidents with at least one visible report matching the filters, newest (most recently
    opened) first, or oldest first."""
    matching = select(reports.c.incident_id).where(visible(principal), *conditions)
    query = select(incidents.c.id, incidents.c.number).where(
        incidents.c.merged_into.is_(None), incidents.c.id.in_(matching)
    )
    if cross_border is not None:
        # Cross-border as the caller sees it: its visible reports name more than one country.
        countries = (
            select(func.unnest(reports.c.jurisdictions).label("country"))
            .where(reports.c.incident_id == incidents.c.id, visible(principal))
            .correlate(incidents)
            .subquery()
        )
        spread = select(func.count(func.distinct(countries.c.country))).scalar_subquery()
        query = query.where(spread > 1 if cross_border else spread <= 1)
    newest = sort == "newest"
    if cursor:
        (number,) = decode_cursor(cursor, tuple[Number])
        query = query.where(incidents.c.number < number if newest else incidents.c.number > number)
    order = incidents.c.number.desc() if newest else incidents.c.number.asc()
    rows = (await connection.execute(query.order_by(order).limit(limit + 1))).all()
    page = rows[:limit]
    found = await summaries(connection, principal, [row.id for row in page])
    items = [found[row.id] for row in page if row.id in found]
    next_cursor = encode_cursor([page[-1].number]) if len(rows) > limit else None
    return IncidentsPage(items=items, next=next_cursor)


async def get_incident(
    connection: AsyncConnection, principal: Principal | None, incident: Any
) -> schemas.Incident:
    found = await summaries(connection, principal, [incident.id])
    summary = found.get(incident.id)
    if summary is None:
        raise incident_not_found(incident.ref)
    rows = await connection.execute(
        select(
            reports.c.id,
            reports.c.ref,
            reports.c.title,
            reports.c.status,
            reports.c.sharing,
            reports.c.occurred_on,
            reports.c.occurred_precision,
            reports.c.severity,
            organizations.c.id.label("organization_id"),
            organizations.c.name.label("organization_name"),
        )
        .join(organizations, organizations.c.id == reports.c.organization_id)
        .where(reports.c.incident_id == incident.id, visible(principal))
        .order_by(reports.c.number)
    )
    lines = [
        schemas.ReportLine(
            id=row.id,
            ref=row.ref,
            title=row.title,
            status=row.status,
            sharing=row.sharing,
            occurred_on=format_partial_date(row.occurred_on, row.occurred_precision),
            severity=row.severity,
            organization=schemas.OrganizationRef(
                id=row.organization_id, name=row.organization_name
            ),
        )
        for row in rows
    ]
    return schemas.Incident(**msgspec.structs.asdict(summary), reports=lines)


def incident_visible(principal: Principal | None, incident_id: Any) -> ColumnElement[bool]:
    return (
        select(reports.c.id)
        .where(reports.c.incident_id == incident_id, visible(principal))
        .exists()
    )
