"""The explorer: reports or incidents with every filter and facet count, the trend of the
current view as the briefs draw it (the trends service's protected figures: the same
disclosure protection as the API and the briefs), the view as CSV or Parquet, and the
equivalent API address."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Stream, Template
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.briefs import charts
from incidents.members.schemas import Principal
from incidents.pagination import Cursor
from incidents.reports import exports
from incidents.reports.filters import FILTERS, Filters, compile_filters
from incidents.taxonomy.service import TaxonomyRegistry
from incidents.web.i18n import N_, direction, language_of, translations_of
from incidents.web.labels import Labels
from incidents.web.listing import MEMBER_FACETS, list_view
from incidents.web.pages import MEMBERS, NavItem, PageGroup, require
from incidents.web.templating import page

ViewParameter = Annotated[
    Literal["reports", "incidents"],
    QueryParameter(required=False, description="reports (default) or incidents"),
]
MEMBERS_ONLY = [require("member")]


async def _trend_chart(
    request: Request[Any, Any, Any],
    principal: Principal,
    taxonomy: TaxonomyRegistry,
    filters: Filters,
) -> tuple[Markup, str | None]:
    """The incidents per quarter of the current filters, protected exactly as GET /api/v1/trends
    protects them for this principal (the same function computes both)."""
    # The trends API's own entry point: date filters widened to whole periods, k and noise
    # from the settings, cell-key perturbation for all but the secretariat.
    from incidents.trends.controllers import _trend

    _, _, source, table = await _trend(
        request, principal, taxonomy, filters, None, "quarter", None, None
    )
    gettext = translations_of(request).gettext
    k = request.app.state.settings.suppression_k
    fewer = gettext("fewer than %(k)d") % {"k": k}
    points = [
        (row["period"], row["incidents"], fewer)
        for row in table.totals.to_dicts()
        if not row["year_only"]
    ]
    svg = charts.line(
        "explore-trend",
        gettext("Incidents per quarter"),
        points,
        unit=gettext("incidents"),
        rtl=direction(language_of(request)) == "rtl",
    )
    method = source.method
    return Markup(svg), method.describe() if method else None  # noqa: S704  # charts escape text


@get(
    "/explore",
    name="web-explore",
    include_in_schema=False,
    guards=MEMBERS_ONLY,
    dependencies=FILTERS,
)
async def explore(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncConnection],
    principal: NamedDependency[Principal],
    taxonomy: NamedDependency[TaxonomyRegistry],
    filters: NamedDependency[Filters],
    view: ViewParameter = "reports",
    cursor: Cursor = None,
) -> Template:
    listing = await list_view(
        request,
        db,
        principal,
        taxonomy,
        filters,
        view=view,
        cursor=cursor,
        facet_names=MEMBER_FACETS,
    )
    chart, protection = await _trend_chart(request, principal, taxonomy, filters)
    return page(
        request,
        "research/explore.html",
        {
            "listing": listing,
            "labels": Labels(taxonomy),
            "q": filters.q or "",
            "chart": chart,
            "protection": protection,
        },
    )


async def _download(
    request: Request[Any, Any, Any],
    principal: Principal,
    taxonomy: TaxonomyRegistry,
    filters: Filters,
    view: str,
    fmt: Literal["csv", "parquet"],
) -> Stream:
    if view == "incidents":
        conditions = compile_filters(msgspec.structs.replace(filters, cross_border=None), taxonomy)
        return await exports.stream_incidents(
            request, principal, conditions, filters.cross_border, fmt, taxonomy
        )
    conditions = compile_filters(filters, taxonomy)
    return await exports.stream_reports(request, principal, conditions, fmt, taxonomy)


@get(
    "/explore.csv",
    name="web-explore-csv",
    include_in_schema=False,
    guards=MEMBERS_ONLY,
    dependencies=FILTERS,
)
async def explore_csv(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    taxonomy: NamedDependency[TaxonomyRegistry],
    filters: NamedDependency[Filters],
    view: ViewParameter = "reports",
) -> Stream:
    return await _download(request, principal, taxonomy, filters, view, "csv")


@get(
    "/explore.parquet",
    name="web-explore-parquet",
    include_in_schema=False,
    guards=MEMBERS_ONLY,
    dependencies=FILTERS,
)
async def explore_parquet(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    taxonomy: NamedDependency[TaxonomyRegistry],
    filters: NamedDependency[Filters],
    view: ViewParameter = "reports",
) -> Stream:
    return await _download(request, principal, taxonomy, filters, view, "parquet")


RESEARCH = PageGroup(
    name="research",
    handlers=[explore, explore_csv, explore_parquet],
    navigation=[NavItem(N_("Explore"), "/explore", audiences=MEMBERS)],
)
