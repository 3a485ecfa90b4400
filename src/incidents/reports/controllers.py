"""Reports over HTTP: filing (alone or in batches), reading, downloads, corrections and lifecycle
steps. Handlers parse, call one service function, and answer."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter
from litestar.response import Stream
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents import idempotency
from incidents.config import Settings
from incidents.db import Database
from incidents.edge import ACCEPTS_KEY
from incidents.formats import Format, negotiate
from incidents.idempotency import IdempotencyKey, idempotent
from incidents.incidents import linking
from incidents.incidents.schemas import MoveReport
from incidents.languages.negotiation import answer_language
from incidents.members.guards import require_member, require_secretariat
from incidents.members.schemas import Principal
from incidents.openapi import documented, problems
from incidents.pagination import DEFAULT_PAGE_SIZE, Cursor, FacetValue, PageSize, link_header
from incidents.reports import batch, exports, filing, lifecycle, reading, schemas
from incidents.reports.facets import FacetNames, facet_counts, parse_facets
from incidents.reports.filters import FILTERS, Filters, compile_filters
from incidents.reports.states import Action
from incidents.responses import language_headers
from incidents.taxonomy.service import TaxonomyRegistry

SortOrder = Annotated[
    reading.Sort,
    QueryParameter(
        required=False,
        description="newest (default) or oldest: by submission time (creation for a draft); "
        "occurred: by occurrence date; relevance: by search rank (needs q)",
    ),
]
Reference = FromPath[str]


class ReportPageDocument(msgspec.Struct, kw_only=True):
    """What ``ListReports`` answers (the items are passed through as PostgreSQL wrote them)."""

    items: list[schemas.Report]
    next: str | None
    facets: dict[str, list[FacetValue]] | None = None


class RevisionPage(msgspec.Struct, kw_only=True):
    items: list[schemas.Revision]
    next: str | None


def _report_headers(report: schemas.Report) -> dict[str, str]:
    return {"ETag": reading.etag(report), "Location": f"/api/v1/reports/{report.ref}"}


class ReportController(Controller):
    path = "/api/v1"
    tags = ("Reports",)

    @post(
        "/reports",
        operation_id="CreateReport",
        summary="File a report (as draft or submitted)",
        guards=[require_member],
        responses=problems(401, 403, 409, 413, 422),
        status_code=201,
    )
    @idempotent
    async def create(
        self,
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal],
        taxonomy: NamedDependency[TaxonomyRegistry],
        data: JSONBody[schemas.ReportCreate],
    ) -> Response[schemas.Created]:
        created = await filing.create_report(db, principal, data, taxonomy)
        return Response(content=created, headers=_report_headers(created.report))

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
        principal: NamedDependency[Principal | None],
        taxonomy: NamedDependency[TaxonomyRegistry],
        filters: NamedDependency[Filters],
        sort: SortOrder = "newest",
        cursor: Cursor = None,
        limit: PageSize = DEFAULT_PAGE_SIZE,
        facets: FacetNames = None,
    ) -> Response[Any]:
        conditions = compile_filters(filters, taxonomy)
        wanted = negotiate(request)
        if wanted != "json":
            return await exports.stream_reports(request, principal, conditions, wanted, taxonomy)
        database: Database = request.app.state.database
        # On a streaming replica when one is configured and fresh enough (Database.reading).
        async with database.reading(principal.organization_id if principal else None) as db:
            page = await reading.list_reports(
                db,
                principal,
                conditions,
                sort=sort,
                query_text=filters.q,
                cursor=cursor,
                limit=limit,
            )
            language = answer_language(request)
            counted = await facet_counts(
                db, principal, conditions, parse_facets(facets), taxonomy, language=language
            )
        body = schemas.ReportPage(items=page.items, next=page.next, facets=counted or None)
        params = {**filters.as_query(), "sort": sort, "limit": limit, "facets": facets}
        headers = link_header(
            str(request.base_url).rstrip("/") + request.url.path, params, page.next
        )
        return Response(content=body, headers=headers | language_headers(language))

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
        report = await reading.get_report(db, principal, reference)
        return Response(content=report, headers={"ETag": reading.etag(report)})

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
        report = await filing.update_report(db, principal, reference, if_match, data, taxonomy)
        return Response(content=report, headers={"ETag": reading.etag(report)})

    @post(
        "/reports/{reference:str}/submit",
        operation_id="SubmitReport",
        summary="Submit your draft (or a corrected rejected report)",
        guards=[require_member],
        responses=problems(401, 403, 404, 409, 422),
        status_code=200,
    )
    @idempotent
    async def submit(
        self,
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal],
        reference: Reference,
    ) -> Response[schemas.Report]:
        report = await lifecycle.transition(db, principal, reference, Action.SUBMIT, None)
        return Response(content=report, headers=_report_headers(report))

    @post(
        "/reports/{reference:str}/withdraw",
        operation_id="WithdrawReport",
        summary="Withdraw your report",
        guards=[require_member],
        responses=problems(401, 403, 404, 409, 422),
        status_code=200,
    )
    @idempotent
    async def withdraw(
        self,
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal],
        reference: Reference,
        data: JSONBody[schemas.OptionalReason | None] = None,
    ) -> Response[schemas.Report]:
        reason = data.reason if data else None
        report = await lifecycle.transition(db, principal, reference, Action.WITHDRAW, reason)
        return Response(content=report, headers=_report_headers(report))

    @post(
        "/reports/{reference:str}/start-review",
        operation_id="StartReview",
        summary="Take a submitted report into review",
        guards=[require_secretariat],
        responses=problems(401, 403, 404, 409, 422),
        status_code=200,
    )
    @idempotent
    async def start_review(
        self,
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal],
        reference: Reference,
    ) -> Response[schemas.Report]:
        report = await lifecycle.transition(db, principal, reference, Action.START_REVIEW, None)
        return Response(content=report, headers=_report_headers(report))

    @post(
        "/reports/{reference:str}/accept",
        operation_id="AcceptReport",
        summary="Accept a report: it counts in trends",
        guards=[require_secretariat],
        responses=problems(401, 403, 404, 409, 422),
        status_code=200,
    )
    @idempotent
    async def accept(
        self,
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal],
        reference: Reference,
    ) -> Response[schemas.Report]:
        report = await lifecycle.transition(db, principal, reference, Action.ACCEPT, None)
        return Response(content=report, headers=_report_headers(report))

    @post(
        "/reports/{reference:str}/reject",
        operation_id="RejectReport",
        summary="Reject a report with a reason its submitter can read",
        guards=[require_secretariat],
        responses=problems(401, 403, 404, 409, 422),
        status_code=200,
    )
    @idempotent
    async def reject(
        self,
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal],
        reference: Reference,
        data: JSONBody[schemas.Reason],
    ) -> Response[schemas.Report]:
        report = await lifecycle.transition(db, principal, reference, Action.REJECT, data.reason)
        return Response(content=report, headers=_report_headers(report))

    @post(
        "/reports/{reference:str}/move",
        operation_id="MoveReport",
        summary="Link a report to another incident, or give it one of its own",
        guards=[require_secretariat],
        responses=problems(401, 403, 404, 422),
        status_code=200,
    )
    @idempotent
    async def move(
        self,
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal],
        reference: Reference,
        data: JSONBody[MoveReport],
    ) -> Response[schemas.Report]:
        report = await linking.move_report(db, principal, reference, data.incident)
        return Response(content=report, headers=_report_headers(report))

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
        return {"items": await reading.list_revisions(db, principal, reference), "next": None}


async def _stream_reports(
    request: Request[Any, Any, Any],
    principal: Principal | None,
    filters: Filters,
    fmt: Format,
    taxonomy: TaxonomyRegistry,
) -> Stream:
    conditions = compile_filters(filters, taxonomy)
    return await exports.stream_reports(request, principal, conditions, fmt, taxonomy)


DOWNLOADS = exports.download_handlers("reports", "report", _stream_reports)
