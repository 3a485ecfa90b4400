"""Dates as registers write them, to the registry's partial dates with the precision given.

"2019" stays a year, "Mar 2021" a month, "14/03/2021" a day; a range "2018-2024" is its start
(to the year), an open "2020-" its start. Slashed dates are day-first or month-first as the
mapping says; one that could be either (03/04/2021) is refused unless the mapping says which.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Literal

Order = Literal["day-first", "month-first"]

MONTHS: dict[str, int] = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january", "janvier", "enero", "janeiro"),
            ("feb", "february", "fevrier", "février", "febrero", "fevereiro"),
            ("mar", "march", "mars", "marzo", "março"),
            ("apr", "april", "avril", "abril"),
            ("may", "mai", "mayo", "maio"),
            ("jun", "june", "juin", "junio", "junho"),
            ("jul", "july", "juillet", "julio", "julho"),
            ("aug", "august", "aout", "août", "agosto"),
            ("sep", "sept", "september", "septembre", "septiembre", "setembro"),
            ("oct", "october", "octobre", "octubre", "outubro"),
            ("nov", "november", "novembre", "noviembre", "novembro"),
            ("dec", "december", "decembre", "décembre", "diciembre", "dezembro"),
        ),
        start=1,
    )
    for name in names
}

_YEAR = re.compile(r"^(\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})(?:-(\d{1,2}))?(?:[T ][\d:.+Z-]*)?$")
_RANGE = re.compile(r"^(\d{4})\s*(?:-|–|—|to|/)\s*(\d{4})?$")
_SLASHED = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_WORDS = re.compile(r"[A-Za-zÀ-ÿ]+\.?|\d+")
_FILLERS = {"de", "of", "the", "le", "st", "nd", "rd", "th", "er"}


class DateError(ValueError):
    """A cell that is no date in any form this module reads; the message says why."""


def _partial(year: int, month: int | None = None, day: int | None = None) -> str:
    if month is None:
        return f"{year:04d}"
    if not 1 <= month <= 12:
        raise DateError(f"month {month} does not exist")
    if day is None:
        return f"{year:04d}-{month:02d}"
    try:
        return date(year, month, day).isoformat()
    except ValueError as error:
        raise DateError(str(error)) from None


def precision_of_format(pattern: str) -> Literal["year", "month", "day"]:
    """The precision a strptime format carries: a '%Y' format is a year, not a 1 January."""
    if re.search(r"%[dje]", pattern):
        return "day"
    if re.search(r"%[mbB]", pattern):
        return "month"
    return "year"


def parse_date(text: str, *, order: Order | None = None, pattern: str | None = None) -> str:
    """A cell -> 'YYYY', 'YYYY-MM' or 'YYYY-MM-DD'; DateError (with the reason) otherwise."""
    cell = text.strip()
    if pattern is not None:
        try:
            parsed = datetime.strptime(cell, pattern).date()
        except ValueError:
            raise DateError(f"{cell!r} does not match {pattern}") from None
        precision = precision_of_format(pattern)
        iso = parsed.isoformat()
        return iso[:4] if precision == "year" else iso[:7] if precision == "month" else iso
    if match := _YEAR.match(cell):
        return cell
    if match := _ISO.match(cell):
        year, month, day = match.groups()
        return _partial(int(year), int(month), int(day) if day else None)
    if match := _RANGE.match(cell):
        return match.group(1)
    if match := _SLASHED.match(cell):
        first, second, year = (int(part) for part in match.groups())
        if order is None:
            if first > 12 >= second:
                order = "day-first"
            elif second > 12 >= first:
                order = "month-first"
            elif first != second:
                raise DateError(
                    f"{cell!r} could be day-first or month-first; set dates = "
                    '"day-first" or "month-first" in the mapping'
                )
            else:
                order = "day-first"
        day, month = (first, second) if order == "day-first" else (second, first)
        return _partial(year, month, day)
    return _worded(cell)


def _worded(cell: str) -> str:
    """'Mar 2021', 'March 14, 2021', '14 mars 2021', '2021 Mar'."""
    words = [word.rstrip(".").casefold() for word in _WORDS.findall(cell)]
    months = [MONTHS[word] for word in words if word in MONTHS]
    numbers = [int(word) for word in words if word.isdigit()]
    others = [
        word for word in words if not word.isdigit() and word not in MONTHS and word not in _FILLERS
    ]
    years = [number for number in numbers if number >= 1000]
    days = [number for number in numbers if number < 1000]
    if len(months) != 1 or len(years) != 1 or len(days) > 1 or others:
        raise DateError(f"{cell!r} is not a date (a year, a month and year, or a full date)")
    return _partial(years[0], months[0], days[0] if days else None)
