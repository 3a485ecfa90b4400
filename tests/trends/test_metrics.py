"""Each metric on a small hand-built frame, compared whole with assert_frame_equal."""

from __future__ import annotations

import random
from datetime import date

import polars as pl
from polars.testing import assert_frame_equal

from incidents.trends import metrics
from tests.trends.frames import COUNTRIES, ROOTS, frame, report


def incidents(*rows: dict[str, object]) -> pl.LazyFrame:
    return metrics.incidents(frame(*rows), {}, ROOTS, serious_from=4)


def test_incidents_count_once_whatever_the_number_of_reports() -> None:
    result = (
        incidents(
            report("a", date(2026, 7, 3), country="KE", domains=["1", "1.1"]),
            report(
                "a",
                date(2026, 7, 1),
                country="BR",
                domains=["1", "1.2"],
                severity=("serious_incident", 4),
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
            "country": [["BR", "KE"], ["KE"]],
            "harm_domain": [["1"], ["7"]],
            "harm_subdomain": [["1.1", "1.2"], ["7.3"]],
            "severity": ["serious_incident", "hazard"],
            "severity_ordinal": [4, 1],
            "cross_border": [True, False],
            "serious": [True, False],
        },
        schema_overrides={"severity_ordinal": pl.Int16},
    )
    assert_frame_equal(result.select(expected.columns), expected)


def test_retired_codes_count_under_their_replacement() -> None:
    lf = metrics.incidents(
        frame(report("a", date(2026, 7, 3), domains=["1", "1.9"])), {"1.9": "1.1"}, ROOTS, 4
    )
    assert lf.collect()["harm_subdomain"].to_list() == [["1.1"]]


def test_counts_fill_every_period_and_changes_compare_with_before() -> None:
    lf = incidents(
        report("a", date(2025, 7, 3), domains=["1"]),
        report("b", date(2026, 4, 2), domains=["1"]),
        report("c", date(2026, 7, 9), domains=["1"]),
        report("d", date(2026, 7, 10), domains=["1", "7"]),
    )
    counted = metrics.counts(
        lf, ["harm_domain"], "quarter", date(2025, 7, 1), date(2026, 7, 1), COUNTRIES
    )
    result = (
        metrics.changes(counted, ["harm_domain"], "quarter")
        .filter(pl.col("harm_domain") == "1")
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
            "harm_domain": ["1"] * 5,
            "incidents": [1, 0, 0, 1, 2],
            "previous": [None, 1, 0, 0, 1],
            "year_ago": [None, None, None, None, 1],
            "change_previous": [None, -1.0, None, None, 1.0],
            "change_year_ago": [None, None, None, None, 1.0],
        },
        schema_overrides={"previous": pl.Int64, "year_ago": pl.Int64},
    )
    assert_frame_equal(result, expected)


def test_counts_by_region_count_an_incident_once_per_region() -> None:
    lf = incidents(report("a", date(2026, 7, 3), country="KE", affected=["NG", "BR"]))
    result = metrics.counts(
        lf, ["region"], "quarter", date(2026, 7, 1), date(2026, 7, 1), COUNTRIES
    ).collect()
    expected = pl.DataFrame(
        {"period": [date(2026, 7, 1)] * 2, "region": ["Africa", "Americas"], "incidents": [1, 1]}
    )
    assert_frame_equal(result, expected)


def test_cross_border_share_and_country_pairs() -> None:
    lf = incidents(
        report("a", date(2026, 7, 3), country="KE", affected=["BR", "NG"]),
        report("b", date(2026, 7, 4), country="KE", affected=["BR"]),
        report("c", date(2026, 7, 5), country="NO"),
    )
    share = metrics.cross_border(lf, "quarter").collect()
    assert_frame_equal(
        share,
        pl.DataFrame(
            {"period": [date(2026, 7, 1)], "incidents": [3], "cross_border": [2], "share": [0.6667]}
        ),
        check_dtypes=False,
    )
    pairs = metrics.country_pairs(lf).collect()
    assert_frame_equal(
        pairs,
        pl.DataFrame({"a": ["BR", "BR", "KE"], "b": ["KE", "NG", "NG"], "incidents": [2, 1, 1]}),
        check_dtypes=False,
    )


