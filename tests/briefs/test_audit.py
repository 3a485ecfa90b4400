"""The disclosure audit: the interval an attacker derives for a protected cell from every
published figure, by linear programming."""

from __future__ import annotations

import polars as pl

from incidents.briefs.audit import intervals

# One record in cell a, twenty in cell b; the total is published too.
MEMBERSHIP = pl.DataFrame(
    {
        "_key": list(range(21)),
        "a": [True] + [False] * 20,
        "b": [False] + [True] * 20,
        "total": [True] * 21,
    }
)


def test_a_total_and_its_other_part_bound_a_banded_cell() -> None:
    # Published within +-2: b 20 and total 21; a in the band (0..6 with k=5, D=2).
    found = intervals(MEMBERSHIP, {"a": (0, 6), "b": (18, 22), "total": (19, 23)}, ["a"])
    assert found["a"].low == 0
    assert found["a"].high == 5
    # With noise of at most 1 the same figures pin it far more narrowly: the audit says so.
    narrow = intervals(MEMBERSHIP, {"a": (0, 5), "b": (19, 21), "total": (20, 22)}, ["a"])
    assert narrow["a"].width == 3


def test_a_withheld_figure_bounds_nothing() -> None:
    found = intervals(MEMBERSHIP, {"a": (0, 5), "total": (20, 22)}, ["a"])
    assert found["a"].width == 5, "without b, the total says nothing of a beyond the band"


def test_records_in_no_figure_are_ignored() -> None:
    membership = MEMBERSHIP.with_columns(pl.lit(False).alias("other"))
    found = intervals(membership, {"a": (0, 6)}, ["a"])
    assert (found["a"].low, found["a"].high) == (0, 6)


def test_an_empty_protected_cell_is_not_taken_as_known_to_be_empty() -> None:
    """No record is a disaster; the attacker cannot know that, so the audit must not pin it."""
    membership = pl.DataFrame(
        {
            "_key": list(range(30)),
            "severity|incident|Q2": [True] * 30,
            "severity|disaster|Q2": [False] * 30,
            "total|Q2": [True] * 30,
        }
    )
    bounds = {
        "severity|incident|Q2": (28.0, 32.0),
        "severity|disaster|Q2": (0.0, 6.0),
        "total|Q2": (29.0, 33.0),
    }
    found = intervals(membership, bounds, ["severity|disaster|Q2"])
    assert found["severity|disaster|Q2"].width >= 5
