"""Disclosure control for published trend tables: small cells are suppressed, and enough
others with them that no suppressed value can be worked out.

Rules, for every audience but the secretariat:

1. Primary: a cell counting 1 to k-1 incidents is suppressed (zero is published: it
   discloses nobody).
2. Complementary: along every line of the table (all cells that share every key but one), a
   line holding suppressed cells holds at least two, together they count at least k, and more
   than their number (zeros are published, so hidden cells are known to be at least 1); if
   not, the smallest published non-zero cells of the line are suppressed too. Repeated until
   nothing changes, so a line total minus the published cells never pins a suppressed cell.
3. Totals of 1 to k-1 are suppressed, and so is the total of a period holding a line whose
   own cells cannot protect its suppressed cell (e.g. a line of one non-zero cell).
4. Differencing: for each filter of the query, the same table without that filter is
   computed, and a cell whose difference with it is 1 to k-1 is suppressed, so that two
   queries differing by one filter never reveal a small count by subtraction. (Periods are
   whole months, quarters or years for the same reason: ``from``/``to`` are widened to them.)
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

COUNT = "incidents"
FLAG = "suppressed"
EXPOSED = "_exposed"
"""Marks cells of a line that could not be protected by the line's own cells; their period's
total is suppressed instead."""


def primary(table: pl.DataFrame, k: int) -> pl.DataFrame:
    return table.with_columns(
        (pl.col(FLAG) if FLAG in table.columns else pl.lit(False))
        | ((pl.col(COUNT) > 0) & (pl.col(COUNT) < k)).alias(FLAG)
    )


def complementary(
    table: pl.DataFrame, keys: Sequence[str], vary: Sequence[str], k: int
) -> pl.DataFrame:
    """Suppress further cells until every line's suppressed cells are two or more and sum >= k.

    A line is every cell that shares all ``keys`` but one of ``vary`` (the dimensions a total
    is published across: categories within a period, not periods within a category).
    """
    if not vary:
        return table.with_columns(pl.lit(False).alias(EXPOSED))
    rows = table.with_row_index("_row")
    counts = rows[COUNT].to_list()
    flags = rows[FLAG].to_list()
    lines: list[list[int]] = []
    for varying in vary:
        fixed = [key for key in keys if key != varying]
        if fixed:
            groups = (
                rows.group_by(fixed, maintain_order=True).agg(pl.col("_row")).get_column("_row")
            )
            lines.extend(group.to_list() for group in groups)
        else:
            lines.append(rows["_row"].to_list())
    exposed = [False] * len(counts)
    changed = True
    while changed:
        changed = False
        for line in lines:
            hidden = [row for row in line if flags[row]]
            if not hidden:
                continue
            candidates = sorted(
                (row for row in line if not flags[row] and counts[row] > 0),
                key=lambda row: counts[row],
            )
            while candidates and _pinned(hidden, counts, k):
                row = candidates.pop(0)
                flags[row] = True
                hidden.append(row)
                changed = True
            if _pinned(hidden, counts, k):
                # Nothing left in the line to hide with it: the line's total goes instead.
                for row in line:
                    exposed[row] = True
    return rows.with_columns(
        pl.Series(FLAG, flags, dtype=pl.Boolean), pl.Series(EXPOSED, exposed, dtype=pl.Boolean)
    ).drop("_row")


def _pinned(hidden: list[int], counts: list[int], k: int) -> bool:
    """Whether a line's hidden cells are too few or too small to keep each one unknown.

    Zeros are published, so each hidden cell is known to be at least 1: hidden cells summing
    to no more than their number are all 1. They must also total at least k, and be two or more.
    """
    total = sum(counts[row] for row in hidden)
    return len(hidden) < 2 or total < k or total <= len(hidden)


def differencing(
    table: pl.DataFrame, keys: Sequence[str], without_each_filter: Sequence[pl.DataFrame], k: int
) -> pl.DataFrame:
    """Suppress cells that differ by 1..k-1 from the same cell of a query with one filter fewer."""
    flagged = table
    for wider in without_each_filter:
        joined = flagged.join(
            wider.select([*keys, pl.col(COUNT).alias("_wider")]), on=list(keys), how="left"
        ).with_columns(pl.col("_wider").fill_null(0))
        gap = pl.col("_wider") - pl.col(COUNT)
        flagged = joined.with_columns((pl.col(FLAG) | ((gap > 0) & (gap < k))).alias(FLAG)).drop(
            "_wider"
        )
    return flagged


def protect(
    table: pl.DataFrame,
    keys: Sequence[str],
    vary: Sequence[str],
    k: int,
    *,
    without_each_filter: Sequence[pl.DataFrame] = (),
) -> pl.DataFrame:
    """All rules at once; the counts of suppressed cells become null, ``suppressed`` says so."""
    flagged = primary(table.with_columns(pl.lit(False).alias(FLAG)), k)
    flagged = differencing(flagged, keys, without_each_filter, k)
    return hide(complementary(flagged, keys, vary, k))


def hide(table: pl.DataFrame) -> pl.DataFrame:
    return table.with_columns(
        pl.when(pl.col(FLAG)).then(None).otherwise(pl.col(COUNT)).alias(COUNT)
    )


def protect_totals(
    totals: pl.DataFrame,
    k: int,
    cells: pl.DataFrame | None = None,
    *,
    without_each_filter: Sequence[pl.DataFrame] = (),
    period: str = "period",
) -> pl.DataFrame:
    """Totals of 1..k-1 are suppressed, totals that differ by 1..k-1 from a query with one
    filter fewer, and the total of any period holding a line its own cells could not protect."""
    flagged = primary(totals.with_columns(pl.lit(False).alias(FLAG)), k)
    flagged = differencing(flagged, [period], without_each_filter, k)
    if cells is not None and EXPOSED in cells.columns:
        exposed = (
            cells.filter(pl.col(EXPOSED)).select(period).unique().with_columns(_x=pl.lit(True))
        )
        flagged = (
            flagged.join(exposed, on=period, how="left")
            .with_columns((pl.col(FLAG) | pl.col("_x").fill_null(False)).alias(FLAG))
            .drop("_x")
        )
    return hide(flagged)
