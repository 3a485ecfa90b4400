"""The book of a brief's figures: each published count a condition on incidents (or on reports,
for timeliness and coverage), counted over the one read of the registry and protected one by
one (trends/protection.py), and where each figure stands in the brief.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

import msgspec
import polars as pl

from incidents.briefs.schemas import Figure
from incidents.trends.periods import PER_YEAR, Period, shift
from incidents.trends.protection import KEY_SPACE, Method, published

# Periods the trend table shows, the tested one included.
TREND_PERIODS = {"month": 12, "quarter": 8, "year": 5}
# Periods before the tested one that emerging risks compare it with.
EMERGING_HISTORY = {"month": 24, "quarter": 12, "year": 6}
TOP_PAIRS = 10
TOP_COUNTRIES = 15
ALPHA = 0.05
"""The false discovery rate at which emerging risks are flagged."""

Universe = Literal["incidents", "reports"]


class Condition(msgspec.Struct, frozen=True):
    universe: Universe
    holds: pl.Expr
    """True for the records the figure counts."""


class Book:
    """The conditions of every figure a brief may publish, evaluated together, and which of
    them are shown (the others only take part in the audit or choose what is shown)."""

    def __init__(self) -> None:
        self.conditions: dict[str, Condition] = {}
        self.shown: set[str] = set()

    def add(self, name: str, universe: Universe, condition: pl.Expr, *, shown: bool = True) -> str:
        self.conditions.setdefault(name, Condition(universe, condition))
        if shown:
            self.shown.add(name)
        return name

    def names(self, universe: Universe) -> list[str]:
        return [name for name, kept in self.conditions.items() if kept.universe == universe]

    def membership(self, universe: Universe, frame: pl.DataFrame) -> pl.DataFrame:
        """One boolean column per figure of ``universe``: which records of ``frame`` it counts
        (with each record's ``_key``)."""
        names = self.names(universe)
        if not names:
            return pl.DataFrame()
        return frame.select(
            pl.col("_key"),
            *(self.conditions[name].holds.fill_null(False).alias(name) for name in names),
        )


def count(membership: pl.DataFrame, method: Method) -> dict[str, Figure]:
    """The protected figure of every column of ``membership`` (exact counts never leave)."""
    names = [name for name in membership.columns if name != "_key"]
    if not names:
        return {}
    sums = membership.select(
        *(pl.col(name).sum().cast(pl.Int64).alias(name) for name in names)
    ).row(0)
    keys = membership.select(
        *(
            (pl.col("_key").filter(pl.col(name)).cast(pl.Int64).sum() % KEY_SPACE).alias(name)
            for name in names
        )
    ).row(0)
    table = pl.DataFrame(
        {"name": names, "n": list(sums), "key": [int(key or 0) for key in keys]},
        schema={"name": pl.String, "n": pl.Int64, "key": pl.Int64},
    )
    value, banded = published(pl.col("n"), pl.col("key"), method)
    shown = table.with_columns(value=value, banded=banded)
    return {
        row["name"]: Figure(value=row["value"], status="below_k" if row["banded"] else "published")
        for row in shown.iter_rows(named=True)
    }


def period_label(kind: Period, day: date) -> str:
    if kind == "year":
        return str(day.year)
    if kind == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return f"{day.year}-{day.month:02d}"


class Calendar(msgspec.Struct, frozen=True, kw_only=True):
    """The periods a brief shows or compares with, by their first day."""

    kind: Period
    start: date
    """The period the brief is about."""
    previous: date
    year_ago: date
    trend: list[date]
    """The trend table's periods, oldest first, ending with ``start``."""
    history: list[date]
    """The periods emerging risks compare ``start`` with, oldest first."""

    @classmethod
    def of(cls, kind: Period, start: date) -> Calendar:
        return cls(
            kind=kind,
            start=start,
            previous=shift(start, kind, -1),
            year_ago=shift(start, kind, -PER_YEAR[kind]),
            trend=[shift(start, kind, -back) for back in range(TREND_PERIODS[kind] - 1, -1, -1)],
            history=[shift(start, kind, -back) for back in range(EMERGING_HISTORY[kind], 0, -1)],
        )

    @property
    def earliest(self) -> date:
        return min(self.history[0], self.year_ago, self.trend[0])

    def label(self, day: date) -> str:
        return period_label(self.kind, day)


class Geography(msgspec.Struct):
    """One geographic breakdown of the period's incidents."""

    title: str
    dimension: Literal["region", "sub_region", "country"]
    values: list[str]
    year_ago: bool
    """Compared with the same period a year before."""


class Layout(msgspec.Struct, kw_only=True):
    """Which figure of the book stands where in the brief's tables and headline."""

    calendar: Calendar
    label: str
    """The brief's period as asked for (its tables' and figures' name for it)."""
    year_only: list[str]
    cross_border: str
    serious: str
    domains: list[str]
    severities: list[str]
    geography: list[Geography]
    subdomains: list[str]
    history_total: str
    timely: dict[str, str]
    """``reports`` and ``within_<days>_days``: the figures of regulators' filings."""
    jurisdictions: list[str]
    """Every jurisdiction that filed in the period, named or not."""
    top_pairs: list[str] = []
    countries_shown: list[str] = []
    """Of all members' brief: the countries with the most incidents (others list them all)."""
