"""Incidents over HTTP: lists and downloads, one incident (a merged one redirects to its
survivor), possible duplicates, merges. Handlers parse, call one service function, answer."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import Redirect, Stream
from litestar.status_codes import HTTP_308_PERMANENT_REDIRECT
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.formats import Format, negotiate
from incidents.idempotency import idempotent
from incidents.incidents import duplicates, linking, reading, schemas
from incidents.languages.negotiation import answer_language
from incidents.members.guards import require_secretariat
from incidents.members.schemas import Principal
from incidents.openapi import documented, problems
from incidents.pagination import DEFAULT_PAGE_SIZE, Cursor, Page, PageSize, link_header
from incidents.reports import exports
from incidents.reports.facets import FacetNames, facet_counts, parse_facets
from incidents.reports.filters import FILTERS, Filters, compile_filters
from incidents.responses import language_headers
from incidents.taxonomy.service import TaxonomyRegistry

Reference = FromPath[str]


IncidentSortOrder = Annotated[
    reading.IncidentSort,
    QueryParameter(required=False, description="newest (default) or oldest: by when opened"),
]


class IncidentController(Controller):
    path = "/api/v1"
    tags = ("Incidents",)

    @get(
        "/incidents",
        operation_id="ListIncidents",
        summary="Incidents with a report you may see that matches the filters, a page at a time",
        description=(
            "`Accept: text/csv` (or NDJSON, Parquet) answers every match as a download instead, "
            "as the `.csv` (`.ndjson`, `.parquet`) operations do."
        ),
        dependencies=FILTERS,
        responses=documented(schemas.IncidentPage, 400, 401, 406, 422),
    )
    async def list_incidents(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal | None],
        taxonomy: NamedDependency[TaxonomyRegistry],
        filters: NamedDependency[Filters],
        sort: IncidentSortOrder = "newest",
        cursor: Cursor = None,
        limit: PageSize = DEFAULT_PAGE_SIZE,
        facets: FacetNames = None,
    ) -> Response[Any]:
        # cross_border is a property of the incident as a whole, not of each report.
        report_filters = msgspec.structs.replace(filters, cross_border=None)
        conditions = compile_filters(report_filters, taxonomy)
        wanted = negotiate(request)
        if wanted != "json":
            return await exports.stream_incidents(
                request, principal, conditions, filters.cross_border, wanted, taxonomy
            )
        page = await reading.list_incidents(
            db,
            principal,
            conditions,
            cross_border=filters.cross_border,
            sort=sort,
            cursor=cursor,
            limit=limit,
        )
        language = answer_language(request)
        counted = await facet_counts(
            db,
            principal,
            conditions,
            parse_facets(facets),
            taxonomy,
            count="incidents",
            language=language,
        )
        body = schemas.IncidentPage(items=page.items, next=page.next, facets=counted or None)
        params = {**filters.as_query(), "sort": sort, "limit": limit, "facets": facets}
        headers = link_header(
            str(request.base_url).rstrip("/") + request.url.path, params, page.next
        )
        return Response(content=body, headers=headers | language_headers(language))

    @get(
        "/incidents/{reference:str}",
        operation_id="GetIncident",
        summary="One incident; a merged incident redirects (308) to the one it was merged into",
        responses=documented(schemas.Incident, 401, 404),
    )
    async def get_incident(
        self,
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal | None],
        reference: Reference,
    ) -> Response[Any]:
        incident, survivor = await reading.seen_incident(db, principal, reference)
        if incident.merged_into is not None:
            return Redirect(
                f"/api/v1/incidents/{survivor.ref}", status_code=HTTP_308_PERMANENT_REDIRECT
            )
        return Response(content=await reading.get_incident(db, principal, incident))

    @get(
        "/incidents/{reference:str}/similar",
        operation_id="SimilarIncidents",
        summary="Incidents you may see that look like this one, with a score and the reasons",
        responses=documented(Page[schemas.Candidate], 401, 404),
    )
    async def similar(
        self,
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal | None],
        reference: Reference,
        limit: Annotated[int, QueryParameter(ge=1, le=20)] = 5,
    ) -> Response[Any]:
        incident, survivor = await reading.seen_incident(db, principal, reference)
        if incident.merged_into is not None:
            return Redirect(
                f"/api/v1/incidents/{survivor.ref}/similar", status_code=HTTP_308_PERMANENT_REDIRECT
            )
        return Response(
            content=Page(items=await duplicates.similar_to(db, principal, incident, limit))
        )

    @post(
        "/incidents/{reference:str}/merge",
        operation_id="MergeIncident",
        summary="Merge this incident into another; its reference then redirects there",
        guards=[require_secretariat],
        responses=problems(401, 403, 404, 409, 422),
        status_code=200,
    )
    @idempotent
    async def merge(
        self,
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal],
        reference: Reference,
        data: JSONBody[schemas.MergeIncident],
    ) -> schemas.Incident:
        survivor = await linking.merge_incidents(db, principal, reference, data.into)
        return await reading.get_incident(db, principal, survivor)


async def _stream_incidents(
    request: Request[Any, Any, Any],
    principal: Principal | None,
    filters: Filters,
    fmt: Format,
    taxonomy: TaxonomyRegistry,
) -> Stream:
    # cross_border is a property of the incident as a whole, not of each report.
    conditions = compile_filters(msgspec.structs.replace(filters, cross_border=None), taxonomy)
    return await exports.stream_incidents(
        request, principal, conditions, filters.cross_border, fmt, taxonomy
    )


DOWNLOADS = exports.download_handlers("incidents", "incident", _stream_incidents)