def test_severity_mix_counts_serious_incidents() -> None:
    lf = incidents(
        report("a", date(2026, 7, 3), severity=("incident", 3)),
        report("b", date(2026, 7, 4), severity=("incident", 3), eu=["a"]),
        report("c", date(2026, 7, 5), severity=("disaster", 5)),
    )
    result = metrics.severity_mix(lf, "quarter").collect()
    expected = pl.DataFrame(
        {
            "period": [date(2026, 7, 1)] * 2,
            "severity": ["incident", "disaster"],
            "severity_ordinal": [3, 5],
            "incidents": [2, 1],
            "serious": [1, 1],
        },
        schema_overrides={"severity_ordinal": pl.Int16},
    )
    assert_frame_equal(result, expected, check_dtypes=False)


def test_timeliness_against_the_art_73_deadlines() -> None:
    reports = frame(
        report("a", date(2026, 7, 1), detected=date(2026, 7, 2), submitted=date(2026, 7, 3)),
        report("b", date(2026, 7, 1), detected=date(2026, 7, 1), submitted=date(2026, 7, 9)),
        report("c", date(2026, 7, 1), submitted=date(2026, 7, 14)),
        report("d", date(2026, 6, 1), submitted=date(2026, 7, 30)),
        report("e", date(2026, 7, 1), submitted=date(2026, 7, 2), kind="source"),
    )
    result = metrics.timeliness(reports, "quarter").collect()
    expected = pl.DataFrame(
        {
            "period": [date(2026, 7, 1)],
            "reports": [4],
            "median_days": [10.5],
            "within_2_days": [0.25],
            "within_10_days": [0.5],
            "within_15_days": [0.75],
        }
    )
    assert_frame_equal(result, expected, check_dtypes=False)


def test_coverage_counts_reporting_countries_per_region() -> None:
    reports = frame(
        report("a", date(2026, 7, 1), country="KE"),
        report("b", date(2026, 7, 2), country="KE"),
        report("c", date(2026, 7, 3), country="BR"),
        report("d", date(2026, 7, 4), country="NO", kind="source"),
    )
    result = metrics.coverage(reports, COUNTRIES, "quarter").collect()
    expected = pl.DataFrame(
        {
            "period": [date(2026, 7, 1)] * 2,
            "region": ["Africa", "Americas"],
            "reporting": [1, 1],
            "which": [["KE"], ["BR"]],
            "countries": [2, 1],
            "share": [0.5, 1.0],
        }
    )
    assert_frame_equal(result, expected, check_dtypes=False)


def _history(
    rng: random.Random, quarters: int, rates: dict[str, float], planted: tuple[str, float] | None
) -> pl.LazyFrame:
    rows = []
    number = 0
    for quarter in range(quarters):
        day = date(2023 + quarter // 4, quarter % 4 * 3 + 1, 15)
        for _ in range(300):
            number += 1
            weights = dict(rates)
            if planted is not None and quarter == quarters - 1:
                weights[planted[0]] *= planted[1]
            code = rng.choices(list(weights), weights=list(weights.values()))[0]
            rows.append(report(f"i{number}", day, domains=[code.split(".")[0], code]))
    return incidents(*rows)


def _emerging(lf: pl.LazyFrame, quarters: int) -> pl.DataFrame:
    start, end = date(2023, 1, 1), date(2023 + (quarters - 1) // 4, (quarters - 1) % 4 * 3 + 1, 1)
    counted = metrics.counts(lf, ["harm_subdomain"], "quarter", start, end, COUNTRIES)
    totals = metrics.totals(lf, "quarter", start, end)
    return metrics.emerging(counted, totals, "harm_subdomain", end).collect()


RATES = {"1.1": 0.3, "1.2": 0.25, "7.3": 0.35, "7.6": 0.1}


def test_emerging_risks_find_a_planted_rise() -> None:
    result = _emerging(_history(random.Random(5), 9, RATES, planted=("7.6", 3.0)), 9)
    flagged = result.filter(pl.col("emerging"))["harm_subdomain"].to_list()
    assert flagged == ["7.6"]
    row = result.filter(pl.col("harm_subdomain") == "7.6").row(0, named=True)
    assert row["rate"] > 2 * row["trailing_rate"]
    assert row["q_value"] < 0.05


def test_emerging_risks_stay_quiet_on_noise() -> None:
    false_alarms = 0
    for seed in range(20):
        result = _emerging(_history(random.Random(seed), 9, RATES, planted=None), 9)
        false_alarms += int(result["emerging"].sum())
    assert false_alarms <= 1, (
        "at a 5% false discovery rate, 20 noise-only runs should flag almost nothing"
    )
