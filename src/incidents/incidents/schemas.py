"""What an incident is at the API boundary: its summary as the caller sees it, its reports, merges,
moves and duplicate candidates."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

import msgspec

from incidents.members.schemas import OrganizationRef
from incidents.pagination import FacetValue
from incidents.reports.states import Sharing, Status

IncidentReference = Annotated[
    str,
    msgspec.Meta(
        max_length=64,
        description="An incident's reference (INC-2026-000042) or id",
        pattern=r"^(INC-\d{4}-\d{6,}|[0-9a-fA-F-]{32,36})$",
    ),
]


class Reference(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    ref: str


class MoveReport(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    incident: IncidentReference | None
    """The incident to move the report into; null opens a new incident for it."""


class MergeIncident(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    into: IncidentReference
    """The surviving incident; this one will redirect to it."""


class Candidate(msgspec.Struct, kw_only=True):
    """A possible duplicate: an incident you can see, how alike it is, and why."""

    incident: Reference
    score: float
    reasons: list[str]
    title: str


class IncidentSummary(msgspec.Struct, kw_only=True):
    """An incident as the caller sees it: computed from the reports the caller may see."""

    id: uuid.UUID
    ref: str
    created_at: datetime
    title: str
    report_count: int
    jurisdictions: list[str]
    cross_border: bool
    severity: str
    harm_domains: list[str]
    first_occurred_on: date
    statuses: list[str]


class ReportLine(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    ref: str
    title: str
    organization: OrganizationRef
    status: Status
    sharing: Sharing
    occurred_on: str
    severity: str


class Incident(IncidentSummary, kw_only=True):
    reports: list[ReportLine]


class IncidentPage(msgspec.Struct, kw_only=True):
    items: list[IncidentSummary]
    next: str | None
    facets: dict[str, list[FacetValue]] | None = None
