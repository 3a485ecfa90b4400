"""The disclosure audit of a brief: what an attacker can derive about each protected cell from
every figure the brief publishes, by linear programming.

Unknowns are the counts of records of each "signature" (the exact set of published figures a
record falls in). Signatures that occur in the data are unknowns: an attacker who knew which
occur could do no better than that, so the intervals found are never wider than an attacker's
(the audit errs on the strict side). A protected figure no record falls in gets the signatures
of its siblings' records moved into it (an attacker cannot know it is empty); this is where the
audit approximates, since such a moved record keeps its other memberships.

Every published figure bounds the sum of its signatures: a perturbed figure p lies within
[p - D, p + D] of the truth, a figure in the band within [0, k - 1 + D]; withheld figures bound
nothing. For each cell in the band, the smallest and the largest value it can take under all
these bounds are found with HiGHS (SciPy's ``linprog``); the brief passes when every such
interval is at least k wide. Where one is not, `audit_figures` withholds more figures until none
is narrower.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import msgspec
import numpy as np
import polars as pl
from scipy import sparse
from scipy.optimize import linprog

from incidents.briefs.figures import Book, Universe
from incidents.briefs.schemas import AuditSummary, Figure
from incidents.trends.protection import Method

INFINITY = float("inf")
MAX_WITHHELD_ROUNDS = 200


class Interval(msgspec.Struct, frozen=True):
    low: float
    high: float
    binding: tuple[str, ...] = ()
    """The figures whose bounds hold the interval in (withholding one of them widens it)."""

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
    # Sorted: the solver's floating-point path follows the order of its rows, and a brief
    # regenerates byte-identical only if the linear programs do.
    return np.unique(matrix[matrix.any(axis=1)], axis=0)


def siblings(name: str, names: Sequence[str]) -> list[str]:
    """Figures named like ``name`` but for one part ("severity|incident|2026-Q2" and
    "severity|disaster|2026-Q2"; "total|2026-Q2" and "total|2026-Q1"): records of one could as
    well be records of the other."""
    parts = name.split("|")
    found = []
    for other in names:
        if other == name:
            continue
        theirs = other.split("|")
        if (
            len(theirs) == len(parts)
            and theirs[0] == parts[0]
            and sum(a != b for a, b in zip(parts, theirs, strict=True)) == 1
        ):
            found.append(other)
    return found


def _with_phantoms(
    matrix: np.ndarray, figures: Sequence[str], protected: Sequence[str]
) -> np.ndarray:
    """Signatures an attacker must allow for a protected figure that no record falls in (it
    cannot know that none does): each record of a sibling figure, moved into it; with none, a
    record in it alone."""
    index = {name: position for position, name in enumerate(figures)}
    extra = []
    for name in protected:
        column = index[name]
        if matrix[:, column].any():
            continue
        kin = [index[other] for other in siblings(name, figures)]
        rows = matrix[matrix[:, kin].any(axis=1)].copy() if kin else matrix[:0].copy()
        rows[:, kin] = False
        if not len(rows):
            # No record of a sibling either: a record in this figure alone (bounded by the
            # band only).
            rows = np.zeros((1, len(figures)), dtype=bool)
        rows[:, column] = True
        extra.append(rows)
    if not extra:
        return matrix
    return np.unique(np.vstack([matrix, *extra]), axis=0)


def intervals(
    membership: pl.DataFrame,
    bounds: Mapping[str, tuple[float, float]],
    protected: Sequence[str],
) -> dict[str, Interval]:
    """For each protected figure, the interval its value can take given every bound."""
    figures = sorted(set(bounds) | set(protected))
    matrix = _with_phantoms(signatures(membership, figures), figures, protected)
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
    names = [name for name, keep in zip(constrained, finite_high, strict=True) if keep]
    names += [name for name, keep in zip(constrained, finite_low, strict=True) if keep]
    found: dict[str, Interval] = {}
    for name in protected:
        objective = matrix[:, index[name]].astype(float)
        low, low_binding = _solve(objective, a_ub, b_ub)
        high, high_binding = _solve(-objective, a_ub, b_ub)
        binding = sorted({names[row] for row in (*low_binding, *high_binding)} - {name})
        found[name] = Interval(low, -high, tuple(binding))
    return found


def _solve(
    objective: np.ndarray, a_ub: sparse.csr_matrix, b_ub: np.ndarray
) -> tuple[float, list[int]]:
    """The optimum, and the constraints with a non-zero dual value (those that bind)."""
    # linprog takes sparse constraint matrices (SciPy's docs); the stubs list dense arrays only.
    result = linprog(  # type: ignore[call-overload]
        objective, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs"
    )
    if result.status == 3:  # unbounded: the attacker can make it as large as they like
        return -INFINITY, []
    if result.status != 0:
        raise RuntimeError(f"the disclosure audit's linear program failed: {result.message}")
    marginals = np.asarray(result.ineqlin.marginals)
    return float(result.fun), [int(row) for row in np.flatnonzero(np.abs(marginals) > 1e-9)]


class Audited(msgspec.Struct, kw_only=True):
    summary: AuditSummary
    figures: dict[str, Figure]
    """Every figure as it may be published: those the audit withheld marked so."""


def audit_figures(
    book: Book,
    figures: Mapping[str, Figure],
    memberships: Mapping[Universe, pl.DataFrame],
    method: Method,
) -> Audited:
    """Audit the shown figures; withhold more until every protected cell's interval is at
    least k wide, or give up (the brief then cannot be published).

    Withholding a figure removes a bound and so only widens intervals: after the first round,
    only the cells that failed are checked again.
    """
    figures = dict(figures)
    shown = [name for name in book.conditions if name in book.shown]
    widths: dict[str, float] = {}
    pending: set[str] | None = None
    withheld = 0
    passed = False
    for _ in range(MAX_WITHHELD_ROUNDS):
        failing: list[Interval] = []
        for universe, members in memberships.items():
            names = [name for name in shown if book.conditions[name].universe == universe]
            protected = [
                name
                for name in names
                if figures[name].status == "below_k" and (pending is None or name in pending)
            ]
            if not protected:
                continue
            found = intervals(members, _bounds(names, figures, method), protected)
            for name, interval in found.items():
                widths[name] = interval.width
                if interval.width < method.k:
                    failing.append(interval)
        pending = {name for name, width in widths.items() if width < method.k}
        if not failing:
            passed = True
            break
        # Withhold the smallest published figure that holds a failing interval in.
        binding = {
            name
            for interval in failing
            for name in interval.binding
            if figures[name].status == "published"
        }
        if not binding:
            break
        candidate = min(binding, key=lambda name: (figures[name].value or 0, name))
        figures[candidate] = Figure(value=None, status="withheld")
        withheld += 1
    summary = AuditSummary(
        passed=passed,
        protected_cells=len(widths),
        # Rounded: a solver's last bits are not a finding.
        narrowest=round(min(widths.values()), 6) if widths else None,
        required=method.k,
        withheld=withheld,
    )
    return Audited(summary=summary, figures=figures)


def _bounds(
    names: Iterable[str], figures: Mapping[str, Figure], method: Method
) -> dict[str, tuple[float, float]]:
    """What each figure tells of its true count: [p - D, p + D] around a perturbed figure, [0,
    k - 1 + D] for one in the band; a withheld figure tells nothing."""
    bounds: dict[str, tuple[float, float]] = {}
    for name in names:
        figure = figures[name]
        if figure.status == "withheld":
            continue
        if figure.status == "below_k" or figure.value is None:
            bounds[name] = (0.0, float(method.k - 1 + method.noise))
        else:
            bounds[name] = (
                float(max(0, figure.value - method.noise)),
                float(figure.value + method.noise),
            )
    return bounds
