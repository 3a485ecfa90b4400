"""The disclosure audit of a brief: what an attacker can derive about each protected cell from
every figure the brief publishes, by linear programming.

Unknowns are the counts of records of each "signature" (the exact set of published figures a
record falls in). Only signatures that occur in the data are unknowns: an attacker who knew
which occur could do no better than that, so the intervals found are never wider than an
attacker's (the audit errs on the strict side). Every published figure bounds the sum of its
signatures: a perturbed figure p lies within [p - D, p + D] of the truth, a figure in the band
within [0, k - 1 + D]; withheld figures bound nothing. For each cell in the band, the smallest
and the largest value it can take under all these bounds are found with HiGHS (SciPy's
``linprog``); the brief passes when every such interval is at least k wide.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec
import numpy as np
import polars as pl
from scipy import sparse
from scipy.optimize import linprog

INFINITY = float("inf")


class Interval(msgspec.Struct, frozen=True):
    low: float
    high: float

    @property
    def width(self) -> float:
        return self.high - self.low


def signatures(membership: pl.DataFrame, figures: Sequence[str]) -> np.ndarray:
    """Distinct rows of the membership matrix over ``figures`` (records in no figure dropped):
    a signatures x figures boolean array."""
    if not figures or membership.is_empty():
        return np.zeros((0, len(figures)), dtype=bool)
    chunks = []
    for start in range(0, len(figures), 63):
        part = figures[start : start + 63]
        packed = pl.sum_horizontal(
            [pl.col(name).cast(pl.Int64) * (1 << position) for position, name in enumerate(part)]
        )
        chunks.append(packed.alias(f"_bits{start}"))
    packed_frame = membership.select(chunks).unique()
    bits = packed_frame.to_numpy()
    matrix = np.zeros((bits.shape[0], len(figures)), dtype=bool)
    for chunk, start in enumerate(range(0, len(figures), 63)):
        width = min(63, len(figures) - start)
        column = bits[:, chunk].astype(np.int64)
        for position in range(width):
            matrix[:, start + position] = (column >> position) & 1 == 1
    return matrix[matrix.any(axis=1)]


def intervals(
    membership: pl.DataFrame,
    bounds: Mapping[str, tuple[float, float]],
    protected: Sequence[str],
) -> dict[str, Interval]:
    """For each protected figure, the interval its value can take given every bound."""
    figures = sorted(set(bounds) | set(protected))
    matrix = signatures(membership, figures)
    if matrix.shape[0] == 0:
        return {name: Interval(0.0, INFINITY) for name in protected}
    index = {name: position for position, name in enumerate(figures)}
    constrained = [name for name in figures if name in bounds]
    rows = sparse.csr_matrix(matrix[:, [index[name] for name in constrained]].T.astype(float))
    lows = np.array([bounds[name][0] for name in constrained])
    highs = np.array([bounds[name][1] for name in constrained])
    finite_high = np.isfinite(highs)
    finite_low = np.isfinite(lows) & (lows > 0)
    a_ub = sparse.vstack([rows[finite_high], -rows[finite_low]]).tocsr()
    b_ub = np.concatenate([highs[finite_high], -lows[finite_low]])
    found: dict[str, Interval] = {}
    for name in protected:
        objective = matrix[:, index[name]].astype(float)
        low = _solve(objective, a_ub, b_ub)
        high = -_solve(-objective, a_ub, b_ub)
        found[name] = Interval(low, high)
    return found


def _solve(objective: np.ndarray, a_ub: sparse.csr_matrix, b_ub: np.ndarray) -> float:
    # linprog takes sparse constraint matrices (SciPy's docs); the stubs list dense arrays only.
    result = linprog(  # type: ignore[call-overload]
        objective, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs"
    )
    if result.status == 3:  # unbounded: the attacker can make it as large as they like
        return -INFINITY
    if result.status != 0:
        raise RuntimeError(f"the disclosure audit's linear program failed: {result.message}")
    return float(result.fun)
