"""Trend metrics as pure pipelines: each takes and returns ``pl.LazyFrame``; nothing collects.

The input is one row per report of the population (see extract.py). Metrics count incidents,
never reports: an incident counts once in a cell however many reports describe it, and its
attributes (date, countries, codes, severity) are the incident's, from all of its reports in the
population, whatever a query filters on. Every count carries its cell key (protection.py).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date

import polars as pl

from incidents.reports.coded import CODED
from incidents.trends.periods import DIMENSIONS, PER_YEAR, Period
from incidents.trends.protection import KEY_SPACE, cell_key

__all__ = ["DIMENSIONS", "PER_YEAR", "Period"]

INTERVAL: dict[str, str] = {"month": "1mo", "quarter": "1q", "year": "1y"}
# The incident column each dimension reads (lists are exploded; regions come via countries).
_LISTS = {"harm_domain", "harm_subdomain", "harm_type", "sector", "country"}
_FROM_COUNTRY = {"region", "sub_region", "development"}
# Finer first: an incident's date is the earliest one given at the finest precision.
PRECISION_RANK = {"day": 0, "month": 1, "year": 2}
# Coded attributes kept as lists of every value an incident's reports give (severity and the
# harm domains are derived apart).
_CODED_LISTS = tuple(f.column for f in CODED if f.many and f.column != "harm_domains")
_CODED_SINGLES = tuple(f.column for f in CODED if not f.many and f.column != "severity")
_RENAMED = {"harm_types": "harm_type", "sectors": "sector", "harm_domains": "harm_codes"}


def attribute(column: str) -> str:
    """The incident attribute that holds a coded reports column's values (with ancestors for
    the harm domains; see ``incidents``)."""
    return _RENAMED.get(column, column)


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
    read: Collection[str] | None = None,
) -> pl.LazyFrame:
    """One row per incident from its reports, with every code resolved to the current version.

    ``current`` maps any code to the live code that replaced it; ``roots`` maps a harm_domain code
    to its top-level domain; ``serious_from`` is the lowest severity ordinal that counts as
    serious; ``read`` names the report columns that were read (None: all), and only the
    attributes they carry are derived (the others are empty). Attributes: the earliest date at
    the finest precision any report gives; the union of affected countries and of codes; the
    highest severity; an incident (rather than a hazard) when any report says harm happened;
    ``matched`` when any report matched the record-level filters.
    """
    replace = dict(current)
    columns = set(read) if read is not None else None

    def wanted(column: str) -> bool:
        return columns is None or column in columns

    top_levels = sorted(set(roots.values()))
    lists = [column for column in ("harm_domains", *_CODED_LISTS) if wanted(column)]
    singles = [column for column in ("severity", *_CODED_SINGLES) if wanted(column)]
    rows = reports.with_columns(
        *(pl.col(column).list.eval(pl.element().replace(replace)) for column in lists if replace),
        *(pl.col(column).replace(replace) for column in singles if replace),
        _rank=pl.col("occurred_precision").replace_strict(PRECISION_RANK, return_dtype=pl.Int8),
        _reports=pl.len().over("incident"),
    )

    def union(column: str) -> pl.Expr:
        return pl.col(column).explode().drop_nulls().unique().sort()

    # Per attribute: (from a lone report's row, aggregated over several reports).
    derived: dict[str, tuple[pl.Expr, pl.Expr]] = {}
    if wanted("affected"):
        derived["country"] = (
            pl.col("affected").list.unique(maintain_order=True),
            union("affected"),
        )
    if wanted("harm_domains"):
        codes = pl.col("harm_domains").explode().drop_nulls()
        derived["harm_codes"] = (
            pl.col("harm_domains").list.unique(maintain_order=True),
            union("harm_domains"),
        )
        derived["harm_domain"] = (
            pl.col("harm_domains").list.eval(
                pl.element().replace(dict(roots)).unique(maintain_order=True)
            ),
            codes.replace(dict(roots)).unique().sort(),
        )
        derived["harm_subdomain"] = (
            pl.col("harm_domains").list.eval(
                pl.element().filter(~pl.element().is_in(top_levels)).unique(maintain_order=True)
            ),
            codes.filter(~codes.is_in(top_levels)).unique().sort(),
        )
    for column in _CODED_LISTS:
        if wanted(column):
            derived[_RENAMED.get(column, column)] = (
                pl.col(column).list.unique(maintain_order=True),
                union(column),
            )
    for column in _CODED_SINGLES:
        if wanted(column):
            derived[column] = (
                pl.concat_list(pl.col(column)).list.drop_nulls(),
                pl.col(column).drop_nulls().unique().sort(),
            )
    if wanted("severity"):
        derived["severity"] = (
            pl.col("severity"),
            pl.col("severity").sort_by("severity_ordinal").last(),
        )
    if wanted("severity_ordinal"):
        derived["severity_ordinal"] = (
            pl.col("severity_ordinal"),
            pl.col("severity_ordinal").max(),
        )
    # Most incidents have one report: their values are read off the row; only incidents with
    # several reports are grouped. Lists stay in filing order (sorting 700,000 small lists costs
    # more than all the rest): they are only exploded and counted.
    single = rows.filter(pl.col("_reports") == 1).select(
        "incident",
        "incident_key",
        "matched",
        "occurred_on",
        "occurred_precision",
        "event_type",
        **{name: pair[0] for name, pair in derived.items()},
    )
    finest = pl.col("_rank") == pl.col("_rank").min()
    several = (
        rows.filter(pl.col("_reports") > 1)
        .group_by("incident")
        .agg(
            incident_key=pl.col("incident_key").first(),
            matched=pl.col("matched").any(),
            occurred_on=pl.col("occurred_on").filter(finest).min(),
            occurred_precision=pl.col("occurred_precision").filter(finest).first(),
            event_type=pl.when((pl.col("event_type") == "incident").any())
            .then(pl.lit("incident"))
            .otherwise(pl.lit("hazard")),
            **{name: pair[1] for name, pair in derived.items()},
        )
    )
    empty = {
        name: expression for name, expression in _EMPTY_ATTRIBUTES.items() if name not in derived
    }
    return (
        pl.concat([single, several], how="vertical_relaxed")
        .with_columns(**empty)
        .with_columns(
            cross_border=pl.col("country").list.len() > 1,
            serious=(pl.col("severity_ordinal") >= serious_from)
            | (pl.col("eu_categories").list.len() > 0),
        )
    )


_EMPTY_LIST = pl.lit([], dtype=pl.List(pl.String))
# What an incident holds for an attribute whose reports' column was not read.
_EMPTY_ATTRIBUTES: dict[str, pl.Expr] = {
    "country": _EMPTY_LIST,
    "harm_codes": _EMPTY_LIST,
    "harm_domain": _EMPTY_LIST,
    "harm_subdomain": _EMPTY_LIST,
    "harm_type": _EMPTY_LIST,
    "sector": _EMPTY_LIST,
    "eu_categories": _EMPTY_LIST,
    "affected_groups": _EMPTY_LIST,
    "ai_tasks": _EMPTY_LIST,
    **dict.fromkeys(_CODED_SINGLES, _EMPTY_LIST),
    "severity": pl.lit(None, dtype=pl.String),
    "severity_ordinal": pl.lit(None, dtype=pl.Int16),
}


def dated(incidents_lf: pl.LazyFrame, period: Period) -> pl.LazyFrame:
    """Each incident's period; ``year_only`` for incidents whose date is known only to the year
    in a month or quarter table: they are counted apart, in their year, never in its first
    quarter or month."""
    coarse = pl.col("occurred_precision") == "year"
    if period == "year":
        year_only: pl.Expr = pl.lit(False)
    elif period == "quarter":
        year_only = coarse
    else:
        year_only = coarse
    return incidents_lf.with_columns(
        year_only=year_only,
        period=pl.when(year_only)
        .then(period_start("occurred_on", "year"))
        .otherwise(period_start("occurred_on", period)),
    )


def _exploded(
    incidents_lf: pl.LazyFrame, by: Sequence[str], countries: pl.LazyFrame, period: Period
) -> pl.LazyFrame:
    frame = dated(incidents_lf, period)
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
            )
    keys = ["period", "year_only", *by]
    return frame.drop_nulls(list(by)).unique(subset=["incident", *keys])


def grid(
    period: Period,
    start: date,
    end: date,
    by: Sequence[str],
    categories: Mapping[str, Sequence[str]],
) -> pl.LazyFrame:
    """Every period of [start, end] (and, in month or quarter tables, every year's "date
    known only to the year" row) times every category of the taxonomy: cells come from the
    taxonomy and the calendar, never from the data, so a category's presence tells nothing."""
    periods = pl.DataFrame(
        {"period": pl.date_range(start, end, interval=INTERVAL[period], eager=True)}
    ).with_columns(year_only=pl.lit(False))
    if period != "year":
        years = pl.DataFrame(
            {"period": [date(year, 1, 1) for year in range(start.year, end.year + 1)]}
        ).with_columns(year_only=pl.lit(True))
        periods = pl.concat([periods, years])
    frame = periods.lazy()
    for dimension in by:
        values = pl.LazyFrame(
            {dimension: list(categories[dimension])}, schema={dimension: pl.String}
        ).with_row_index(rank(dimension))
        frame = frame.join(values, how="cross")
    return frame


def rank(dimension: str) -> str:
    """The column holding a category's position in the taxonomy (the ladder for severity)."""
    return f"_{dimension}_rank"


def ordered(frame: pl.LazyFrame, by: Sequence[str]) -> pl.LazyFrame:
    """Periods in order (each year's "known only to the year" row after its periods), then
    categories in the taxonomy's order, not the alphabet's."""
    return frame.sort(
        [pl.col("period").dt.year(), "year_only", "period", *(rank(d) for d in by)]
    ).drop([rank(d) for d in by])


def counts(
    incidents_lf: pl.LazyFrame,
    by: Sequence[str],
    period: Period,
    start: date,
    end: date,
    countries: pl.LazyFrame,
    categories: Mapping[str, Sequence[str]],
) -> pl.LazyFrame:
    """Incidents (and the cell key) per period x the ``by`` dimensions, for every period of
    [start, end] and every category of the taxonomy (zero where nothing happened)."""
    return on_grid(cells(incidents_lf, by, countries, period), by, period, start, end, categories)


def cells(
    incidents_lf: pl.LazyFrame, by: Sequence[str], countries: pl.LazyFrame, period: Period
) -> pl.LazyFrame:
    """The cells incidents fall in (period x ``by``), each with its count and cell key: only
    the cells some incident is in. Cells of disjoint sets of incidents add up (``merged``)."""
    exploded = _exploded(incidents_lf, by, countries, period)
    return exploded.group_by(["period", "year_only", *by]).agg(
        incidents=pl.len().cast(pl.Int64), key=cell_key(pl.col("incident_key"))
    )


def merged(parts: Sequence[pl.LazyFrame], by: Sequence[str]) -> pl.LazyFrame:
    """The cells of the union of disjoint sets of incidents from each set's ``cells``: counts
    add, and so do keys (a cell's key is its records' keys summed modulo 2**32)."""
    if not parts:
        schema = {"period": pl.Date, "year_only": pl.Boolean, **dict.fromkeys(by, pl.String)}
        return pl.LazyFrame(schema={**schema, "incidents": pl.Int64, "key": pl.Int64})
    return (
        pl.concat(list(parts), how="vertical_relaxed")
        .group_by(["period", "year_only", *by])
        .agg(pl.col("incidents").sum(), pl.col("key").sum() % KEY_SPACE)
    )


def on_grid(
    counted: pl.LazyFrame,
    by: Sequence[str],
    period: Period,
    start: date,
    end: date,
    categories: Mapping[str, Sequence[str]],
) -> pl.LazyFrame:
    """``cells`` on every period of [start, end] and every category (zero where none)."""
    keys = ["period", "year_only", *by]
    return (
        grid(period, start, end, by, categories)
        .join(counted, on=keys, how="left")
        .with_columns(pl.col("incidents").fill_null(0), pl.col("key").fill_null(0))
    )


def totals(incidents_lf: pl.LazyFrame, period: Period, start: date, end: date) -> pl.LazyFrame:
    """Distinct incidents per period (the denominator of every rate), with their cell key."""
    return counts(incidents_lf, [], period, start, end, pl.LazyFrame({"code": []}), {})


def changes(counts_lf: pl.LazyFrame, by: Sequence[str], period: Period) -> pl.LazyFrame:
    """Each cell beside the same category's previous period and the same period a year before,
    from the figures as published (null where a figure is the band). A "known only to the
    year" row compares with the year before's such row."""
    window = [*by, "year_only"]
    regular = pl.col("year_only").not_()
    previous = pl.when(regular).then(pl.col("incidents").shift(1).over(window, order_by="period"))
    year_ago = (
        pl.when(regular)
        .then(pl.col("incidents").shift(PER_YEAR[period]).over(window, order_by="period"))
        .otherwise(pl.col("incidents").shift(1).over(window, order_by="period"))
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


def cross_border(incidents_lf: pl.LazyFrame) -> pl.LazyFrame:
    """Incidents whose affected countries are more than one, with their cell key."""
    return incidents_lf.filter(pl.col("cross_border")).select(
        incidents=pl.len().cast(pl.Int64), key=cell_key(pl.col("incident_key"))
    )


def serious(incidents_lf: pl.LazyFrame) -> pl.LazyFrame:
    """Serious incidents (top of the severity ladder, or an EU Art. 3(49) category)."""
    return incidents_lf.filter(pl.col("serious")).select(
        incidents=pl.len().cast(pl.Int64), key=cell_key(pl.col("incident_key"))
    )


def country_pairs(incidents_lf: pl.LazyFrame) -> pl.LazyFrame:
    """The pairs of affected countries that cross-border incidents join, by how many."""
    members = (
        incidents_lf.filter(pl.col("cross_border"))
        .select("incident", "incident_key", pl.col("country").alias("a"))
        .explode("a")
    )
    return (
        members.join(members.select("incident", pl.col("a").alias("b")), on="incident")
        .filter(pl.col("a") < pl.col("b"))
        .group_by(["a", "b"])
        .agg(incidents=pl.len().cast(pl.Int64), key=cell_key(pl.col("incident_key")))
        .sort(["incidents", "a", "b"], descending=[True, False, False])
    )


DEADLINES = (2, 10, 15)


def timeliness(reports: pl.LazyFrame, period: Period, start: date) -> pl.LazyFrame:
    """Regulators' reports submitted in the period: how many, the median days from detection
    (or occurrence) to submission, and how many within the EU AI Act Art. 73 deadlines of 2, 10
    and 15 days; each count with the cell key of its reports."""
    delays = reports.filter(
        (pl.col("filer_kind") == "regulator")
        & pl.col("submitted_at").is_not_null()
        & (period_start("submitted_on", period) == start)
    ).with_columns(
        delay=(pl.col("submitted_on") - pl.coalesce("detected_on", "occurred_on")).dt.total_days(),
    )
    within = {f"within_{days}_days": (pl.col("delay") <= days) for days in DEADLINES}
    return delays.select(
        reports=pl.len().cast(pl.Int64),
        reports_key=cell_key(pl.col("report_key")),
        median_days=pl.col("delay").median(),
        **{name: condition.sum().cast(pl.Int64) for name, condition in within.items()},
        **{
            f"{name}_key": cell_key(pl.col("report_key").filter(condition))
            for name, condition in within.items()
        },
    )


def filings(reports: pl.LazyFrame, period: Period, start: date) -> pl.LazyFrame:
    """Per reporting jurisdiction: regulators' reports submitted in the period (with their cell
    key), and whether any of them is public (accepted TLP:CLEAR, readable by anyone)."""
    return (
        reports.filter(
            (pl.col("filer_kind") == "regulator")
            & pl.col("reporting_jurisdiction").is_not_null()
            & pl.col("submitted_on").is_not_null()
            & (period_start("submitted_on", period) == start)
        )
        .group_by(pl.col("reporting_jurisdiction").alias("code"))
        .agg(
            reports=pl.len().cast(pl.Int64),
            key=cell_key(pl.col("report_key")),
            public=(pl.col("sharing") == "TLP:CLEAR").any(),
        )
        .sort("code")
    )
