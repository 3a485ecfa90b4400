"""Each metric on a small hand-built frame, compared whole with assert_frame_equal."""

from __future__ import annotations

from datetime import date

import polars as pl
from polars.testing import assert_frame_equal

from incidents.trends import metrics
from tests.trends.frames import CATEGORIES, COUNTRIES, ROOTS, frame, report


def incidents(*rows: dict[str, object]) -> pl.LazyFrame:
    return metrics.incidents(frame(*rows), {}, ROOTS, serious_from=4)


def test_an_incident_is_counted_once_with_the_attributes_of_all_its_reports() -> None:
    result = (
        incidents(
            report("a", date(2026, 7, 3), country="KE", affected=["US"], domains=["1", "1.1"]),
            report(
                "a",
                date(2026, 7, 1),
                country="BR",
                affected=["BR"],
                domains=["1", "1.2"],
                severity=("serious_incident", 4),
                event_type="hazard",
            ),
            report("b", date(2026, 4, 2), domains=["7", "7.3"], severity=("hazard", 1)),
        )
        .sort("incident")
        .collect()
    )
    expected = pl.DataFrame(
        {
            "incident": [b"a", b"b"],
            "occurred_on": [date(2026, 7, 1), date(2026, 4, 2)],
            # Affected countries only: Kenya's regulator reported an event in the United States.
            "country": [["BR", "US"], ["KE"]],
            "harm_domain": [["1"], ["7"]],
            "harm_subdomain": [["1.1", "1.2"], ["7.3"]],
            "severity": ["serious_incident", "hazard"],
            "severity_ordinal": [4, 1],
            "event_type": ["incident", "incident"],
            "cross_border": [True, False],
            "serious": [True, False],
        },
        schema_overrides={"severity_ordinal": pl.Int16},
    )
    assert_frame_equal(result.select(expected.columns), expected)


def test_the_date_is_the_earliest_at_the_finest_precision_given() -> None:
    result = incidents(
        report("a", date(2023, 1, 1), precision="year"),
        report("a", date(2023, 5, 1), precision="month"),
        report("a", date(2023, 11, 20)),
        report("a", date(2023, 8, 9)),
        report("b", date(2024, 1, 1), precision="year"),
        report("b", date(2024, 1, 1), precision="year"),
    ).sort("incident")
    rows = result.select("occurred_on", "occurred_precision").collect().rows()
    assert rows == [(date(2023, 8, 9), "day"), (date(2024, 1, 1), "year")]


def test_a_filter_does_not_change_what_an_incident_is() -> None:
    """The record-level match picks incidents; their attributes come from all their reports."""
    result = incidents(
        report("a", date(2026, 7, 3), country="KE", severity=("incident", 3), matched=True),
        report(
            "a", date(2026, 7, 3), country="BR", severity=("serious_incident", 4), matched=False
        ),
    ).collect()
    assert result["matched"].to_list() == [True]
    assert result["severity"].to_list() == ["serious_incident"]
    assert result["country"].to_list() == [["BR", "KE"]]


def test_retired_codes_count_under_their_replacement() -> None:
    lf = metrics.incidents(
        frame(report("a", date(2026, 7, 3), domains=["1", "1.9"])), {"1.9": "1.1"}, ROOTS, 4
    )
    assert lf.collect()["harm_subdomain"].to_list() == [["1.1"]]


def test_every_category_of_the_taxonomy_is_listed_whatever_the_data() -> None:
    lf = incidents(report("a", date(2026, 7, 3), severity=("disaster", 5)))
    counted = metrics.counts(
        lf, ["severity"], "quarter", date(2026, 7, 1), date(2026, 7, 1), COUNTRIES, CATEGORIES
    )
    result = metrics.ordered(counted, ["severity"]).collect()
    regular = result.filter(~pl.col("year_only"))
    assert regular["severity"].to_list() == CATEGORIES["severity"], "in the ladder's order"
    assert dict(zip(regular["severity"], regular["incidents"], strict=True)) == {
        "hazard": 0,
        "incident": 0,
        "serious_incident": 0,
        "disaster": 1,
    }


def test_year_only_dates_are_counted_apart_not_in_the_first_quarter() -> None:
    lf = incidents(
        report("a", date(2023, 1, 1), precision="year"),
        report("b", date(2023, 1, 1), precision="month"),
        report("c", date(2023, 5, 4)),
    )
    result = metrics.ordered(
        metrics.counts(lf, [], "quarter", date(2023, 1, 1), date(2023, 10, 1), COUNTRIES, {}), []
    ).collect()
    shown = {
        (row["period"], row["year_only"]): row["incidents"] for row in result.iter_rows(named=True)
    }
    assert shown == {
        (date(2023, 1, 1), False): 1,
        (date(2023, 4, 1), False): 1,
        (date(2023, 7, 1), False): 0,
        (date(2023, 10, 1), False): 0,
        (date(2023, 1, 1), True): 1,
    }
    yearly = metrics.counts(lf, [], "year", date(2023, 1, 1), date(2023, 1, 1), COUNTRIES, {})
    assert yearly.collect()["incidents"].to_list() == [3]


def test_counts_carry_the_cell_key_of_their_incidents() -> None:
    lf = incidents(
        report("a", date(2026, 7, 3), key=2**32 - 1),
        report("b", date(2026, 7, 4), key=5),
        report("c", date(2026, 7, 5), key=7, domains=["7", "7.3"]),
    )
    result = metrics.counts(
        lf, ["harm_domain"], "quarter", date(2026, 7, 1), date(2026, 7, 1), COUNTRIES, CATEGORIES
    ).filter(~pl.col("year_only"))
    keys = dict(zip(*result.select("harm_domain", "key").collect().to_dict().values(), strict=True))
    assert keys == {"1": 4, "7": 7}, "keys add up modulo 2**32"


