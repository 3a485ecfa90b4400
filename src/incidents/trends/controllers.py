"""Trends over HTTP: JSON, CSV or Parquet; suppressed for everyone but the secretariat."""

from __future__ import annotations

import io
import uuid
from datetime import date, timedelta
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.errors import NotFound
from incidents.members.guards import require_secretariat
from incidents.members.schemas import Principal
from incidents.members.service import actor_for
from incidents.openapi import per_format, problems
from incidents.reports.exports import MEDIA_TYPES, negotiate
from incidents.reports.filters import Filters, provide_filters
from incidents.taxonomy.service import TaxonomyRegistry
from incidents.trends import jobs
from incidents.trends.periods import DIMENSIONS, Period, Window, align, parse_by, shift, window
from incidents.trends.schemas import Brief, BriefRequest, TrendResponse, parse_period, scope_filters

NOTES = [
    "Counts are incidents (an event reported by several jurisdictions counts once), from "
    "accepted reports of every sharing level.",
    "Counts reflect reporting capacity as much as harm: see coverage for which jurisdictions "
    "reported at all.",
    "For every audience but the secretariat, cells of 1 to k-1 incidents are suppressed, with "
    "enough others that none can be recovered from totals or from a query with one filter fewer.",
]


def _aligned(filters: Filters, span: Window) -> Filters:
    """Date filters widened to whole periods, so that shifting them by a day reveals nobody."""
    changes: dict[str, Any] = {}
    for name in ("occurred_from", "submitted_from"):
        value = getattr(filters, name)
        if value:
            changes[name] = align(value, span.period)
    for name in ("occurred_to", "submitted_to"):
        value = getattr(filters, name)
        if value:
            changes[name] = shift(align(value, span.period), span.period, 1) - timedelta(days=1)
    return msgspec.structs.replace(filters, **changes)


class TrendController(Controller):
    path = "/api/v1"
    tags = ("Trends",)

    @get(
        ["/trends", "/trends.csv", "/trends.parquet"],
        operation_id=per_format("GetTrends"),
        summary="Incidents per period and dimension, with change; small cells suppressed",
        dependencies={"filters": Provide(provide_filters, sync_to_thread=False)},
        responses=problems(400, 401, 406, 422),
    )
    async def get_trends(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal | None],
        taxonomy: NamedDependency[TaxonomyRegistry],
        filters: NamedDependency[Filters],
        by: Annotated[
            str | None,
            QueryParameter(
                required=False,
                max_length=100,
                description="Up to 2 of: " + ", ".join(DIMENSIONS),
            ),
        ] = None,
        period: Annotated[Period, QueryParameter(required=False)] = "quarter",
        start: Annotated[
            date | None,
            QueryParameter(
                name="from", required=False, description="First period (widened to its start)"
            ),
        ] = None,
        end: Annotated[
            date | None,
            QueryParameter(
                name="to", required=False, description="Last period (default: the current one)"
            ),
        ] = None,
    ) -> Response[Any]:
        dimensions = parse_by(by)
        span = window(period, start, end)
        settings = request.app.state.settings
        wanted = negotiate(request)
        # Polars and Arrow load on the first trend request only: a worker serving records
        # alone stays small (see bench: worker memory).
        from incidents.trends.service import reference_of, trend

        table = await trend(
            settings.database_url,
            principal,
            _aligned(filters, span),
            taxonomy,
            by=dimensions,
            span=span,
            k=settings.suppression_k,
        )
        if wanted in {"csv", "parquet"}:
            return _download(table.cells, wanted)
        if wanted == "ndjson":
            return Response(
                content=b"".join(
                    msgspec.json.encode(row) + b"\n" for row in table.cells.to_dicts()
                ),
                media_type=MEDIA_TYPES["ndjson"],
            )
        every = reference_of(taxonomy).labels
        labels = {name: every[name] for name in dimensions if name in every}
        return Response(
            content=TrendResponse(
                audience=table.audience,
                period=period,
                by=dimensions,
                start=span.start,
                end=span.end,
                k=settings.suppression_k,
                taxonomy_version=taxonomy.current.version,
                suppressed_cells=table.suppressed,
                cells=table.cells.to_dicts(),
                totals=table.totals.to_dicts(),
                labels=labels,
                notes=NOTES,
            )
        )


