"""Lists of reports and incidents on pages: the API's own filters (the same query parameters,
the same `Filters` dependency), the same reading and facet services, and the equivalent API
address of what is shown."""

from __future__ import annotations

import inspect
from typing import Any, Literal
from urllib.parse import urlencode

import msgspec
from litestar import Request
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.incidents import reading as incident_reading
from incidents.members.schemas import Principal
from incidents.pagination import FacetValue
from incidents.reports import reading
from incidents.reports.facets import facet_counts
from incidents.reports.filters import Filters, compile_filters, provide_filters
from incidents.taxonomy.service import TaxonomyRegistry

PAGE_SIZE = 20
#: The API's filter parameters: what the equivalent API address carries over from a page's.
FILTER_PARAMETERS = frozenset(inspect.signature(provide_filters).parameters)
View = Literal["reports", "incidents"]

#: The facets a list page offers, in the order shown; sharing only to members.
PUBLIC_FACETS = ("event_type", "severity", "harm_domain", "harm_type", "sector", "jurisdiction")
MEMBER_FACETS = ("sharing", *PUBLIC_FACETS, "affected_group", "status")


class Listing(msgspec.Struct, kw_only=True):
    view: View
    items: list[Any]
    """Report documents (dicts, as the API answers them) or IncidentSummary Structs."""
    facets: dict[str, list[FacetValue]]
    selected: dict[str, list[str]]
    next_url: str | None
    api_url: str
    query: str
    """The page's filters as a query string (no cursor), for links that keep them."""


def selected_values(request: Request[Any, Any, Any]) -> dict[str, list[str]]:
    chosen: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        for part in str(value).split(","):
            if part.strip():
                chosen.setdefault(name, []).append(part.strip())
    return chosen


def _query(request: Request[Any, Any, Any], drop: set[str]) -> list[tuple[str, str]]:
    return [
        (name, str(value))
        for name, value in request.query_params.multi_items()
        if name not in drop and str(value) != ""
    ]


async def list_view(
    request: Request[Any, Any, Any],
    db: AsyncConnection,
    principal: Principal | None,
    taxonomy: TaxonomyRegistry,
    filters: Filters,
    *,
    view: View,
    cursor: str | None,
    facet_names: tuple[str, ...],
) -> Listing:
    """One page of reports or incidents, with facet counts, exactly as the API lists them for
    the same principal and filters."""
    if view == "incidents":
        report_filters = msgspec.structs.replace(filters, cross_border=None)
        conditions = compile_filters(report_filters, taxonomy)
        incidents_page = await incident_reading.list_incidents(
            db,
            principal,
            conditions,
            cross_border=filters.cross_border,
            cursor=cursor,
            limit=PAGE_SIZE,
        )
        items: list[Any] = list(incidents_page.items)
        next_cursor = incidents_page.next
        count: Literal["reports", "incidents"] = "incidents"
    else:
        conditions = compile_filters(filters, taxonomy)
        sort: reading.Sort = "relevance" if filters.q else "newest"
        reports_page = await reading.list_reports(
            db,
            principal,
            conditions,
            sort=sort,
            query_text=filters.q,
            cursor=cursor,
            limit=PAGE_SIZE,
        )
        items = [msgspec.json.decode(raw) for raw in reports_page.items]
        next_cursor = reports_page.next
        count = "reports"
    facets = await facet_counts(db, principal, conditions, list(facet_names), taxonomy, count=count)
    kept = _query(request, {"cursor", "view"})
    query = urlencode(kept)
    next_url = None
    if next_cursor:
        next_url = f"{request.url.path}?" + urlencode(
            [*_query(request, {"cursor"}), ("cursor", next_cursor)]
        )
    api_filters = [(name, value) for name, value in kept if name in FILTER_PARAMETERS]
    api_query = urlencode(
        [*api_filters, ("limit", str(PAGE_SIZE)), ("facets", ",".join(facet_names))]
    )
    return Listing(
        view=view,
        items=items,
        facets=facets,
        selected=selected_values(request),
        next_url=next_url,
        api_url=f"/api/v1/{view}?{api_query}",
        query=query,
    )