def test_cells_of_disjoint_incidents_add_up_to_the_cells_of_all() -> None:
    """The columnar copy counts each partition (whole incidents) alone and merges the cells."""
    rows = [
        report("a", date(2026, 7, 3), affected=["KE", "BR"], key=2**32 - 1),
        report("a", date(2025, 2, 1), affected=["NG"], precision="month", key=9),
        report("b", date(2026, 4, 4), affected=["KE"], key=5),
        report("c", date(2026, 7, 5), affected=["BR"], key=7, domains=["7", "7.3"]),
        report("d", date(2025, 1, 1), precision="year", key=11),
    ]
    start, end = date(2025, 1, 1), date(2026, 7, 1)
    by = ["region"]
    whole = metrics.counts(incidents(*rows), by, "quarter", start, end, COUNTRIES, CATEGORIES)
    parts = [
        metrics.cells(incidents(*part), by, COUNTRIES, "quarter")
        for part in (rows[:2], rows[2:4], rows[4:])
    ]
    merged = metrics.on_grid(metrics.merged(parts, by), by, "quarter", start, end, CATEGORIES)
    order = ["period", "year_only", *by]
    assert_frame_equal(merged.sort(order).collect(), whole.sort(order).collect())
    assert merged.collect()["incidents"].sum() > 4, "an incident counts in each of its regions"
    empty = metrics.on_grid(metrics.merged([], by), by, "quarter", start, end, CATEGORIES)
    assert empty.collect()["incidents"].sum() == 0


def test_changes_compare_with_the_previous_period_and_a_year_before() -> None:
    lf = incidents(
        report("a", date(2025, 7, 3), domains=["1"]),
        report("b", date(2026, 4, 2), domains=["1"]),
        report("c", date(2026, 7, 9), domains=["1"]),
        report("d", date(2026, 7, 10), domains=["1", "7"]),
    )
    counted = metrics.counts(
        lf, ["harm_domain"], "quarter", date(2025, 7, 1), date(2026, 7, 1), COUNTRIES, CATEGORIES
    )
    result = (
        metrics.ordered(metrics.changes(counted, ["harm_domain"], "quarter"), ["harm_domain"])
        .filter((pl.col("harm_domain") == "1") & ~pl.col("year_only"))
        .select("period", "incidents", "previous", "year_ago", "change_previous", "change_year_ago")
        .collect()
    )
    expected = pl.DataFrame(
        {
            "period": [
                date(2025, 7, 1),
                date(2025, 10, 1),
                date(2026, 1, 1),
                date(2026, 4, 1),
                date(2026, 7, 1),
            ],
            "incidents": [1, 0, 0, 1, 2],
            "previous": [None, 1, 0, 0, 1],
            "year_ago": [None, None, None, None, 1],
            "change_previous": [None, -1.0, None, None, 1.0],
            "change_year_ago": [None, None, None, None, 1.0],
        },
        schema_overrides={"previous": pl.Int64, "year_ago": pl.Int64},
    )
    assert_frame_equal(result, expected)


def test_regions_count_an_incident_once_per_affected_region() -> None:
    lf = incidents(report("a", date(2026, 7, 3), country="KE", affected=["NG", "BR", "US"]))
    counted = metrics.counts(
        lf, ["region"], "quarter", date(2026, 7, 1), date(2026, 7, 1), COUNTRIES, CATEGORIES
    )
    result = (
        metrics.ordered(counted, ["region"])
        .filter(~pl.col("year_only"))
        .select("region", "incidents")
        .collect()
    )
    assert result.rows() == [("Africa", 1), ("Americas", 1), ("Europe", 0)]


def test_cross_border_is_about_affected_countries_and_pairs_join_them() -> None:
    lf = incidents(
        report("a", date(2026, 7, 3), country="KE", affected=["BR", "NG"]),
        report("b", date(2026, 7, 4), country="KE", affected=["BR", "KE"]),
        report("c", date(2026, 7, 5), country="NO", affected=["US"]),
    )
    assert metrics.cross_border(lf).collect()["incidents"].to_list() == [2]
    pairs = metrics.country_pairs(lf).select("a", "b", "incidents").collect()
    assert pairs.rows() == [("BR", "KE", 1), ("BR", "NG", 1)]


def test_timeliness_against_the_art_73_deadlines() -> None:
    reports = frame(
        report("a", date(2026, 7, 1), detected=date(2026, 7, 2), submitted=date(2026, 7, 3)),
        report("b", date(2026, 7, 1), detected=date(2026, 7, 1), submitted=date(2026, 7, 9)),
        report("c", date(2026, 7, 1), submitted=date(2026, 7, 14)),
        report("d", date(2026, 6, 1), submitted=date(2026, 7, 30)),
        report("e", date(2026, 7, 1), submitted=date(2026, 7, 2), kind="source"),
        report("f", date(2026, 3, 1), submitted=date(2026, 3, 2)),
    )
    result = metrics.timeliness(reports, "quarter", date(2026, 7, 1)).collect()
    assert result.select(
        "reports", "median_days", "within_2_days", "within_10_days", "within_15_days"
    ).row(0) == (4, 10.5, 1, 2, 3)