def reference_labels(
    taxonomy: TaxonomyRegistry, dimensions: list[str]
) -> dict[str, dict[str, str]]:
    from incidents.trends.service import reference_of

    labels = reference_of(taxonomy).labels
    return {name: labels[name] for name in dimensions if name in labels}


def _download(table: Any, wanted: str) -> Response[bytes]:
    buffer = io.BytesIO()
    if wanted == "csv":
        table.write_csv(buffer)
    else:
        table.write_parquet(buffer)
    return Response(
        content=buffer.getvalue(),
        media_type=MEDIA_TYPES[wanted],
        headers={"Content-Disposition": f'attachment; filename="trends.{wanted}"'},
    )


def _secretariat(principal: Principal | None) -> bool:
    return principal is not None and principal.kind == "secretariat"


class BriefController(Controller):
    path = "/api/v1"
    tags = ("Briefs",)

    @post(
        "/briefs",
        operation_id="CreateBrief",
        summary="Make a risk brief for a period (in the background; poll its status)",
        guards=[require_secretariat],
        responses=problems(401, 403, 413, 422),
        status_code=202,
    )
    async def create_brief(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal],
        taxonomy: NamedDependency[TaxonomyRegistry],
        data: JSONBody[BriefRequest],
    ) -> Response[Brief]:
        scope_filters(data.scope)  # a bad scope is a 422 now, not a failed job later
        parse_period(data.period)
        brief = await jobs.queue(db, actor_for(principal), data)
        settings = request.app.state.settings
        # Runs once the response is sent, i.e. after the request's transaction committed.
        task = BackgroundTask(
            _run_in_background,
            request.app.state.database,
            settings.database_url,
            taxonomy,
            brief.id,
            settings.suppression_k,
        )
        return Response(
            content=brief,
            status_code=202,
            background=task,
            headers={"Location": brief.links["self"]},
        )

    @get(
        "/briefs",
        operation_id="ListBriefs",
        summary="Published briefs (the secretariat sees every brief)",
        responses=problems(401),
    )
    async def list_briefs(
        self, db: NamedDependency[AsyncConnection], principal: NamedDependency[Principal | None]
    ) -> dict[str, Any]:
        return {"items": await jobs.listing(db, secretariat=_secretariat(principal)), "next": None}

    @get(
        "/briefs/{name:str}",
        operation_id="GetBrief",
        summary="A brief's status, or its document: .html, .pdf, .json, or .zip (CSV and Parquet)",
        responses=problems(401, 404, 409),
    )
    async def get_brief(
        self,
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal | None],
        name: FromPath[str],
    ) -> Response[Any]:
        identifier, _, variant = name.partition(".")
        try:
            brief_id = uuid.UUID(identifier)
        except ValueError:
            raise NotFound(f"No brief {name}") from None
        secretariat = _secretariat(principal)
        if not variant:
            return Response(content=await jobs.get(db, brief_id, secretariat=secretariat))
        if variant not in jobs.MEDIA:
            raise NotFound(f"A brief comes as {', '.join('.' + v for v in jobs.MEDIA)}")
        body = await jobs.content(
            db,
            brief_id,
            variant,  # type: ignore[arg-type]  # a key of jobs.MEDIA, checked just above
            secretariat=secretariat,
        )
        headers = {}
        if variant in {"pdf", "zip"}:
            headers["Content-Disposition"] = f'attachment; filename="brief-{brief_id}.{variant}"'
        return Response(content=body, media_type=jobs.MEDIA[variant], headers=headers)

    @post(
        "/briefs/{brief_id:uuid}/publish",
        operation_id="PublishBrief",
        summary="Make a finished brief public",
        guards=[require_secretariat],
        responses=problems(401, 403, 404, 409),
        status_code=200,
    )
    async def publish_brief(
        self,
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal],
        brief_id: FromPath[uuid.UUID],
    ) -> Brief:
        return await jobs.publish(db, actor_for(principal), brief_id)


async def _run_in_background(
    database: Any, url: str, taxonomy: TaxonomyRegistry, brief_id: uuid.UUID, k: int
) -> None:
    try:
        await jobs.run(database, url, taxonomy, brief_id, k)
    except Exception:  # recorded on the brief, and logged, by jobs.run
        return
