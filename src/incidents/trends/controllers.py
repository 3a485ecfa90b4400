"""Trends over HTTP: JSON, CSV or Parquet; protected for everyone but the secretariat."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter

from incidents.formats import MEDIA_TYPES, frame_bytes
from incidents.members.schemas import Principal
from incidents.openapi import download, problems
from incidents.reports.filters import Filters, provide_filters
from incidents.taxonomy.service import TaxonomyRegistry
from incidents.trends.periods import DIMENSIONS, Period, Window, align, parse_by, shift, window
from incidents.trends.schemas import Protection, TrendCell, TrendResponse

if TYPE_CHECKING:
    from incidents.trends.service import Source, TrendTable

NOTES = [
    "Counts are incidents (an event reported by several jurisdictions counts once); an "
    "incident's date, countries, codes and severity are its own, from all of its accepted "
    "reports, whatever the query filters on.",
    "Countries, regions and cross-border are the affected jurisdictions, not the reporting "
    "regulator's.",
    "Counts reflect reporting capacity as much as harm: a jurisdiction that reports little is "
    "not a jurisdiction with little harm.",
    "Incidents whose date is known only to the year are counted apart in monthly and quarterly "
    "tables (year_only rows), never in the year's first period.",
]
CSV = MEDIA_TYPES["csv"]
PARQUET = MEDIA_TYPES["parquet"]


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


By = Annotated[
    str | None,
    QueryParameter(
        required=False, max_length=100, description="Up to 2 of: " + ", ".join(DIMENSIONS)
    ),
]
PeriodParameter = Annotated[Period, QueryParameter(required=False)]
From = Annotated[
    date | None,
    QueryParameter(name="from", required=False, description="First period (widened to its start)"),
]
To = Annotated[
    date | None,
    QueryParameter(
        name="to",
        required=False,
        description="Last period (default: the current one, marked partial; never a future one)",
    ),
]


async def _trend(
    request: Request[Any, Any, Any],
    principal: Principal | None,
    taxonomy: TaxonomyRegistry,
    filters: Filters,
    by: str | None,
    period: Period,
    start: date | None,
    end: date | None,
) -> tuple[list[str], Window, Source, TrendTable]:
    dimensions = parse_by(by)
    span = window(period, start, end)
    settings = request.app.state.settings
    # Polars and Arrow load on the first trend request only: a worker serving records alone
    # stays small (see bench: worker memory).
    from incidents.trends.columnar import copy_for
    from incidents.trends.copied import trend

    # A streaming replica's URL when one is configured and fresh enough (Database.read_url).
    organization = principal.organization_id if principal else None
    database = request.app.state.database
    source, table = await trend(
        await database.read_url(organization),
        principal,
        _aligned(filters, span),
        taxonomy,
        by=dimensions,
        span=span,
        k=settings.suppression_k,
        noise=settings.disclosure_noise,
        copy=copy_for(settings, database),
    )
    return dimensions, span, source, table


def _download(frame: Any, media: str, name: str, source: Source, by: list[str]) -> Response[bytes]:
    """The cells as a file, each code with its label beside it."""
    import polars as pl

    labels = source.reference.labels
    named = [
        pl.col(dimension)
        .replace_strict(labels[dimension], default=None)
        .alias(f"{dimension}_label")
        for dimension in by
        if dimension in labels
    ]
    if named:
        frame = frame.with_columns(named)
        order = []
        for column in frame.columns:
            if column.endswith("_label"):
                continue
            order.append(column)
            if f"{column}_label" in frame.columns:
                order.append(f"{column}_label")
        frame = frame.select(order)
    return Response(
        content=frame_bytes(frame, "csv" if media == CSV else "parquet"),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


_DEPENDENCIES = {"filters": Provide(provide_filters, sync_to_thread=False)}


class TrendController(Controller):
    path = "/api/v1"
    tags = ("Trends",)

    @get(
        "/trends",
        operation_id="GetTrends",
        summary="Incidents per period and dimension, with change; protected for all but the "
        "secretariat",
        dependencies=_DEPENDENCIES,
        responses=problems(400, 401, 422),
    )
    async def get_trends(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal | None],
        taxonomy: NamedDependency[TaxonomyRegistry],
        filters: NamedDependency[Filters],
        by: By = None,
        period: PeriodParameter = "quarter",
        start: From = None,
        end: To = None,
    ) -> TrendResponse:
        dimensions, span, source, table = await _trend(
            request, principal, taxonomy, filters, by, period, start, end
        )
        method = source.method
        every = source.reference.labels
        return TrendResponse(
            audience=source.audience,
            population=source.population,
            population_reasons=list(source.reasons),
            protection=Protection(k=method.k, noise=method.noise, description=method.describe())
            if method
            else None,
            period=period,
            by=dimensions,
            start=span.start,
            end=span.end,
            taxonomy_version=taxonomy.current.version,
            suppressed_cells=table.suppressed,
            cells=msgspec.convert(table.cells.to_dicts(), list[TrendCell]),
            totals=msgspec.convert(table.totals.to_dicts(), list[TrendCell]),
            labels={name: every[name] for name in dimensions if name in every},
            notes=NOTES,
        )

    @get(
        "/trends.csv",
        operation_id="GetTrendsCsv",
        summary="The cells of GetTrends as CSV (a `suppressed` column marks the band)",
        dependencies=_DEPENDENCIES,
        media_type=CSV,
        responses=download("csv", what="cell"),
    )
    async def get_trends_csv(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal | None],
        taxonomy: NamedDependency[TaxonomyRegistry],
        filters: NamedDependency[Filters],
        by: By = None,
        period: PeriodParameter = "quarter",
        start: From = None,
        end: To = None,
    ) -> Response[bytes]:
        dimensions, _, source, table = await _trend(
            request, principal, taxonomy, filters, by, period, start, end
        )
        return _download(table.cells, CSV, "trends.csv", source, dimensions)

    @get(
        "/trends.parquet",
        operation_id="GetTrendsParquet",
        summary="The cells of GetTrends as Parquet (a `suppressed` column marks the band)",
        dependencies=_DEPENDENCIES,
        media_type=PARQUET,
        responses=download("parquet", what="cell"),
    )
    async def get_trends_parquet(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal | None],
        taxonomy: NamedDependency[TaxonomyRegistry],
        filters: NamedDependency[Filters],
        by: By = None,
        period: PeriodParameter = "quarter",
        start: From = None,
        end: To = None,
    ) -> Response[bytes]:
        dimensions, _, source, table = await _trend(
            request, principal, taxonomy, filters, by, period, start, end
        )
        return _download(table.cells, PARQUET, "trends.parquet", source, dimensions)
