"""Trend metrics as pure pipelines: each takes and returns ``pl.LazyFrame``; nothing collects.

The input is one row per accepted report (see extract.py); metrics count incidents, never
reports: an incident counts once in a cell however many reports describe it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date

import polars as pl

from incidents.trends.periods import DIMENSIONS, PER_YEAR, Period

__all__ = ["DIMENSIONS", "PER_YEAR", "Period"]

INTERVAL: dict[str, str] = {"month": "1mo", "quarter": "1q", "year": "1y"}
# The incident column each dimension reads (lists are exploded; regions come via countries).
_LISTS = {"harm_domain", "harm_subdomain", "harm_type", "sector", "country"}
_FROM_COUNTRY = {"region", "sub_region", "development"}


def period_start(column: str, period: Period) -> pl.Expr:
    return pl.col(column).dt.truncate(INTERVAL[period])


def period_label(column: str, period: Period) -> pl.Expr:
    """2026-Q3, 2026-07 or 2026 for a period's start date."""
    year = pl.col(column).dt.year().cast(pl.String)
    if period == "year":
        return year
    if period == "quarter":
        return pl.concat_str([year, pl.lit("-Q"), pl.col(column).dt.quarter().cast(pl.String)])
    return pl.col(column).dt.strftime("%Y-%m")


def incidents(
    reports: pl.LazyFrame,
    current: Mapping[str, str],
    roots: Mapping[str, str],
    serious_from: int,
) -> pl.LazyFrame:
    """One row per incident from its reports, with every code resolved to the current version.

    ``current`` maps any code to the live code that replaced it (codes of every dimension share
    one mapping: they never collide across dimensions that are read together here); ``roots``
    maps a harm_domain code to its top-level domain; ``serious_from`` is the lowest severity
    ordinal that counts as serious.
    """

    def resolved(column: str) -> pl.Expr:
        if not current:  # no retired codes: nothing to rewrite
            return pl.col(column)
        return pl.col(column).list.eval(pl.element().replace(dict(current)))

    top_levels = list(set(roots.values()))
    rows = reports.with_columns(
        harm_domains=resolved("harm_domains"),
        harm_types=resolved("harm_types"),
        sectors=resolved("sectors"),
        severity=pl.col("severity").replace(dict(current)) if current else pl.col("severity"),
        _reports=pl.len().over("incident"),
    )
    # Most incidents have one report: their values are read off the row, list by list; only
    # incidents with several reports are grouped.
    # Lists stay in the order they were filed in (sorting 700,000 small lists costs more than all
    # the rest): they are only exploded and counted.
    single = rows.filter(pl.col("_reports") == 1).select(
        "incident",
        "occurred_on",
        country=pl.col("jurisdictions").list.unique(maintain_order=True),
        harm_domain=pl.col("harm_domains").list.eval(
            pl.element().replace(dict(roots)).unique(maintain_order=True)
        ),
        harm_subdomain=pl.col("harm_domains").list.eval(
            pl.element().filter(~pl.element().is_in(top_levels)).unique(maintain_order=True)
        ),
        harm_type=pl.col("harm_types").list.unique(maintain_order=True),
        sector=pl.col("sectors").list.unique(maintain_order=True),
        severity="severity",
        severity_ordinal="severity_ordinal",
        eu=pl.col("eu_categories").list.len() > 0,
    )
    several = (
        rows.filter(pl.col("_reports") > 1)
        .group_by("incident")
        .agg(
            occurred_on=pl.col("occurred_on").min(),
            country=pl.col("jurisdictions").explode().unique().sort(),
            harm_domain=pl.col("harm_domains").explode().replace(dict(roots)).unique().sort(),
            harm_subdomain=pl.col("harm_domains")
            .explode()
            .filter(~pl.col("harm_domains").explode().is_in(top_levels))
            .unique()
            .sort(),
            harm_type=pl.col("harm_types").explode().unique().sort(),
            sector=pl.col("sectors").explode().unique().sort(),
            severity=pl.col("severity").sort_by("severity_ordinal").last(),
            severity_ordinal=pl.col("severity_ordinal").max(),
            eu=pl.col("eu_categories").list.len().max() > 0,
        )
    )
    return pl.concat([single, several], how="vertical_relaxed").with_columns(
        cross_border=pl.col("country").list.len() > 1,
        serious=(pl.col("severity_ordinal") >= serious_from) | pl.col("eu"),
    )


def _exploded(
    incidents_lf: pl.LazyFrame, by: Sequence[str], countries: pl.LazyFrame, period: Period
) -> pl.LazyFrame:
    frame = incidents_lf.with_columns(period=period_start("occurred_on", period))
    for dimension in by:
        if dimension in _LISTS:
            frame = frame.explode(dimension)
        elif dimension in _FROM_COUNTRY:
            frame = (
                frame.with_columns(_country=pl.col("country"))
                .explode("_country")
                .join(
                    countries.select(pl.col("code").alias("_country"), pl.col(dimension)),
                    on="_country",
                    how="left",
                )
                .drop("_country")
                .unique(
                    subset=["incident", *[d for d in by if d != dimension], dimension, "period"]
                )
            )
    return frame.drop_nulls(list(by))


