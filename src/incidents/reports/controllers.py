"""Reports and incidents over HTTP. Handlers parse, call one service function, and answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter
from litestar.response import Redirect, Stream
from litestar.status_codes import HTTP_308_PERMANENT_REDIRECT
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.config import Settings
from incidents.edge import ACCEPTS_KEY
from incidents.members.guards import require_member, require_secretariat
from incidents.members.schemas import Principal
from incidents.openapi import DOWNLOAD_MEDIA_TYPES, documented, download, problems
from incidents.pagination import DEFAULT_PAGE_SIZE, Cursor, PageSize, link_header
from incidents.reports import batch, exports, idempotency, queries, schemas, service
from incidents.reports.duplicates import find_similar
from incidents.reports.filters import Filters, compile_filters, provide_filters
from incidents.reports.models import reports
from incidents.taxonomy.service import TaxonomyRegistry

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        max_length=255,
        description="Retrying with the same key and body returns the first answer",
    ),
]
FacetNames = Annotated[
    str | None,
    QueryParameter(
        required=False, max_length=400, description="Comma-separated: " + ", ".join(queries.FACETS)
    ),
]
SortOrder = Annotated[
    queries.Sort,
    QueryParameter(
        required=False,
        description="newest (default) or oldest: by submission time (creation for a draft); "
        "occurred: by occurrence date; relevance: by search rank (needs q)",
    ),
]
IncidentSortOrder = Annotated[
    queries.IncidentSort,
    QueryParameter(required=False, description="newest (default) or oldest: by when opened"),
]
Reference = FromPath[str]

FILTERS = {"filters": Provide(provide_filters, sync_to_thread=False)}


class ReportPageDocument(msgspec.Struct, kw_only=True):
    """What ``ListReports`` answers (the items are passed through as PostgreSQL wrote them)."""

    items: list[schemas.Report]
    next: str | None
    facets: dict[str, list[schemas.FacetValue]] | None = None


class RevisionPage(msgspec.Struct, kw_only=True):
    items: list[schemas.Revision]
    next: str | None


class CandidatePage(msgspec.Struct, kw_only=True):
    items: list[schemas.Candidate]
    next: str | None


async def _once(
    request: Request[Any, Any, Any],
    db: AsyncConnection,
    principal: Principal,
    key: str | None,
    work: Callable[[], Awaitable[Any]],
    *,
    status: int = 200,
    headers: Callable[[Any], dict[str, str]] | None = None,
) -> Response[bytes]:
    async def fingerprint() -> bytes:
        return idempotency.request_hash(request.method, request.url.path, await request.body())

    return await idempotency.run_once(
        db, principal, key, fingerprint, work, status=status, headers=headers
    )


def _report_headers(report: schemas.Report) -> dict[str, str]:
    return {"ETag": queries.etag(report), "Location": f"/api/v1/reports/{report.ref}"}


class ReportController(Controller):
    path = "/api/v1"
    tags = ("Reports",)

    @post(
        "/reports",
        operation_id="CreateReport",
        summary="File a report (as draft or submitted)",
        guards=[require_member],
        responses=documented(schemas.Created, 401, 403, 409, 413, 422, status=201),
        status_code=201,
    )
    async def create(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal],
        taxonomy: NamedDependency[TaxonomyRegistry],
        data: JSONBody[schemas.ReportCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[bytes]:
        return await _once(
            request,
            db,
            principal,
            idempotency_key,
            lambda: service.create_report(db, principal, data, taxonomy),
            status=201,
            headers=lambda created: _report_headers(created.report),
        )

    @post(
        "/reports/batch",
        operation_id="CreateReportBatch",
        summary="File up to 5,000 reports at once (JSON array or NDJSON): all, or none",
        description=(
            "Send `Content-Type: application/json` with an array of reports, or "
            "`application/x-ndjson` with one report per line. If any report is invalid, nothing "
            "is stored and every bad report is named by `index` and `field`."
        ),
        guards=[require_member],
        responses=documented(schemas.BatchCreated, 401, 403, 409, 413, 415, 422, status=201),
        status_code=201,
        request_max_body_size=None,
        opt={ACCEPTS_KEY: ["application/json", *sorted(batch.NDJSON_TYPES)]},
    )
    async def create_batch(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal],
        taxonomy: NamedDependency[TaxonomyRegistry],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[bytes]:
        settings: Settings = request.app.state.settings
        body = batch.Body(
            request.stream(),
            request.content_type[0],
            settings.batch_max_body_bytes,
            idempotency.fingerprint_prefix(request.method, request.url.path),
        )
        items = await batch.read_batch(principal, body)

        async def fingerprint() -> bytes:
            return body.digest

        return await idempotency.run_once(
            db,
            principal,
            idempotency_key,
            fingerprint,
            lambda: batch.file_batch(db, principal, items, taxonomy),
            status=201,
        )

    @get(
        "/reports",
        operation_id="ListReports",
        summary="Reports you may see, filtered, a page at a time",
        description=(
            "`Accept: text/csv` (or `application/x-ndjson`, `application/vnd.apache.parquet`) "
            "answers every match as a download instead, as the `.csv` (`.ndjson`, `.parquet`) "
            "operations do."
        ),
        dependencies=FILTERS,
        responses=documented(ReportPageDocument, 400, 401, 406, 422),
    )
    async def list_reports(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal | None],
        taxonomy: NamedDependency[TaxonomyRegistry],
        filters: NamedDependency[Filters],
        sort: SortOrder = "newest",
        cursor: Cursor = None,
        limit: PageSize = DEFAULT_PAGE_SIZE,
        facets: FacetNames = None,
    ) -> Response[Any]:
        conditions = compile_filters(filters, taxonomy)
        wanted = exports.negotiate(request)
        if wanted != "json":
            return await exports.stream_reports(request, principal, conditions, wanted, taxonomy)
        page = await queries.list_reports(
            db, principal, conditions, sort=sort, query_text=filters.q, cursor=cursor, limit=limit
        )
        counted = await queries.facets(
            db, principal, conditions, queries.parse_facets(facets), taxonomy
        )
        body = schemas.ReportPage(items=page.items, next=page.next, facets=counted or None)
        params = {**filters.as_query(), "sort": sort, "limit": limit, "facets": facets}
        return Response(
            content=body,
            headers=link_header(
                str(request.base_url).rstrip("/") + request.url.path, params, page.next
            ),
        )

    @get(
        "/reports/{reference:str}",
        operation_id="GetReport",
        summary="One report (by id or RPT reference)",
        responses=problems(401, 404),
    )
    async def get_report(
        self,
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal | None],
        reference: Reference,
    ) -> Response[schemas.Report]:
        report = await queries.get_report(db, principal, reference)
        return Response(content=report, headers={"ETag": queries.etag(report)})

    @patch(
        "/reports/{reference:str}",
        operation_id="UpdateReport",
        summary="Correct your report (If-Match required); absent fields are kept",
        guards=[require_member],
        responses=problems(401, 403, 404, 409, 412, 413, 422, 428),
    )
    async def update(
        self,
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal],
        taxonomy: NamedDependency[TaxonomyRegistry],
        reference: Reference,
        data: JSONBody[schemas.ReportPatch],
        if_match: Annotated[str | None, HeaderParameter(name="If-Match", required=False)] = None,
    ) -> Response[schemas.Report]:
        report = await service.update_report(db, principal, reference, if_match, data, taxonomy)
        return Response(content=report, headers={"ETag": queries.etag(report)})

    async def _transition(
        self,
        request: Request[Any, Any, Any],
        db: AsyncConnection,
        principal: Principal,
        reference: str,
        action: str,
        reason: str | None,
        key: str | None,
    ) -> Response[bytes]:
        return await _once(
            request,
            db,
            principal,
            key,
            lambda: service.transition(db, principal, reference, action, reason),
            headers=_report_headers,
        )

    @post(
        "/reports/{reference:str}/submit",
        operation_id="SubmitReport",
        summary="Submit your draft (or a corrected rejected report)",
        guards=[require_member],
        responses=documented(schemas.Report, 401, 403, 404, 409, 422),
        status_code=200,
    )
    async def submit(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal],
        reference: Reference,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[bytes]:
        return await self._transition(
            request, db, principal, reference, "submit", None, idempotency_key
        )

    @post(
        "/reports/{reference:str}/withdraw",
        operation_id="WithdrawReport",
        summary="Withdraw your report",
        guards=[require_member],
        responses=documented(schemas.Report, 401, 403, 404, 409, 422),
        status_code=200,
    )
    async def withdraw(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal],
        reference: Reference,
        data: JSONBody[schemas.OptionalReason | None] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[bytes]:
        reason = data.reason if data else None
        return await self._transition(
            request, db, principal, reference, "withdraw", reason, idempotency_key
        )

    @post(
        "/reports/{reference:str}/start-review",
        operation_id="StartReview",
        summary="Take a submitted report into review",
        guards=[require_secretariat],
        responses=documented(schemas.Report, 401, 403, 404, 409, 422),
        status_code=200,
    )
    async def start_review(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal],
        reference: Reference,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[bytes]:
        return await self._transition(
            request, db, principal, reference, "start_review", None, idempotency_key
        )

    @post(
        "/reports/{reference:str}/accept",
        operation_id="AcceptReport",
        summary="Accept a report: it counts in trends",
        guards=[require_secretariat],
        responses=documented(schemas.Report, 401, 403, 404, 409, 422),
        status_code=200,
    )
    async def accept(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal],
        reference: Reference,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[bytes]:
        return await self._transition(
            request, db, principal, reference, "accept", None, idempotency_key
        )

    @post(
        "/reports/{reference:str}/reject",
        operation_id="RejectReport",
        summary="Reject a report with a reason its submitter can read",
        guards=[require_secretariat],
        responses=documented(schemas.Report, 401, 403, 404, 409, 422),
        status_code=200,
    )
    async def reject(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal],
        reference: Reference,
        data: JSONBody[schemas.Reason],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[bytes]:
        return await self._transition(
            request, db, principal, reference, "reject", data.reason, idempotency_key
        )

    @post(
        "/reports/{reference:str}/move",
        operation_id="MoveReport",
        summary="Link a report to another incident, or give it one of its own",
        guards=[require_secretariat],
        responses=documented(schemas.Report, 401, 403, 404, 422),
        status_code=200,
    )
    async def move(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal],
        reference: Reference,
        data: JSONBody[schemas.MoveReport],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[bytes]:
        return await _once(
            request,
            db,
            principal,
            idempotency_key,
            lambda: service.move_report(db, principal, reference, data.incident),
            headers=_report_headers,
        )

    @get(
        "/reports/{reference:str}/revisions",
        operation_id="ListReportRevisions",
        summary="Every revision of a report and who made it",
        responses=documented(RevisionPage, 401, 404),
    )
    async def revisions(
        self,
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal | None],
        reference: Reference,
    ) -> dict[str, Any]:
        return {"items": await queries.list_revisions(db, principal, reference), "next": None}


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
        wanted = exports.negotiate(request)
        if wanted != "json":
            return await exports.stream_incidents(
                request, principal, conditions, filters.cross_border, wanted, taxonomy
            )
        page = await queries.list_incidents(
            db,
            principal,
            conditions,
            cross_border=filters.cross_border,
            sort=sort,
            cursor=cursor,
            limit=limit,
        )
        counted = await queries.facets(
            db, principal, conditions, queries.parse_facets(facets), taxonomy, count="incidents"
        )
        body = schemas.IncidentPage(items=page.items, next=page.next, facets=counted or None)
        params = {**filters.as_query(), "sort": sort, "limit": limit, "facets": facets}
        return Response(
            content=body,
            headers=link_header(
                str(request.base_url).rstrip("/") + request.url.path, params, page.next
            ),
        )

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
        incident, survivor = await queries.seen_incident(db, principal, reference)
        if incident.merged_into is not None:
            return Redirect(
                f"/api/v1/incidents/{survivor.ref}", status_code=HTTP_308_PERMANENT_REDIRECT
            )
        return Response(content=await queries.get_incident(db, principal, incident))

    @get(
        "/incidents/{reference:str}/similar",
        operation_id="SimilarIncidents",
        summary="Incidents you may see that look like this one, with a score and the reasons",
        responses=documented(CandidatePage, 401, 404),
    )
    async def similar(
        self,
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal | None],
        reference: Reference,
        limit: Annotated[int, QueryParameter(ge=1, le=20)] = 5,
    ) -> Response[Any]:
        incident, survivor = await queries.seen_incident(db, principal, reference)
        if incident.merged_into is not None:
            return Redirect(
                f"/api/v1/incidents/{survivor.ref}/similar", status_code=HTTP_308_PERMANENT_REDIRECT
            )
        shown = await queries.get_incident(db, principal, incident)
        found: dict[str, schemas.Candidate] = {}
        for line in shown.reports[:3]:
            row = (await db.execute(reports.select().where(reports.c.id == line.id))).one()
            for candidate in await find_similar(
                db,
                principal,
                title=row.title,
                system=row.ai_system_name,
                developer=row.developer,
                occurred_on=row.occurred_on,
                precision=row.occurred_precision,
                jurisdictions=list(row.jurisdictions),
                exclude_incident=incident.id,
                limit=limit,
            ):
                known = found.get(candidate.incident.ref)
                if known is None or candidate.score > known.score:
                    found[candidate.incident.ref] = candidate
        ranked = sorted(found.values(), key=lambda item: (-item.score, item.incident.ref))[:limit]
        return Response(content={"items": ranked, "next": None})

    @post(
        "/incidents/{reference:str}/merge",
        operation_id="MergeIncident",
        summary="Merge this incident into another; its reference then redirects there",
        guards=[require_secretariat],
        responses=documented(schemas.Incident, 401, 403, 404, 409, 422),
        status_code=200,
    )
    async def merge(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal],
        reference: Reference,
        data: JSONBody[schemas.MergeIncident],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[bytes]:
        async def work() -> schemas.Incident:
            survivor = await service.merge_incidents(db, principal, reference, data.into)
            return await queries.get_incident(db, principal, survivor)

        return await _once(request, db, principal, idempotency_key, work)


def _downloads(
    noun: str, what: str, stream: Callable[..., Awaitable[Stream]]
) -> list[HTTPRouteHandler]:
    """``/api/v1/{noun}.csv`` (``.ndjson``, ``.parquet``): every match as one file, each an
    operation of its own with its own media type."""
    return [_download_handler(noun, what, stream, fmt) for fmt in ("csv", "ndjson", "parquet")]


def _download_handler(
    noun: str, what: str, stream: Callable[..., Awaitable[Stream]], fmt: exports.Format
) -> HTTPRouteHandler:
    async def handler(
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal | None],
        taxonomy: NamedDependency[TaxonomyRegistry],
        filters: NamedDependency[Filters],
    ) -> Stream:
        return await stream(request, principal, filters, fmt, taxonomy)

    title = noun.capitalize()
    return get(
        f"/api/v1/{noun}.{fmt}",
        name=f"download-{noun}-{fmt}",
        operation_id=f"Download{title}{fmt.capitalize()}",
        summary=f"Every {what} you may see that matches the filters, as {fmt.upper()}",
        tags=[title],
        media_type=DOWNLOAD_MEDIA_TYPES[fmt],
        dependencies=FILTERS,
        responses=download(fmt, 400, 401, 422, what=what),
    )(handler)


async def _stream_reports(
    request: Request[Any, Any, Any],
    principal: Principal | None,
    filters: Filters,
    fmt: exports.Format,
    taxonomy: TaxonomyRegistry,
) -> Stream:
    conditions = compile_filters(filters, taxonomy)
    return await exports.stream_reports(request, principal, conditions, fmt, taxonomy)


async def _stream_incidents(
    request: Request[Any, Any, Any],
    principal: Principal | None,
    filters: Filters,
    fmt: exports.Format,
    taxonomy: TaxonomyRegistry,
) -> Stream:
    # cross_border is a property of the incident as a whole, not of each report.
    conditions = compile_filters(msgspec.structs.replace(filters, cross_border=None), taxonomy)
    return await exports.stream_incidents(
        request, principal, conditions, filters.cross_border, fmt, taxonomy
    )


DOWNLOADS = [
    *_downloads("reports", "report", _stream_reports),
    *_downloads("incidents", "incident", _stream_incidents),
]
