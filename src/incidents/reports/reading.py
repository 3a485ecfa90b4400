"""Reading reports as a caller may see them: one report, pages of reports (filtered, searched,
sorted, cursor-paged in bounded work), and a report's revisions."""

from __future__ import annotations

import functools
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
from incidents.incidents.models import incidents
from incidents.members.models import organizations
from incidents.members.schemas import Principal
from incidents.pagination import Number, Score, decode_cursor, encode_cursor
from incidents.reports import schemas, shapes
from incidents.reports.access import sharing_visible, visible, visible_to
from incidents.reports.filters import text_rank
from incidents.reports.models import report_revisions, reports

Sort = Literal["newest", "oldest", "occurred", "relevance"]
Plan = Literal["window", "matches"]
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


def _order(sort: Sort, query_text: Any) -> tuple[list[Any], list[Any]]:
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
        if query_text is None or (isinstance(query_text, str) and not query_text):
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
# common filter fills the page there after a short walk down the number index. A rarer one does
# not, and is looked for again among the newest WIDE_WINDOW (the walk stops at the page's last
# row, so a filter of middling density, such as a region and a sector, 0.4% of reports, costs
# ~17 ms there at 1M instead of ~630 ms of reading all its matches: issue 16). A rare one (a
# small country, a product name) fills neither, and walking further would read every report to
# the end of the registry, filtering, so the page is then taken from the matches alone, found
# through the filters' own indexes and sorted (few by construction: fewer than a page per
# WIDE_WINDOW reports). Either way a page costs at most about WINDOW + WIDE_WINDOW index entries,
# whatever PostgreSQL estimates for the filter.
WINDOW = 5_000
WIDE_WINDOW = 50_000


#: Off only to measure the statements built per request (bench/list_statements.py).
SHAPED = True


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
    keys = len(_order(sort, query_text)[1])  # a relevance sort without a search is a 422 here
    after = decode_cursor(cursor, CURSOR_SHAPES[sort]) if cursor else None
    split = shapes.split(conditions) if SHAPED else None
    page = shapes.Page(_statement, sort, limit, principal, conditions, query_text, after, split)
    adaptive = bool(conditions) and sort in ("newest", "oldest")
    searching = query_text is not None
    rows = await page.rows(connection, ("matches" if searching else "window") if adaptive else None)
    if adaptive and len(rows) <= limit and not searching:
        # Not a full page among the newest WINDOW: among the newest WIDE_WINDOW, then (the
        # matches are rare) from the matches directly.
        rows = await page.rows(connection, "window", WIDE_WINDOW)
    if adaptive and len(rows) <= limit and not searching:
        rows = await page.rows(connection, "matches")
    items = [msgspec.Raw(row["document"].encode()) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
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


def _cursor_after(
    sort: Sort, keys: list[Any], after: list[Any] | None
) -> list[ColumnElement[bool]]:
    """The condition for rows after the cursor's keys ``after`` (none without a cursor)."""
    if after is None:
        return []
    return [_after(sort, keys, after)]


def list_statement(
    principal: Principal | None,
    conditions: Sequence[ColumnElement[bool]],
    sort: Sort,
    query_text: str | None,
    cursor: str | None,
    limit: int,
    plan: Plan | None = None,
    window: int | None = None,
) -> Select[Any]:
    """The page query: one row more than asked tells whether there is a next page.

    ``plan`` (newest / oldest only): "window" looks only among the newest ``window`` (by
    default WINDOW) visible reports; "matches" sorts the matching reports without walking the
    number index."""
    kind, organization = shapes.viewer(principal)
    after = decode_cursor(cursor, CURSOR_SHAPES[sort]) if cursor else None
    build = functools.partial(_statement, sort=sort, limit=limit, plan=plan, window=window)
    return build(kind, organization, conditions, query_text, after)


def _statement(
    kind: str | None,
    organization: Any,
    conditions: Sequence[ColumnElement[bool]],
    query_text: Any,
    cursor: list[Any] | None,
    *,
    sort: Sort,
    limit: int,
    plan: Plan | None,
    window: int | None,
) -> Select[Any]:
    """`list_statement` for a kind of viewer and its organization; the organization, the
    search text and the cursor's keys are values or bound parameters."""
    order, keys = _order(sort, query_text)
    after = _cursor_after(sort, keys, cursor)
    if plan is None:
        query = report_select(visible_to(kind, organization), *conditions, *after)
    else:
        if plan == "window":
            # The newest WINDOW visible reports as a subquery (its LIMIT keeps the filters
            # outside it), the filters then applied to those rows only.
            source: Any = (
                select(*_columns_used(conditions))
                .where(visible_to(kind, organization), *after)
                .order_by(*order)
                .limit(window or WINDOW)
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
                visible_to(kind, organization, source),
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


# -- incidents -------------------------------------------------------------------------------
