"""Checking a report's content against the taxonomy and the calendar, and deriving the columns
that filters, search and trends read. Every violation is collected, never only the first."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec

from incidents.errors import FieldError
from incidents.reports.coded import CODED, located
from incidents.reports.schemas import ReportContent
from incidents.taxonomy.service import Dimension, Taxonomy
from incidents.validation import a_or_an

PRECISIONS = {4: "year", 7: "month", 10: "day"}


def parse_partial_date(text: str) -> tuple[date, str]:
    """'2026', '2026-03' or '2026-03-14' -> (first day of that period, its precision)."""
    precision = PRECISIONS[len(text)]
    parts = [int(part) for part in text.split("-")]
    return date(
        parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1
    ), precision


def format_partial_date(day: date, precision: str) -> str:
    text = day.isoformat()
    return text[:4] if precision == "year" else text[:7] if precision == "month" else text


#: Up to this many allowed codes are listed in a message; beyond, the message names where to
#: find them.
LISTED_CODES = 30


def unknown_code(dimension_name: str, code: str, dimension: Dimension | None, where: str) -> str:
    """'x' is not an affected_group code (in ...); allowed: a, b, c — in plain words."""
    message = f"{code!r} is not {a_or_an(dimension_name)} {dimension_name} code{where}"
    if dimension is None:
        return message
    live = sorted(dimension.live, key=lambda value: dimension.codes[value].order)
    if len(live) <= LISTED_CODES:
        return f"{message}; allowed: {', '.join(live)}"
    return f"{message}; see GET /api/v1/taxonomy/dimensions/{dimension_name} for the codes"


class _Checker:
    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self.errors: list[FieldError] = []

    def fail(self, field: str, message: str) -> None:
        self.errors.append(FieldError(field, message))

    def code(self, field: str, dimension_name: str, code: str | None) -> None:
        if code is None:
            return
        dimension = self.taxonomy.dimensions.get(dimension_name)
        if dimension is None:
            self.fail(field, f"taxonomy version {self.taxonomy.version} has no {dimension_name}")
        elif code not in dimension.codes:
            self.fail(
                field,
                unknown_code(
                    dimension_name, code, dimension, f" in taxonomy version {self.taxonomy.version}"
                ),
            )
        elif code not in dimension.live:
            replacement = dimension.codes[code].replaced_by
            self.fail(
                field,
                f"{code!r} is retired in taxonomy version {self.taxonomy.version}; "
                f"use {replacement!r}",
            )

    def text(self, field: str, value: str | None) -> None:
        if value is not None and not value.strip():
            self.fail(field, "Must not be blank")


def check(
    content: ReportContent, taxonomy: Taxonomy, today: date, *, complete: bool = True
) -> list[FieldError]:
    """Every rule a report's content must meet, as a list of field errors (empty when valid).

    ``complete=False`` is for records imported from outside sources, which may leave the harm
    unclassified (no harm, or no harm type) rather than be dropped.
    """
    checker = _Checker(taxonomy)
    if complete and not content.harms:
        checker.fail("harms", "At least one harm is required")
    checker.text("title", content.title)
    checker.text("summary", content.summary)
    for field in CODED:
        for where, code in located(content, field):
            checker.code(where, field.dimension, code)
    if content.eu_serious_incident and content.event_type != "incident":
        checker.fail(
            "eu_serious_incident", "Serious-incident categories apply to incidents, not hazards"
        )
    if content.event_type == "hazard":
        for field_name in ("deaths", "injuries"):
            if getattr(content, field_name):
                checker.fail(
                    field_name, "A hazard is an event where no harm occurred; leave it empty or 0"
                )
    if complete:
        for position, harm in enumerate(content.harms):
            if harm.harm_type is None:
                checker.fail(f"harms[{position}].harm_type", "Required")
    checker.text("ai_system.name", content.ai_system.name)
    for position, country in enumerate(content.affected_jurisdictions):
        if country not in taxonomy.countries:
            checker.fail(
                f"affected_jurisdictions[{position}]", f"{country!r} is not an ISO 3166-1 country"
            )
    for position, source in enumerate(content.sources):
        if source.url is None and source.reference is None:
            checker.fail(f"sources[{position}]", "Give a url or a document reference")
    _check_dates(checker, content, today)
    return checker.errors


def _check_dates(checker: _Checker, content: ReportContent, today: date) -> None:
    try:
        occurred, _ = parse_partial_date(content.occurred_on)
    except ValueError:
        checker.fail("occurred_on", f"{content.occurred_on!r} is not a real date")
        return
    if occurred > today:
        checker.fail("occurred_on", "Must not be in the future")
    if content.detected_on is not None:
        if content.detected_on > today:
            checker.fail("detected_on", "Must not be in the future")
        if content.detected_on < occurred:
            checker.fail("detected_on", "Must not be before occurred_on")


def _with_ancestors(dimension: Dimension | None, codes: list[str]) -> list[str]:
    found: list[str] = []
    for code in codes:
        current: str | None = code
        while current is not None and current not in found:
            found.append(current)
            entry = dimension.codes.get(current) if dimension else None
            current = entry.parent if entry else None
    return sorted(found)


def _unique(values: list[str]) -> list[str]:
    return sorted(set(values))


class Derived(msgspec.Struct, kw_only=True):
    """The reports columns that follow from a report's content (and its filer's jurisdiction):
    what filters, search, duplicates and trends read."""

    title: str
    summary: str
    language: str
    event_type: str
    severity: str
    severity_ordinal: int | None
    eu_categories: list[str]
    harm_domains: list[str]
    harm_types: list[str]
    affected_groups: list[str]
    sectors: list[str]
    causal_entity: str | None
    causal_intent: str | None
    causal_timing: str | None
    system_type: str | None
    ai_tasks: list[str]
    lifecycle_stage: str | None
    autonomy_level: str | None
    ai_system_name: str
    developer: str | None
    deployer: str | None
    reporting_jurisdiction: str | None
    affected_jurisdictions: list[str]
    jurisdictions: list[str]
    occurred_on: date
    occurred_precision: str
    detected_on: date | None
    people_affected: int | None
    deaths: int | None
    injuries: int | None


def derive(
    content: ReportContent, taxonomy: Taxonomy, reporting_jurisdiction: str | None
) -> Derived:
    """The derived columns of valid content."""
    occurred, precision = parse_partial_date(content.occurred_on)
    affected = _unique(content.affected_jurisdictions)
    system = content.ai_system
    coded: dict[str, Any] = {}
    for field in CODED:
        codes = [code for _, code in located(content, field)]
        if not field.many:
            coded[field.column] = codes[0] if codes else None
        elif field.ancestors:
            coded[field.column] = _with_ancestors(taxonomy.dimensions.get(field.dimension), codes)
        else:
            coded[field.column] = _unique(codes)
    return Derived(
        title=content.title.strip(),
        summary=content.summary.strip(),
        language=content.language,
        event_type=content.event_type,
        severity_ordinal=taxonomy.dimensions["severity"].ordinal(content.severity),
        ai_system_name=system.name.strip(),
        developer=system.developer,
        deployer=system.deployer,
        reporting_jurisdiction=reporting_jurisdiction,
        affected_jurisdictions=affected,
        jurisdictions=_unique(
            [*affected, *([reporting_jurisdiction] if reporting_jurisdiction else [])]
        ),
        occurred_on=occurred,
        occurred_precision=precision,
        detected_on=content.detected_on,
        people_affected=content.people_affected,
        deaths=content.deaths,
        injuries=content.injuries,
        **coded,
    )
