"""What crosses the API boundary for trends and briefs (light: no analytics libraries here)."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Annotated, Any

import msgspec

from incidents.errors import FieldError, ValidationFailed
from incidents.reports.filters import Filters, provide_filters
from incidents.trends.periods import Period

PeriodText = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$",
        description="2026-Q3, 2026-07 or 2026",
        examples=["2026-Q3"],
    ),
]


class BriefRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    period: PeriodText
    scope: dict[str, str | list[str]] = {}
    """Registry filters that narrow the brief, e.g. {"region": "Africa", "sector": ["K", "Q"]}."""


def parse_period(text: str) -> tuple[Period, date]:
    if match := re.fullmatch(r"(\d{4})-Q([1-4])", text):
        return "quarter", date(int(match[1]), (int(match[2]) - 1) * 3 + 1, 1)
    if match := re.fullmatch(r"(\d{4})-(\d{2})", text):
        return "month", date(int(match[1]), int(match[2]), 1)
    return "year", date(int(text), 1, 1)


def scope_filters(scope: dict[str, str | list[str]]) -> Filters:
    """The brief's scope, read exactly as the same query parameters of the API would be."""
    allowed = set(provide_filters.__code__.co_varnames[: provide_filters.__code__.co_argcount])
    unknown = sorted(set(scope) - allowed)
    if unknown:
        raise ValidationFailed(
            "Unknown scope",
            errors=[FieldError(f"scope.{name}", "Not a registry filter") for name in unknown],
        )
    values: dict[str, Any] = {}
    for name, value in scope.items():
        listed = value if isinstance(value, list) else [value]
        single = name in {
            "event_type",
            "min_severity",
            "development",
            "cross_border",
            "organization",
            "incident",
            "q",
            "occurred_from",
            "occurred_to",
            "submitted_from",
            "submitted_to",
        }
        values[name] = listed[0] if single else listed
    try:
        converted = msgspec.convert(values, dict[str, Any], strict=False)
        return provide_filters(**converted)
    except TypeError as error:
        raise ValidationFailed("Invalid scope", errors=[FieldError("scope", str(error))]) from None


class TrendResponse(msgspec.Struct, kw_only=True):
    audience: str
    period: str
    by: list[str]
    start: date = msgspec.field(name="from")
    end: date = msgspec.field(name="to")
    k: int
    taxonomy_version: int
    suppressed_cells: int
    cells: list[dict[str, Any]]
    totals: list[dict[str, Any]]
    labels: dict[str, dict[str, str]]
    notes: list[str]


class Brief(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    period: str
    scope: dict[str, Any]
    status: str
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    created_by: str
    taxonomy_version: int | None
    input_hash: str | None
    data_hash: str | None
    published_at: datetime | None
    links: dict[str, str]
