"""The rejected rows of a partial import, written back in the file's own layout (its banner and
header rows, then the rows as they were) with a column of reasons: fixed, the file re-imports
with the same mapping."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from incidents.importers.records import Problem
from incidents.importers.tables import Table

REASON_COLUMN = "rejected because"


def rejected_csv(
    table: Table, lines: Iterable[int], problems: Iterable[Problem], delimiter: str
) -> bytes:
    reasons: dict[int, list[str]] = {}
    for problem in problems:
        reasons.setdefault(problem.row, []).append(f"{problem.column}: {problem.message}")
    wanted = set(lines)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    width = len(table.columns)
    for position, row in enumerate(table.head):
        cells = row[:width] + [""] * (width - len(row))
        last = position == len(table.head) - 1
        writer.writerow([*cells, REASON_COLUMN if last else ""])
    for line, cells in table.rows:
        if line in wanted:
            writer.writerow([*cells, "; ".join(reasons.get(line, []))])
    return buffer.getvalue().encode("utf-8")
