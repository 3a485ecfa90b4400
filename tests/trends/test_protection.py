"""Cell-key perturbation: the noise follows its published table, stays within its bound, is the
same for the same records, and every count below k looks like zero."""

from __future__ import annotations

import random
from collections import Counter

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from incidents.trends.protection import KEY_SPACE, Method, noise, protect, published

METHOD = Method(k=5, noise=2)


def test_the_noise_follows_the_published_table() -> None:
    keys = pl.DataFrame({"key": random.Random(3).choices(range(KEY_SPACE), k=90_000)})
    drawn = keys.select(noise(pl.col("key"), METHOD).alias("noise"))["noise"].to_list()
    seen = Counter(drawn)
    weights = METHOD.weights
    for step, weight in zip(range(-2, 3), weights, strict=True):
        expected = 90_000 * weight / sum(weights)
        assert abs(seen[step] - expected) < 5 * expected**0.5, (step, seen)
    assert set(seen) == {-2, -1, 0, 1, 2}
    assert abs(sum(drawn) / len(drawn)) < 0.02, "zero on average"


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 400), st.integers(0, KEY_SPACE - 1), st.sampled_from([1, 2, 3]))
def test_a_count_is_banded_below_k_and_otherwise_moves_at_most_d(
    count: int, key: int, bound: int
) -> None:
    method = Method(k=5, noise=bound)
    figure, banded = published(pl.lit(count), pl.lit(key), method)
    value, is_banded = pl.select(figure.alias("value"), banded.alias("banded")).row(0)
    if count < method.k:
        assert is_banded, "a small count, zero included, is the band"
        assert value is None
    elif is_banded:
        assert value is None
        assert count + bound >= method.k, "only counts that noise can bring under k are banded"
    else:
        assert abs(value - count) <= bound
        assert value >= method.k


def test_zero_and_one_look_alike() -> None:
    cells = pl.LazyFrame({"incidents": [0, 1, 4], "key": [0, 123456, 99]})
    shown = protect(cells, METHOD).collect()
    assert shown["incidents"].to_list() == [None, None, None]
    assert shown["suppressed"].to_list() == [True, True, True]


def test_the_same_records_always_get_the_same_figure() -> None:
    cells = pl.LazyFrame({"incidents": [50, 50, 50], "key": [7, 7, 2**31]})
    shown = protect(cells, METHOD).collect()["incidents"].to_list()
    assert shown[0] == shown[1]


def test_exact_figures_for_the_secretariat_carry_no_band() -> None:
    cells = pl.LazyFrame({"incidents": [0, 3, 50], "key": [1, 2, 3]})
    shown = protect(cells, None).collect()
    assert shown["incidents"].to_list() == [0, 3, 50]
    assert not shown["suppressed"].any()


def test_the_method_describes_itself_with_its_parameters() -> None:
    text = METHOD.describe()
    assert "-2 and +2" in text
    assert "fewer than 5" in text
    assert "3/9" in text
