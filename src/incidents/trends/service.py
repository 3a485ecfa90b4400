"""Trend tables for an audience: extract, compute, protect, collect once at the edge."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import msgspec
import polars as pl
from sqlalchemy import ColumnElement

from incidents.members.schemas import Principal
from incidents.reports.filters import Filters, compile_filters
from incidents.taxonomy.service import Taxonomy, TaxonomyRegistry
from incidents.trends import disclosure, extract, metrics
from incidents.trends.periods import Window

Audience = Literal["public", "member", "secretariat"]


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
    ordinals = sorted(
        ordinal
        for code in now.dimension("severity").live
        if (ordinal := now.dimension("severity").ordinal(code))
    )
    serious_from = ordinals[-2] if len(ordinals) > 1 else ordinals[-1]
    countries = pl.LazyFrame(
        [msgspec.structs.asdict(country) for country in now.document.geography],
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
    return Reference(current, roots, serious_from, countries, labels)


def _labels(taxonomy: Taxonomy, dimension: str) -> dict[str, str]:
    found = taxonomy.dimension(dimension)
    return {code: found.label(code) for code in found.codes}


class TrendTable(msgspec.Struct, kw_only=True):
    cells: pl.DataFrame
    totals: pl.DataFrame
    audience: Audience
    suppressed: int


def _filter_conditions(filters: Filters, taxonomy: TaxonomyRegistry) -> list[ColumnElement[bool]]:
    """One SQL condition per filter the query sets, so that each can be dropped in turn."""
    single: list[ColumnElement[bool]] = []
    for field in Filters.__struct_fields__:
        value = getattr(filters, field)
        if value in (None, ()) or field == "status":
            continue
        if field == "codes":
            for name, values in value:
                single.extend(compile_filters(Filters(codes=((name, values),)), taxonomy))
            continue
        single.extend(compile_filters(Filters(**{field: value}), taxonomy))
    return single


class Input(msgspec.Struct, kw_only=True):
    """The extracted reports and how to read them: the rows a query counts, and for audiences
    under disclosure control, the rows of each variant with one filter fewer."""

    frame: pl.LazyFrame
    audience: Audience
    variants: int
    reference: Reference

    def rows(self, dropped: int | None = None) -> pl.LazyFrame:
        flags = [pl.col(f"filter_{i}") for i in range(self.variants) if i != dropped]
        return self.frame.filter(pl.all_horizontal(flags)) if flags else self.frame

    def incidents(self, dropped: int | None = None) -> pl.LazyFrame:
        reference = self.reference
        return metrics.incidents(
            self.rows(dropped), reference.current, reference.roots, reference.serious_from
        )


async def load(
    url: str,
    audience: Audience,
    filters: Filters,
    taxonomy: TaxonomyRegistry,
    *,
    brief: bool = False,
    by: Sequence[str] | None = None,
) -> Input:
    """One read of the registry for a trend by ``by`` (only the columns those dimensions need)
    or (``brief``: every column, with who filed and when) a brief."""
    statuses = filters.status if audience == "secretariat" and filters.status else ("accepted",)
    conditions = _filter_conditions(filters, taxonomy)
    only = extract.columns_for(by) if by is not None and not brief else None
    if audience == "secretariat":
        query = extract.report_rows(statuses, conditions, brief=brief, only=only)
        frame = await extract.read(url, query)
        return Input(frame=frame, audience=audience, variants=0, reference=reference_of(taxonomy))
    # Each filter as a column: the query, and each query with one filter fewer, from one read.
    query = extract.report_rows(statuses, [], conditions, brief=brief, only=only)
    frame = await extract.read(url, query)
    return Input(
        frame=frame, audience=audience, variants=len(conditions), reference=reference_of(taxonomy)
    )


def table(source: Input, by: Sequence[str], span: Window, k: int) -> TrendTable:
    """Incidents per period x ``by`` with change against the previous period and a year ago,
    protected for every audience but the secretariat."""
    reference = source.reference

    def counted(dropped: int | None = None) -> pl.LazyFrame:
        lf = source.incidents(dropped)
        return metrics.counts(lf, by, span.period, span.lookback, span.end, reference.countries)

    def totalled(dropped: int | None = None) -> pl.LazyFrame:
        return metrics.totals(source.incidents(dropped), span.period, span.lookback, span.end)

    protected = source.audience != "secretariat"
    plans = [counted(), totalled()]
    if protected:
        for dropped in range(source.variants):
            plans += [counted(dropped), totalled(dropped)]
    cells, period_totals, *variants = pl.collect_all(plans)
    keys = ["period", *by]
    if protected:
        cells = disclosure.protect(cells, keys, list(by), k, without_each_filter=variants[0::2])
        period_totals = disclosure.protect_totals(
            period_totals, k, cells, without_each_filter=variants[1::2]
        )
        cells = cells.drop(disclosure.EXPOSED, strict=False)
    else:
        cells = cells.with_columns(pl.lit(False).alias(disclosure.FLAG))
        period_totals = period_totals.with_columns(pl.lit(False).alias(disclosure.FLAG))
    changed = metrics.changes(cells.lazy(), by, span.period).collect()
    shown = changed.filter(pl.col("period") >= span.start)
    return TrendTable(
        cells=shown.with_columns(period=metrics.period_label("period", span.period)),
        totals=period_totals.filter(pl.col("period") >= span.start).with_columns(
            period=metrics.period_label("period", span.period)
        ),
        audience=source.audience,
        suppressed=int(shown[disclosure.FLAG].sum()),
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
) -> TrendTable:
    source = await load(url, audience_of(principal), filters, taxonomy, by=by)
    return table(source, by, span, k)


def as_rows(table: pl.DataFrame) -> list[dict[str, Any]]:
    return table.to_dicts()
