"""Periods: the calendar arithmetic trends and briefs share (months, quarters, years)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Literal

import msgspec

from incidents.errors import FieldError, ValidationFailed

Period = Literal["month", "quarter", "year"]
PER_YEAR: dict[str, int] = {"month": 12, "quarter": 4, "year": 1}
MAX_PERIODS = 240

# Dimensions a trend can be broken down by.
DIMENSIONS = (
    "harm_domain",
    "harm_subdomain",
    "harm_type",
    "severity",
    "sector",
    "country",
    "region",
    "sub_region",
    "development",
)
MAX_BY = 2


def align(day: date, period: Period) -> date:
    if period == "year":
        return date(day.year, 1, 1)
    if period == "quarter":
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return date(day.year, day.month, 1)


def shift(day: date, period: Period, count: int) -> date:
    months = {"month": 1, "quarter": 3, "year": 12}[period] * count
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


class Window(msgspec.Struct):
    period: Period
    start: date
    end: date
    lookback: date
    """One year before ``start``: counted too, so the first cells have a 'year ago'."""

    def periods(self, *, with_years: bool = False) -> list[date]:
        """The start of every period counted, lookback included (and, in month or quarter
        tables with ``with_years``, one "known only to the year" row per year)."""
        found = []
        day = self.lookback
        while day <= self.end:
            found.append(day)
            day = shift(day, self.period, 1)
        if with_years and self.period != "year":
            found += [date(year, 1, 1) for year in range(self.lookback.year, self.end.year + 1)]
        return found


def today() -> date:
    return datetime.now(UTC).date()


def current_period(period: Period) -> date:
    """The start of the period today falls in (unfinished: its figures are partial)."""
    return align(today(), period)


def window(period: Period, start: date | None, end: date | None) -> Window:
    last = align(end or today(), period)
    first = align(start, period) if start else shift(last, period, -PER_YEAR[period] * 2 + 1)
    if last > current_period(period):
        raise ValidationFailed(
            "Future period",
            errors=[FieldError("to", "Must not be after the current period; nothing has happened")],
        )
    if first > last:
        raise ValidationFailed(
            "Empty period range", errors=[FieldError("from", "Must not be after `to`")]
        )
    periods = (last.year - first.year) * 12 + last.month - first.month
    if periods // {"month": 1, "quarter": 3, "year": 12}[period] >= MAX_PERIODS:
        raise ValidationFailed(
            "Too many periods", errors=[FieldError("from", f"At most {MAX_PERIODS} periods")]
        )
    return Window(period, first, last, shift(first, period, -PER_YEAR[period]))


def parse_by(value: str | None) -> list[str]:
    if not value:
        return []
    names = list(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    errors = [
        FieldError("by", f"{name!r} is not one of {', '.join(DIMENSIONS)}")
        for name in names
        if name not in DIMENSIONS
    ]
    if len(names) > MAX_BY:
        errors.append(FieldError("by", f"At most {MAX_BY} dimensions"))
    if errors:
        raise ValidationFailed("Invalid breakdown", errors=errors)
    return names
