"""Trend tables for an audience: extract, derive incidents, count, protect; collect once."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import msgspec
import polars as pl

from incidents.members.schemas import Principal
from incidents.reports.filters import Filters, compile_filters
from incidents.taxonomy.service import Taxonomy, TaxonomyRegistry
from incidents.trends import extract, metrics, population
from incidents.trends.periods import Window, current_period
from incidents.trends.protection import FLAG, Method, protect

if TYPE_CHECKING:
    from incidents.trends.columnar import Copy

logger = logging.getLogger(__name__)

Audience = Literal["public", "member", "secretariat"]
MAX_CELLS = 100_000


def audience_of(principal: Principal | None) -> Audience:
    if principal is None:
        return "public"
    return "secretariat" if principal.kind == "secretariat" else "member"


class Reference(msgspec.Struct):
    """What metric functions need from the taxonomy, as plain values."""

    current: dict[str, str]
    roots: dict[str, str]
    serious_from: int
    countries: pl.LazyFrame
    labels: dict[str, dict[str, str]]
    categories: dict[str, list[str]]
    """Every category of each trend dimension, in the taxonomy's order (the ladder's for
    severity): tables list these, whatever the data holds."""


def reference_of(taxonomy: TaxonomyRegistry) -> Reference:
    """Codes of every loaded version resolved to the current one, domains to their roots."""
    now = taxonomy.current
    current: dict[str, str] = {}
    for version in taxonomy.versions.values():
        for name, dimension in version.dimensions.items():
            for code in dimension.codes:
                resolved = taxonomy.resolve(name, code)
                if resolved != code:
                    current[code] = resolved
    harm = now.dimension("harm_domain")
    roots = {code: harm.root_of(code) for code in harm.codes}
    severity = now.dimension("severity")
    ladder = sorted(severity.live, key=lambda code: (severity.ordinal(code) or 0, code))
    ordinals = [ordinal for code in ladder if (ordinal := severity.ordinal(code))]
    serious_from = ordinals[-2] if len(ordinals) > 1 else ordinals[-1]
    geography = now.document.geography
    countries = pl.LazyFrame(
        [msgspec.structs.asdict(country) for country in geography],
        schema_overrides={"global_south": pl.Boolean},
    )
    labels = {
        "harm_domain": _labels(now, "harm_domain"),
        "harm_subdomain": _labels(now, "harm_domain"),
        "harm_type": _labels(now, "harm_type"),
        "severity": _labels(now, "severity"),
        "sector": _labels(now, "sector"),
        "country": {code: country.name for code, country in now.countries.items()},
    }
    categories = {
        "harm_domain": _ordered(now, "harm_domain", roots=True),
        "harm_subdomain": _ordered(now, "harm_domain", roots=False),
        "harm_type": _ordered(now, "harm_type"),
        "sector": _ordered(now, "sector"),
        "severity": ladder,
        "country": [country.code for country in geography],
        "region": sorted({c.region for c in geography if c.region}),
        "sub_region": sorted({c.sub_region for c in geography if c.sub_region}),
        "development": sorted({c.development for c in geography if c.development}),
    }
    return Reference(current, roots, serious_from, countries, labels, categories)


def _labels(taxonomy: Taxonomy, dimension: str) -> dict[str, str]:
    found = taxonomy.dimension(dimension)
    return {code: found.label(code) for code in found.codes}


def _ordered(taxonomy: Taxonomy, dimension: str, *, roots: bool | None = None) -> list[str]:
    found = taxonomy.dimension(dimension)
    entries = sorted(
        (found.codes[code] for code in found.live), key=lambda entry: (entry.order, entry.code)
    )
    if roots is None:
        return [entry.code for entry in entries]
    return [entry.code for entry in entries if (entry.parent is None) == roots]


class Source(msgspec.Struct, kw_only=True):
    """The incidents a query counts (coarse filters applied), and how they are protected."""

    incidents: pl.LazyFrame
    reports: pl.LazyFrame
    """The population's reports, with brief columns when read for a brief."""
    audience: Audience
    population: population.Population
    reasons: tuple[str, ...]
    method: Method | None
    """None: exact figures (the secretariat, or a population the caller may see whole)."""
    reference: Reference