def counts(
    incidents_lf: pl.LazyFrame,
    by: Sequence[str],
    period: Period,
    start: date,
    end: date,
    countries: pl.LazyFrame,
) -> pl.LazyFrame:
    """Incidents per period x the ``by`` dimensions, with every period of [start, end] present
    (zero where nothing happened) for every category seen."""
    exploded = _exploded(incidents_lf, by, countries, period)
    counted = exploded.group_by(["period", *by]).agg(incidents=pl.col("incident").n_unique())
    grid = (
        pl.LazyFrame({"period": pl.date_range(start, end, interval=INTERVAL[period], eager=True)})
        .with_columns(period=period_start("period", period))
        .unique()
    )
    if by:
        grid = grid.join(counted.select(by).unique(), how="cross")
    return (
        grid.join(counted, on=["period", *by], how="left")
        .with_columns(incidents=pl.col("incidents").fill_null(0).cast(pl.Int64))
        .sort(["period", *by])
    )


def totals(incidents_lf: pl.LazyFrame, period: Period, start: date, end: date) -> pl.LazyFrame:
    """Distinct incidents per period (the denominator of every rate)."""
    return counts(incidents_lf, [], period, start, end, pl.LazyFrame({"code": []}))


def changes(counts_lf: pl.LazyFrame, by: Sequence[str], period: Period) -> pl.LazyFrame:
    """Each cell beside the same category's previous period and the same period a year before."""
    window = list(by) or None
    previous = pl.col("incidents").shift(1)
    year_ago = pl.col("incidents").shift(PER_YEAR[period])
    if window:
        previous, year_ago = (
            previous.over(window, order_by="period"),
            year_ago.over(window, order_by="period"),
        )
    else:
        previous, year_ago = (
            previous.over(pl.lit(0), order_by="period"),
            year_ago.over(pl.lit(0), order_by="period"),
        )
    return counts_lf.with_columns(previous=previous, year_ago=year_ago).with_columns(
        change_previous=_relative("incidents", "previous"),
        change_year_ago=_relative("incidents", "year_ago"),
    )


def _relative(now: str, before: str) -> pl.Expr:
    return (
        pl.when(pl.col(before) > 0)
        .then((pl.col(now) - pl.col(before)) / pl.col(before))
        .otherwise(None)
        .round(4)
    )


def emerging(
    counts_lf: pl.LazyFrame,
    totals_lf: pl.LazyFrame,
    dimension: str,
    target: date,
    *,
    trailing: int = 8,
    alpha: float = 0.05,
    minimum: int = 5,
) -> pl.LazyFrame:
    """Categories whose share of incidents in ``target`` is significantly above their share in
    the ``trailing`` periods before it.

    Test: one-sided two-proportion z-test (pooled), per category with at least ``minimum``
    incidents in the target period; Benjamini-Hochberg false discovery rate ``alpha`` across the
    categories tested. Assumes incidents are independent and reporting capacity steady across
    the window (a jump in reporting by one country shows up as emergence too).
    """
    ordered = totals_lf.sort("period").with_columns(index=pl.int_range(pl.len()))
    target_index = ordered.filter(pl.col("period") == target).select("index")
    window = (
        ordered.join(target_index.rename({"index": "target_index"}), how="cross")
        .filter(
            (pl.col("index") < pl.col("target_index"))
            & (pl.col("index") >= pl.col("target_index") - trailing)
        )
        .select("period")
    )
    target_total = totals_lf.filter(pl.col("period") == target).select(
        pl.col("incidents").alias("total")
    )
    trailing_total = totals_lf.join(window, on="period").select(
        pl.col("incidents").sum().alias("trailing_total")
    )
    now = counts_lf.filter(pl.col("period") == target).select(
        dimension, pl.col("incidents").alias("count")
    )
    before = (
        counts_lf.join(window, on="period")
        .group_by(dimension)
        .agg(trailing_count=pl.col("incidents").sum())
    )
    scored = (
        now.join(before, on=dimension, how="left")
        .with_columns(pl.col("trailing_count").fill_null(0))
        .join(target_total, how="cross")
        .join(trailing_total, how="cross")
        .with_columns(
            rate=pl.col("count") / pl.col("total"),
            trailing_rate=pl.col("trailing_count") / pl.col("trailing_total"),
            pooled=(pl.col("count") + pl.col("trailing_count"))
            / (pl.col("total") + pl.col("trailing_total")),
        )
        .with_columns(
            z=(pl.col("rate") - pl.col("trailing_rate"))
            / (
                pl.col("pooled")
                * (1 - pl.col("pooled"))
                * (1 / pl.col("total") + 1 / pl.col("trailing_total"))
            ).sqrt()
        )
        .with_columns(
            tested=(pl.col("count") >= minimum)
            & (pl.col("trailing_total") > 0)
            & pl.col("z").is_finite(),
            p_value=pl.col("z").map_elements(_upper_tail, return_dtype=pl.Float64),
        )
    )
    return _benjamini_hochberg(scored, alpha).sort(["emerging", "z"], descending=[True, True])


