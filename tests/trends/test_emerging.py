"""Emerging-risk detection by simulation: planted rises are found, and on data with no trend
but realistic quarter-to-quarter wobble in category shares, a brief flags anything at most as
often as its stated false-alarm rate (seeded: the same draws every run)."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest
from scipy import stats

from incidents.trends.emerging import emerging, p_values, q_values

CATEGORIES = 24
PER_QUARTER = 2_400
HISTORY = 12
ALPHA = 0.05
RUNS = 400
# Three standard errors of a rate of 5% over RUNS briefs: the tolerance of the check.
TOLERANCE = 3 * (ALPHA * (1 - ALPHA) / RUNS) ** 0.5


def _shares() -> np.ndarray:
    base = np.linspace(1, 6, CATEGORIES)
    return np.asarray(base / base.sum())


def _brief(
    rng: np.random.Generator, wobble: float, planted: tuple[int, float] | None = None
) -> np.ndarray:
    """Flags of one brief: HISTORY quarters and the tested one, shares wobbling by ``wobble``
    (log-scale sd) around fixed means, counts drawn multinomially."""
    counts = []
    for quarter in range(HISTORY + 1):
        shares = _shares() * np.exp(rng.normal(0, wobble, CATEGORIES))
        if planted is not None and quarter == HISTORY:
            shares[planted[0]] *= planted[1]
        counts.append(rng.multinomial(PER_QUARTER, shares / shares.sum()))
    matrix = np.array(counts, dtype=np.float64)
    totals = matrix.sum(axis=1)
    p = p_values(matrix[:-1], totals[:-1], matrix[-1], float(totals[-1]))
    return np.asarray(q_values(p) <= ALPHA)


@pytest.mark.parametrize("wobble", [0.0, 0.05, 0.1, 0.2, 0.3])
def test_the_false_alarm_rate_holds_on_overdispersed_data_with_no_trend(wobble: float) -> None:
    rng = np.random.default_rng(2026)
    alarms = sum(bool(_brief(rng, wobble).any()) for _ in range(RUNS))
    assert alarms / RUNS <= ALPHA + TOLERANCE, (wobble, alarms)


@pytest.mark.parametrize(("wobble", "rise", "power"), [(0.0, 2.0, 0.9), (0.1, 3.0, 0.9)])
def test_a_planted_rise_is_found(wobble: float, rise: float, power: float) -> None:
    rng = np.random.default_rng(7)
    found = 0
    others = 0
    for _ in range(200):
        flags = _brief(rng, wobble, planted=(5, rise))
        found += bool(flags[5])
        others += bool(np.delete(flags, 5).any())
    assert found / 200 >= power
    assert others / 200 <= ALPHA + TOLERANCE


def test_small_counts_are_judged_exactly_not_by_a_normal_approximation() -> None:
    """5 incidents now against 3 in twelve quarters: the exact conditional binomial test."""
    history = np.zeros((HISTORY, 1))
    history[[1, 5, 9], 0] = 1
    totals = np.full(HISTORY, float(PER_QUARTER))
    p = p_values(history, totals, np.array([5.0]), float(PER_QUARTER))[0]
    exact = stats.binom.sf(4, 8, 1 / (HISTORY + 1))
    now, before = 5 / PER_QUARTER, 3 / (PER_QUARTER * HISTORY)
    pooled = 8 / (PER_QUARTER * (HISTORY + 1))
    z = (now - before) / (
        pooled * (1 - pooled) * (1 / PER_QUARTER + 1 / (PER_QUARTER * HISTORY))
    ) ** 0.5
    normal = stats.norm.sf(z)
    assert normal < exact / 10, "the normal approximation overstates the evidence"
    assert p >= exact, "never more confident than the exact test"


def test_the_family_is_every_category_and_untested_ones_keep_p_one() -> None:
    days = [date(2023 + q // 4, q % 4 * 3 + 1, 1) for q in range(HISTORY + 1)]
    rng = np.random.default_rng(1)
    rows = []
    for day in days:
        counts = rng.multinomial(PER_QUARTER, _shares())
        rows += [
            {"period": day, "harm_subdomain": f"c{i}", "incidents": float(counts[i])}
            for i in range(CATEGORIES)
        ]
    history = pl.DataFrame(rows)
    totals = history.group_by("period").agg(pl.col("incidents").sum())
    names = [f"c{i}" for i in range(CATEGORIES)]
    assessed = [i != 3 for i in range(CATEGORIES)]
    result = emerging(history, totals, "harm_subdomain", names, assessed=assessed)
    assert result.height == CATEGORIES
    row = result.filter(pl.col("harm_subdomain") == "c3").row(0, named=True)
    assert row["p_value"] == 1.0
    assert not row["emerging"]
    assert result["history_periods"].unique().to_list() == [HISTORY]
