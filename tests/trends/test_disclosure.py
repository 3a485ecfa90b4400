"""Disclosure control, as properties over random tables and random registries (hypothesis):
no small cell is published, none can be recovered from totals, and none by subtracting a query
with one filter fewer."""

from __future__ import annotations

import itertools
from datetime import date

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incidents.trends import disclosure
from incidents.trends.periods import Window
from incidents.trends.service import Input, Reference, table
from tests.trends.frames import COUNTRIES, ROOTS, frame, report

K = 5
CATEGORIES = ["a", "b", "c", "d", "e", "f"]


@st.composite
def tables(draw: st.DrawFn) -> pl.DataFrame:
    periods = draw(st.integers(1, 3))
    width = draw(st.integers(1, len(CATEGORIES)))
    values = draw(st.lists(st.integers(0, 14), min_size=periods * width, max_size=periods * width))
    rows = [
        {
            "period": period,
            "category": CATEGORIES[column],
            "incidents": values[period * width + column],
        }
        for period in range(periods)
        for column in range(width)
    ]
    return pl.DataFrame(rows)


def _protected(raw: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    cells = disclosure.protect(raw, ["period", "category"], ["category"], K)
    totals = raw.group_by("period").agg(pl.col("incidents").sum())
    published_totals = disclosure.protect_totals(totals, K, cells)
    return cells, published_totals


@settings(max_examples=300, deadline=None)
@given(tables())
def test_no_small_cell_is_published(raw: pl.DataFrame) -> None:
    cells, totals = _protected(raw)
    for value in [*cells["incidents"].to_list(), *totals["incidents"].to_list()]:
        assert value is None or value == 0 or value >= K


@settings(max_examples=300, deadline=None)
@given(tables())
def test_suppressed_cells_cannot_be_recovered_from_the_totals(raw: pl.DataFrame) -> None:
    cells, totals = _protected(raw)
    published_total = dict(
        zip(totals["period"].to_list(), totals["incidents"].to_list(), strict=True)
    )
    for period, line in cells.group_by("period"):
        total = published_total[period[0]]
        hidden = line.filter(pl.col("suppressed"))
        if hidden.is_empty() or total is None:
            continue
        remainder = total - sum(value for value in line["incidents"].to_list() if value is not None)
        # What an attacker knows: each hidden cell is at least 1 and they add up to `remainder`.
        # Every hidden cell must still have more than one possible value.
        count = hidden.height
        for position in range(count):
            possible = {
                values[position]
                for values in itertools.product(range(1, remainder + 1), repeat=count)
                if sum(values) == remainder
            }
            assert len(possible) > 1, (line, total)


def _input(rows: list[dict[str, object]], filters: int) -> Input:
    reference = Reference({}, ROOTS, 4, COUNTRIES, {})
    flagged = frame(*rows).with_columns(
        [pl.Series(f"filter_{i}", [row[f"filter_{i}"] for row in rows]) for i in range(filters)]
    )
    return Input(frame=flagged, audience="public", variants=filters, reference=reference)


@st.composite
def registries(draw: st.DrawFn) -> tuple[list[dict[str, object]], int]:
    filters = draw(st.integers(1, 3))
    count = draw(st.integers(1, 60))
    rows = []
    for number in range(count):
        row = report(
            f"i{number}",
            date(2026, draw(st.sampled_from([1, 4, 7])), 10),
            domains=draw(st.sampled_from([["1", "1.1"], ["1", "1.2"], ["7", "7.3"], ["7", "7.6"]])),
            country=draw(st.sampled_from(["KE", "BR", "NG", "NO"])),
        )
        for i in range(filters):
            row[f"filter_{i}"] = draw(st.booleans())
        rows.append(row)
    return rows, filters


SPAN = Window(
    period="quarter", start=date(2026, 1, 1), end=date(2026, 7, 1), lookback=date(2025, 1, 1)
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(registries(), st.sampled_from([["harm_subdomain"], ["region"], []]))
def test_two_queries_differing_by_one_filter_reveal_no_small_count(
    registry: tuple[list[dict[str, object]], int], by: list[str]
) -> None:
    rows, filters = registry
    narrow = table(_input(rows, filters), by, SPAN, K)
    for dropped in range(filters):
        kept = [{**row, f"filter_{dropped}": True} for row in rows]
        wider = table(_input(kept, filters), by, SPAN, K)
        keys = ["period", *by]
        for name in ("cells", "totals"):
            mine = getattr(narrow, name)
            theirs = getattr(wider, name)
            joined = mine.join(theirs, on=keys if name == "cells" else ["period"], suffix="_wider")
            for value, other in zip(
                joined["incidents"].to_list(), joined["incidents_wider"].to_list(), strict=True
            ):
                if value is not None and other is not None:
                    assert other - value == 0 or other - value >= K, (name, value, other)