def _upper_tail(z: float) -> float:
    """P(Z >= z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2)) if math.isfinite(z) else 1.0


def _benjamini_hochberg(scored: pl.LazyFrame, alpha: float) -> pl.LazyFrame:
    tested = pl.col("tested")
    m = tested.sum()
    rank = pl.when(tested).then(pl.col("p_value").rank("ordinal").over("tested")).otherwise(None)
    adjusted = (
        scored.with_columns(rank=rank, m=m)
        .with_columns(raw_q=pl.col("p_value") * pl.col("m") / pl.col("rank"))
        .sort("p_value", descending=True)
        .with_columns(
            q_value=pl.when(tested).then(
                pl.col("raw_q").cum_min().over("tested").clip(upper_bound=1.0)
            )
        )
    )
    return adjusted.with_columns(emerging=tested & (pl.col("q_value") <= alpha)).drop(
        "raw_q", "m", "rank", "pooled"
    )


def cross_border(incidents_lf: pl.LazyFrame, period: Period) -> pl.LazyFrame:
    """Per period: incidents, cross-border incidents, and their share."""
    return (
        incidents_lf.with_columns(period=period_start("occurred_on", period))
        .group_by("period")
        .agg(incidents=pl.len(), cross_border=pl.col("cross_border").sum())
        .with_columns(share=(pl.col("cross_border") / pl.col("incidents")).round(4))
        .sort("period")
    )


def country_pairs(incidents_lf: pl.LazyFrame) -> pl.LazyFrame:
    """The pairs of countries that cross-border incidents join, by how many incidents."""
    members = (
        incidents_lf.filter(pl.col("cross_border"))
        .select("incident", pl.col("country").alias("a"))
        .explode("a")
    )
    return (
        members.join(members.rename({"a": "b"}), on="incident")
        .filter(pl.col("a") < pl.col("b"))
        .group_by(["a", "b"])
        .agg(incidents=pl.col("incident").n_unique())
        .sort(["incidents", "a", "b"], descending=[True, False, False])
    )


def severity_mix(incidents_lf: pl.LazyFrame, period: Period) -> pl.LazyFrame:
    """Incidents per period and severity, with the serious ones counted apart."""
    return (
        incidents_lf.with_columns(period=period_start("occurred_on", period))
        .group_by(["period", "severity", "severity_ordinal"])
        .agg(incidents=pl.len(), serious=pl.col("serious").sum())
        .sort(["period", "severity_ordinal"])
    )


DEADLINES = (2, 10, 15)


def timeliness(reports: pl.LazyFrame, period: Period) -> pl.LazyFrame:
    """Days from detection (or occurrence) to submission of regulators' reports, per period of
    submission, and the share filed within the EU AI Act Art. 73 deadlines of 2, 10, 15 days."""
    delays = reports.filter(
        (pl.col("filer_kind") == "regulator") & pl.col("submitted_at").is_not_null()
    ).with_columns(
        period=period_start("submitted_on", period),
        delay=(pl.col("submitted_on") - pl.coalesce("detected_on", "occurred_on")).dt.total_days(),
    )
    return (
        delays.group_by("period")
        .agg(
            reports=pl.len(),
            median_days=pl.col("delay").median(),
            **{
                f"within_{days}_days": (pl.col("delay") <= days).mean().round(4)
                for days in DEADLINES
            },
        )
        .sort("period")
    )


def coverage(reports: pl.LazyFrame, countries: pl.LazyFrame, period: Period) -> pl.LazyFrame:
    """Per period and UN region: how many of the region's countries filed at all, and which.

    Counts reflect reporting capacity as much as harm: a region with few reporting countries
    is not a region with few incidents.
    """
    filed = (
        reports.filter(pl.col("filer_kind") == "regulator")
        .with_columns(period=period_start("submitted_on", period))
        .select("period", pl.col("reporting_jurisdiction").alias("code"))
        .unique()
        .join(countries.select("code", "region"), on="code")
    )
    sizes = countries.filter(pl.col("region") != "").group_by("region").agg(countries=pl.len())
    return (
        filed.group_by(["period", "region"])
        .agg(reporting=pl.len(), which=pl.col("code").sort())
        .join(sizes, on="region")
        .with_columns(share=(pl.col("reporting") / pl.col("countries")).round(4))
        .sort(["period", "region"])
    )