async def load(
    url: str,
    principal: Principal | None,
    filters: Filters,
    taxonomy: TaxonomyRegistry,
    *,
    k: int,
    noise: int,
    by: Sequence[str] | None = None,
    brief: bool = False,
    copy: Copy | None = None,
) -> Source:
    """One read of the registry: the reports a query may count (only the columns its
    dimensions and filters need, or, for a brief, every column with who filed and when).
    Every accepted report (the population "all") is read from the columnar ``copy`` when one
    is given: the same rows, without scanning the registry."""
    compile_filters(filters, taxonomy)  # unknown codes and countries are a 422, here
    scope = population.split(filters)
    counted, record = population.reports_counted(scope, principal, taxonomy)
    only = extract.columns_for(by or (), population.report_columns(scope.coarse))
    query = extract.report_rows(counted, record, only=only, brief=brief)
    frame = None
    if copy is not None and scope.population == "all":
        try:
            read = await copy.report_rows(list(query.selected_columns.keys()))
            frame = extract.completed(read).lazy()
        except OSError:
            # As for trends (copied.py): an unusable copy must not stop the reading.
            logger.exception(
                "trends copy in %s unusable; reading the registry", copy.store.directory
            )
    if frame is None:
        frame = await extract.read(url, query)
    reference = reference_of(taxonomy)
    audience = audience_of(principal)
    exact = audience == "secretariat" or scope.population == "visible"
    return Source(
        incidents=select_incidents(
            frame, scope.coarse, taxonomy, reference, None if brief else only
        ),
        reports=frame,
        audience=audience,
        population=scope.population,
        reasons=scope.reasons,
        method=None if exact else Method(k=k, noise=noise),
        reference=reference,
    )


def select_incidents(
    reports: pl.LazyFrame,
    coarse: Filters,
    taxonomy: TaxonomyRegistry,
    reference: Reference,
    read: Sequence[str] | None = None,
) -> pl.LazyFrame:
    """The incidents of ``reports`` whose attributes meet the coarse filters and which one of
    their reports matched the record-level ones (``read``: the report columns read)."""
    derived = metrics.incidents(
        reports, reference.current, reference.roots, reference.serious_from, read
    )
    return derived.filter(selected(coarse, taxonomy, reference))


def selected(coarse: Filters, taxonomy: TaxonomyRegistry, reference: Reference) -> pl.Expr:
    """The condition on incidents (metrics.incidents) that ``select_incidents`` applies."""
    conditions = [
        pl.col("matched"),
        *population.incident_conditions(coarse, taxonomy, reference.current),
    ]
    return pl.all_horizontal(conditions)


class TrendTable(msgspec.Struct, kw_only=True):
    cells: pl.DataFrame
    totals: pl.DataFrame
    suppressed: int


def table(source: Source, by: Sequence[str], span: Window) -> TrendTable:
    """Incidents per period x ``by`` with change against the previous period and a year ago,
    every category of the taxonomy listed, protected unless the figures are exact."""
    reference = source.reference
    check_size(reference, by, span)
    counted = metrics.counts(
        source.incidents,
        by,
        span.period,
        span.lookback,
        span.end,
        reference.countries,
        reference.categories,
    )
    totalled = metrics.totals(source.incidents, span.period, span.lookback, span.end)
    return finish(counted, totalled, source.method, by, span)


def check_size(reference: Reference, by: Sequence[str], span: Window) -> None:
    size = len(span.periods(with_years=True))
    for dimension in by:
        size *= len(reference.categories[dimension])
    if size > MAX_CELLS:
        from incidents.errors import FieldError, ValidationFailed

        raise ValidationFailed(
            "Too many cells",
            errors=[
                FieldError(
                    "by", f"This breakdown has {size:,} cells; at most {MAX_CELLS:,}: narrow it"
                )
            ],
        )


def finish(
    counted: pl.LazyFrame,
    totalled: pl.LazyFrame,
    method: Method | None,
    by: Sequence[str],
    span: Window,
) -> TrendTable:
    """Counted cells and totals (on the grid) protected, compared and collected."""
    cells, period_totals = pl.collect_all(
        [
            _shown(metrics.changes(protect(counted, method), by, span.period), span, by),
            _shown(metrics.changes(protect(totalled, method), [], span.period), span, []),
        ]
    )
    return TrendTable(cells=cells, totals=period_totals, suppressed=int(cells[FLAG].sum()))


def _shown(frame: pl.LazyFrame, span: Window, by: Sequence[str]) -> pl.LazyFrame:
    """The periods asked for (the year before was counted only for comparisons), labelled,
    the unfinished current period marked partial."""
    today_period = current_period(span.period)
    kept = frame.filter(
        pl.when(pl.col("year_only"))
        .then(pl.col("period").dt.year() >= span.start.year)
        .otherwise(pl.col("period") >= span.start)
    )
    return metrics.ordered(kept, by).with_columns(
        partial=pl.when(pl.col("year_only"))
        .then(pl.col("period").dt.year() == today_period.year)
        .otherwise(pl.col("period") == today_period),
        period=pl.when(pl.col("year_only"))
        .then(pl.col("period").dt.year().cast(pl.String))
        .otherwise(metrics.period_label("period", span.period)),
    )


async def trend(
    url: str,
    principal: Principal | None,
    filters: Filters,
    taxonomy: TaxonomyRegistry,
    *,
    by: Sequence[str],
    span: Window,
    k: int,
    noise: int,
) -> tuple[Source, TrendTable]:
    source = await load(url, principal, filters, taxonomy, k=k, noise=noise, by=by)
    return source, table(source, by, span)
