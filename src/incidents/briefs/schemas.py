"""What crosses the API boundary for briefs (light: no analytics libraries here)."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from incidents.errors import FieldError, ValidationFailed
from incidents.reports.filters import Filters, provide_filters
from incidents.trends.periods import Period, align, current_period, shift

PeriodText = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$",
        description="2026-Q3, 2026-07 or 2026",
        examples=["2026-Q3"],
    ),
]
# A brief counts every accepted report, restricted ones included, so its scope may only name
# coarse dimensions, one value each (population.py says why).
SCOPE_FILTERS = (
    "event_type",
    "severity",
    "min_severity",
    "harm_domain",
    "harm_type",
    "affected_group",
    "sector",
    "eu_serious_incident",
    "causal_entity",
    "causal_intent",
    "causal_timing",
    "system_type",
    "ai_task",
    "lifecycle_stage",
    "autonomy_level",
    "jurisdiction",
    "region",
    "sub_region",
    "development",
    "cross_border",
)
ScopeValue = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class BriefRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    period: PeriodText
    scope: Annotated[dict[str, ScopeValue], msgspec.Meta(max_length=len(SCOPE_FILTERS))] = {}
    """Coarse registry filters that narrow the brief, one value each, e.g. {"region": "Africa"}."""
    provisional: bool = False
    """Allow the current, unfinished period: every page says so, and each period is compared
    on its first days only (as many as have passed of this one)."""
    language: Literal["ar", "zh", "en", "fr", "ru", "es"] = "en"
    """The language of the brief's HTML and PDF (its data files hold codes and are the same in
    every language)."""


def parse_period(text: str) -> tuple[Period, date]:
    if match := re.fullmatch(r"(\d{4})-Q([1-4])", text):
        return "quarter", date(int(match[1]), (int(match[2]) - 1) * 3 + 1, 1)
    if match := re.fullmatch(r"(\d{4})-(\d{2})", text):
        return "month", date(int(match[1]), int(match[2]), 1)
    return "year", date(int(text), 1, 1)


def check_period(text: str, provisional: bool) -> tuple[Period, date]:
    """A future period is refused; the unfinished current one only when asked as provisional."""
    kind, start = parse_period(text)
    now = current_period(kind)
    if start > now:
        raise ValidationFailed(
            "Future period", errors=[FieldError("period", f"{text} has not begun")]
        )
    if start == now and not provisional:
        raise ValidationFailed(
            "Unfinished period",
            errors=[
                FieldError(
                    "period",
                    f"{text} is not over (it ends {shift(align(start, kind), kind, 1)}); ask "
                    "for a provisional brief to make one now",
                )
            ],
        )
    return kind, start


def scope_filters(scope: dict[str, str]) -> Filters:
    """The brief's scope, read exactly as the same query parameters of the API would be."""
    errors = [
        FieldError(
            f"scope.{name}",
            f"{name!r} is not a scope a brief can take; one of: {', '.join(SCOPE_FILTERS)}",
        )
        for name in sorted(scope)
        if name not in SCOPE_FILTERS
    ]
    errors += [
        FieldError(f"scope.{name}", "One value only (a brief compares one category)")
        for name, value in sorted(scope.items())
        if "," in value
    ]
    if errors:
        raise ValidationFailed("Invalid scope", errors=errors)
    many = {"event_type", "min_severity", "development", "cross_border"}
    values: dict[str, Any] = {
        name: value if name in many else [value] for name, value in scope.items()
    }
    try:
        converted = msgspec.convert(values, dict[str, Any], strict=False)
        return provide_filters(**converted)
    except (TypeError, msgspec.ValidationError) as error:
        raise ValidationFailed("Invalid scope", errors=[FieldError("scope", str(error))]) from None


BriefStatus = Literal[
    "queued", "running", "failed", "draft", "approved", "published", "superseded", "retracted"
]


class BriefEdit(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The secretariat's editorial part of a draft or approved brief (an approved brief that is
    edited goes back to draft)."""

    executive_summary: Annotated[str, msgspec.Meta(max_length=20_000)] | UnsetType = UNSET
    """Markdown: paragraphs, headings, lists, emphasis, links. No raw HTML."""
    issuing_body: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | UnsetType = UNSET
    issued_on: date | UnsetType | None = UNSET


class Retraction(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    notice: Annotated[str, msgspec.Meta(min_length=1, max_length=5_000)]
    """Why the brief is retracted: shown at the brief's address from now on."""


Status = Literal["published", "below_k", "withheld"]
"""How a count is shown: its protected figure, the band "fewer than k", or withheld by the
audit."""


class Figure(msgspec.Struct, kw_only=True):
    value: int | None
    status: Status


class Protection(msgspec.Struct, kw_only=True):
    method: str
    k: int
    noise: int
    description: str


class BriefData(msgspec.Struct, kw_only=True):
    title: str
    period: str
    period_kind: Period
    scope: dict[str, str]
    provisional: bool
    as_of: date
    days_compared: int | None
    """Provisional briefs: every period is compared on its first so many days."""
    taxonomy_version: int
    input_hash: str
    protection: Protection
    audit: AuditSummary
    headline: dict[str, Any]
    tables: dict[str, list[dict[str, Any]]]
    labels: dict[str, dict[str, str]]
    notes: list[str]


class AuditSummary(msgspec.Struct, kw_only=True):
    """The brief's disclosure audit (see briefs/audit.py)."""

    passed: bool
    protected_cells: int
    narrowest: float | None
    """The narrowest interval an attacker derives for a protected cell from every published
    figure of the brief, by linear programming."""
    required: int
    withheld: int
    """Figures withheld (beyond the band) so that the audit passes."""


class Brief(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: uuid.UUID
    period: str
    scope: dict[str, str]
    provisional: bool
    status: BriefStatus
    error: str | None = None
    created_at: datetime
    finished_at: datetime | None = None
    created_by: str | UnsetType = UNSET
    """Who asked for it: shown to the secretariat only."""
    taxonomy_version: int | None = None
    input_hash: str | None = None
    data_hash: str | None = None
    audit: AuditSummary | None = None
    executive_summary: str | None = None
    issuing_body: str | None = None
    issued_on: date | None = None
    version: int | None = None
    approved_at: datetime | None = None
    published_at: datetime | None = None
    superseded_by: uuid.UUID | None = None
    retracted_at: datetime | None = None
    retraction_notice: str | None = None
    links: dict[str, str]


class BriefList(msgspec.Struct, kw_only=True):
    items: list[Brief]
    next: str | None = None
