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


def window(period: Period, start: date | None, end: date | None) -> Window:
    today = datetime.now(UTC).date()
    last = align(end or today, period)
    first = align(start, period) if start else shift(last, period, -PER_YEAR[period] * 2 + 1)
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
