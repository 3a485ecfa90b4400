"""What a report is at the API boundary: its content, how it is created and corrected, and how
reports, incidents, revisions and duplicate suggestions are answered."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from incidents.incidents.schemas import Candidate, IncidentReference, Reference
from incidents.members.schemas import OrganizationRef
from incidents.pagination import FacetValue
from incidents.reports.states import Sharing, Status

Code = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
        max_length=64,
        description="A taxonomy code: a letter or digit, then letters, digits, '.', '_' or '-' "
        "(at most 64 characters)",
    ),
]
Alpha2 = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Z]{2}$",
        description="An ISO 3166-1 alpha-2 country code in capitals, such as KE",
    ),
]
EventType = Literal["incident", "hazard"]
ShortText = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Count = Annotated[int, msgspec.Meta(ge=0, le=10_000_000_000)]
PartialDate = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$",
        description="A date as YYYY-MM-DD, or YYYY-MM / YYYY when only the month or year is known",
        examples=["2026-03-14", "2026-03", "2026"],
    ),
]
Language = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,4}$",
        max_length=35,
        description="A language tag (BCP 47) such as en, pt or pt-BR",
    ),
]

MAX_HARMS = 20
MAX_SOURCES = 50
MAX_BATCH = 5_000


class Harm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    domain: Code
    """A harm_domain code: an MIT domain or, better, a subdomain."""
    harm_type: Code | None = None
    """Required when filing; may be unknown in records imported from outside sources."""
    affected_groups: Annotated[list[Code], msgspec.Meta(max_length=30)] = []


class AISystem(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: ShortText
    developer: ShortText | None = None
    deployer: ShortText | None = None
    system_type: Code | None = None
    tasks: Annotated[list[Code], msgspec.Meta(max_length=20)] = []
    """ai_task codes: what the system does (recognition, forecasting, content generation...)."""
    lifecycle_stage: Code | None = None
    autonomy_level: Code | None = None


class Source(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    url: (
        Annotated[
            str,
            msgspec.Meta(
                max_length=2000,
                pattern=r"^https?://\S+$",
                description="An http:// or https:// address, without spaces",
            ),
        ]
        | None
    ) = None
    reference: Annotated[str, msgspec.Meta(min_length=1, max_length=500)] | None = None
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=300)] | None = None


class ReportContent(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Everything a submitter says about the event; codes are checked against the taxonomy."""

    title: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    summary: Annotated[str, msgspec.Meta(min_length=1, max_length=20_000)]
    language: Language = "en"
    event_type: EventType
    severity: Code
    eu_serious_incident: Annotated[list[Code], msgspec.Meta(max_length=4)] = []
    harms: Annotated[list[Harm], msgspec.Meta(max_length=MAX_HARMS)]
    """At least one when filing; an imported record whose harm could not be classified has none."""
    causal_entity: Code | None = None
    causal_intent: Code | None = None
    causal_timing: Code | None = None
    ai_system: AISystem
    sectors: Annotated[list[Code], msgspec.Meta(max_length=21)] = []
    affected_jurisdictions: Annotated[list[Alpha2], msgspec.Meta(max_length=250)] = []
    occurred_on: PartialDate
    detected_on: date | None = None
    people_affected: Count | None = None
    deaths: Count | None = None
    injuries: Count | None = None
    sources: Annotated[list[Source], msgspec.Meta(max_length=MAX_SOURCES)] = []
    actions_taken: Annotated[str, msgspec.Meta(max_length=10_000)] | None = None


class ReportCreate(ReportContent, forbid_unknown_fields=True, kw_only=True):
    sharing: Sharing
    status: Literal["draft", "submitted"] = "submitted"
    incident: IncidentReference | None = None
    """Link to an existing incident you can see; without it the report opens a new incident."""
    taxonomy_version: Annotated[int, msgspec.Meta(ge=1)] | None = None
    """The version the codes follow; the current one when absent."""
    external_ref: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    """Your own identifier for this report (unique per organization)."""


_U = msgspec.UNSET


class ReportPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A correction: absent fields stay as they are; ``null`` clears an optional field."""

    title: Annotated[str, msgspec.Meta(min_length=1, max_length=300)] | msgspec.UnsetType = _U
    summary: Annotated[str, msgspec.Meta(min_length=1, max_length=20_000)] | msgspec.UnsetType = _U
    language: Language | msgspec.UnsetType = _U
    event_type: EventType | msgspec.UnsetType = _U
    severity: Code | msgspec.UnsetType = _U
    eu_serious_incident: Annotated[list[Code], msgspec.Meta(max_length=4)] | msgspec.UnsetType = _U
    harms: (
        Annotated[list[Harm], msgspec.Meta(min_length=1, max_length=MAX_HARMS)] | msgspec.UnsetType
    ) = _U
    causal_entity: Code | msgspec.UnsetType | None = _U
    causal_intent: Code | msgspec.UnsetType | None = _U
    causal_timing: Code | msgspec.UnsetType | None = _U
    ai_system: AISystem | msgspec.UnsetType = _U
    sectors: Annotated[list[Code], msgspec.Meta(max_length=21)] | msgspec.UnsetType = _U
    affected_jurisdictions: (
        Annotated[list[Alpha2], msgspec.Meta(max_length=250)] | msgspec.UnsetType
    ) = _U
    occurred_on: PartialDate | msgspec.UnsetType = _U
    detected_on: date | msgspec.UnsetType | None = _U
    people_affected: Count | msgspec.UnsetType | None = _U
    deaths: Count | msgspec.UnsetType | None = _U
    injuries: Count | msgspec.UnsetType | None = _U
    sources: Annotated[list[Source], msgspec.Meta(max_length=MAX_SOURCES)] | msgspec.UnsetType = _U
    actions_taken: Annotated[str, msgspec.Meta(max_length=10000)] | msgspec.UnsetType | None = _U
    sharing: Sharing | msgspec.UnsetType = _U
    taxonomy_version: Annotated[int, msgspec.Meta(ge=1)] | msgspec.UnsetType = _U
    incident: IncidentReference | msgspec.UnsetType | None = _U
    """Propose linking the report to this incident (one you can see), e.g. after a rejection
    that names it; the secretariat's acceptance applies the link. ``null`` withdraws it."""


class Reason(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class OptionalReason(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)] | None = None


class Report(ReportContent, kw_only=True):
    id: uuid.UUID
    ref: str
    incident: Reference
    organization: OrganizationRef
    reporting_jurisdiction: str | None
    status: Status
    status_reason: str | None
    sharing: Sharing
    revision: int
    taxonomy_version: int
    external_ref: str | None
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    reviewed_at: datetime | None
    proposed_incident: Reference | None = None
    """An incident the submitter asked to be linked to; accepting the report links it."""


class Created(msgspec.Struct, kw_only=True):
    report: Report
    possible_duplicates: list[Candidate]


class BatchItem(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    ref: str
    incident: str


class BatchCreated(msgspec.Struct, kw_only=True):
    created: int
    reports: list[BatchItem]
    """In the order the reports were sent."""


class Revision(msgspec.Struct, kw_only=True):
    revision: int
    created_at: datetime
    actor: str
    actor_organization_id: uuid.UUID | None
    sharing: Sharing
    taxonomy_version: int
    content: ReportContent | None
    """Null when this revision's sharing level is one the caller may not see."""


class ReportPage(msgspec.Struct, kw_only=True):
    items: list[msgspec.Raw]  # each a Report, already JSON (see queries.REPORT_COLUMNS)
    next: str | None
    facets: dict[str, list[FacetValue]] | None = None
