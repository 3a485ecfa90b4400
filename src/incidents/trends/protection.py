"""Disclosure protection of published counts: cell-key perturbation and one band below k.

Every record (incident, or report for report counts) carries a secret random key
(``disclosure_key``, 32 bits, drawn by PostgreSQL). A cell's key is the sum of its records' keys
modulo 2**32, so the same set of records always gets the same key, whichever query, table or
brief it is counted in. The key picks a noise value from a fixed table (the "p-table"): an
integer in [-D, D], zero on average, more often small than large. Then:

- a cell counting fewer than k records is published as the band "fewer than k" (zero
  included: an empty cell and a cell of one look the same);
- any other cell is published as its count plus its noise, or as the band if that falls
  below k.

Because the noise belongs to the set of records, asking for one cell in several ways returns
the same figure, and the difference of two overlapping cells (a union and its part, a year and
its quarters, a filter dropped) carries both cells' noise: it cannot pin a small count. This is
the method of the Australian Bureau of Statistics' TableBuilder and of the ONS 2021 census table
builder. Shares and changes are computed from the published figures, never from exact ones.
"""

from __future__ import annotations

import msgspec
import polars as pl

KEY_SPACE = 2**32
COUNT = "incidents"
KEY = "key"
FLAG = "suppressed"


class Method(msgspec.Struct, frozen=True, kw_only=True):
    """The protection's parameters, published with every protected answer."""

    k: int
    noise: int
    """D: the largest noise added to or taken from a count."""

    @property
    def weights(self) -> list[int]:
        """The p-table: noise -D..D drawn with weights D+1-|d| (triangular)."""
        return [self.noise + 1 - abs(step) for step in range(-self.noise, self.noise + 1)]

    def describe(self) -> str:
        weights = self.weights
        total = sum(weights)
        table = ", ".join(
            f"{step:+d}: {weight}/{total}"
            for step, weight in zip(range(-self.noise, self.noise + 1), weights, strict=True)
        )
        return (
            f"cell-key perturbation: each published count is its exact value plus a noise "
            f"between -{self.noise} and +{self.noise} fixed by the secret keys of the records it "
            f"counts (probabilities {table}); counts below {self.k}, zero included, are "
            f"published as 'fewer than {self.k}'"
        )


def cell_key(keys: pl.Expr) -> pl.Expr:
    """The key of a cell from its records' keys (an aggregation)."""
    return (keys.cast(pl.Int64).sum() % KEY_SPACE).cast(pl.Int64)


def noise(key: pl.Expr, method: Method) -> pl.Expr:
    """The p-table looked up at the cell key's position in [0, 1)."""
    weights = method.weights
    total = sum(weights)
    position = key.cast(pl.Float64) / KEY_SPACE
    steps = list(range(-method.noise, method.noise + 1))
    chain: pl.Expr = pl.lit(method.noise, dtype=pl.Int64)
    cumulative = total
    # From the top down: below each step's cumulative probability, the step below it.
    for step, weight in zip(reversed(steps[1:]), reversed(weights[1:]), strict=True):
        cumulative -= weight
        chain = pl.when(position < cumulative / total).then(step - 1).otherwise(chain)
    return chain.cast(pl.Int64)


def published(count: pl.Expr, key: pl.Expr, method: Method) -> tuple[pl.Expr, pl.Expr]:
    """(the published figure, whether it is the band): exact count plus its cell's noise, or
    null and True below k."""
    perturbed = count + noise(key, method)
    banded = (count < method.k) | (perturbed < method.k)
    return pl.when(banded).then(None).otherwise(perturbed).cast(pl.Int64), banded


def protect(
    frame: pl.LazyFrame,
    method: Method | None,
    *,
    count: str = COUNT,
    key: str = KEY,
    flag: str = FLAG,
) -> pl.LazyFrame:
    """Replace ``count`` by its published figure and add ``flag``; None: exact (the secretariat,
    or a population the caller may see whole), with the flag always False."""
    if method is None:
        return frame.with_columns(pl.lit(False).alias(flag)).drop(key, strict=False)
    figure, banded = published(pl.col(count), pl.col(key), method)
    return frame.with_columns(figure.alias(count), banded.alias(flag)).drop(key)
