"""Pages anyone may read: the home page, search with facets, a report, an incident, and the
published briefs. Each calls the API's own service with the visitor's principal (None for the
public), so a page shows exactly what the API would answer the same visitor."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_308_PERMANENT_REDIRECT
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.briefs import reading as briefs
from incidents.incidents import reading as incident_reading
from incidents.members.schemas import Principal
from incidents.pagination import Cursor
from incidents.reports import reading
from incidents.reports.facets import MAX_FACET_VALUES, facet_counts
from incidents.reports.filters import FILTERS, Filters
from incidents.taxonomy.service import TaxonomyRegistry
from incidents.web.i18n import N_
from incidents.web.labels import Labels
from incidents.web.listing import MEMBER_FACETS, PUBLIC_FACETS, View, list_view
from incidents.web.pages import EVERYONE, NavItem, PageGroup
from incidents.web.templating import page
from incidents.web.validators import (
    VALIDATED,
    answer_unchanged,
    public_etag,
    validated_headers,
)

LATEST = 8
ViewParameter = Annotated[
    View, QueryParameter(required=False, description="reports (default) or incidents")
]


@get("/", name="web-home", include_in_schema=False)
async def home(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncConnection],
    taxonomy: NamedDependency[TaxonomyRegistry],
) -> Template:
    # The public's view whoever asks: the home page is the registry's shop window.
    latest = await incident_reading.list_incidents(db, None, [], limit=LATEST)
    reports = await facet_counts(db, None, [], ["status", "jurisdiction"], taxonomy)
    incidents = await facet_counts(db, None, [], ["status"], taxonomy, count="incidents")
    countries = reports.get("jurisdiction", [])
    figures = {
        "reports": sum(value.count for value in reports.get("status", [])),
        "incidents": sum(value.count for value in incidents.get("status", [])),
        "countries": len(countries),
        "countries_capped": len(countries) >= MAX_FACET_VALUES,
        "briefs": sum(
            1
            for brief in await briefs.listing(db, secretariat=False)
            if brief.status == "published"
        ),
    }
    return page(
        request,
        "public/home.html",
        {"figures": figures, "latest": latest.items, "labels": Labels(taxonomy)},
    )


@get(
    "/search",
    name="web-search",
    include_in_schema=False,
    dependencies=FILTERS,
    cache_control=VALIDATED,
    before_request=answer_unchanged,
)
async def search(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncConnection],
    principal: NamedDependency[Principal | None],
    taxonomy: NamedDependency[TaxonomyRegistry],
    filters: NamedDependency[Filters],
    view: ViewParameter = "reports",
    cursor: Cursor = None,
) -> Template | Response[None]:
    # The public's search over reports depends on public reports only: validated (304).
    # Read before the page's records (a repeated read was answered by answer_unchanged).
    etag = await public_etag(request) if principal is None and view == "reports" else None
    listing = await list_view(
        request,
        db,
        principal,
        taxonomy,
        filters,
        view=view,
        cursor=cursor,
        facet_names=PUBLIC_FACETS if principal is None else MEMBER_FACETS,
    )
    return page(
        request,
        "public/search.html",
        {"listing": listing, "labels": Labels(taxonomy), "q": filters.q or ""},
        headers=validated_headers(etag),
    )


@get(
    "/reports/{reference:str}",
    name="web-report",
    include_in_schema=False,
    cache_control=VALIDATED,
    before_request=answer_unchanged,
)
async def report(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncConnection],
    principal: NamedDependency[Principal | None],
    taxonomy: NamedDependency[TaxonomyRegistry],
    reference: FromPath[str],
) -> Template | Response[None]:
    etag = await public_etag(request) if principal is None else None
    found = await reading.get_report(db, principal, reference)
    own = principal is not None and principal.organization_id == found.organization.id
    return page(
        request,
        "public/report.html",
        {"report": found, "labels": Labels(taxonomy), "own": own, "etag": reading.etag(found)},
        headers=validated_headers(etag),
    )


@get("/incidents/{reference:str}", name="web-incident", include_in_schema=False)
async def incident(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncConnection],
    principal: NamedDependency[Principal | None],
    taxonomy: NamedDependency[TaxonomyRegistry],
    reference: FromPath[str],
) -> Template | Redirect:
    found, survivor = await incident_reading.seen_incident(db, principal, reference)
    if found.merged_into is not None:
        return Redirect(f"/incidents/{survivor.ref}", status_code=HTTP_308_PERMANENT_REDIRECT)
    shown = await incident_reading.get_incident(db, principal, found)
    return page(request, "public/incident.html", {"incident": shown, "labels": Labels(taxonomy)})


@get("/briefs", name="web-briefs", include_in_schema=False)
async def brief_list(
    request: Request[Any, Any, Any], db: NamedDependency[AsyncConnection]
) -> Template:
    # The public listing whoever asks; the secretariat's workflow pages are its own group.
    items = await briefs.listing(db, secretariat=False)
    return page(request, "public/briefs.html", {"briefs": items})


PUBLIC = PageGroup(
    name="public",
    handlers=[home, search, report, incident, brief_list],
    navigation=[
        NavItem(N_("Home"), "/", audiences=EVERYONE),
        NavItem(N_("Search"), "/search", audiences=EVERYONE),
        NavItem(N_("Briefs"), "/briefs", audiences=EVERYONE),
    ],
)
