"""Filing and correcting reports: the checks a report's content must pass, a new report written
in one statement by the one writer (writer.py), and corrections (a new revision under If-Match,
an incident proposed after a rejection)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.errors import (
    Conflict,
    FieldError,
    Forbidden,
    PreconditionFailed,
    PreconditionRequired,
    ValidationFailed,
)
from incidents.ids import new_id
from incidents.incidents.linking import linked_incident
from incidents.incidents.schemas import Reference
from incidents.members.schemas import OrganizationRef, Principal
from incidents.members.service import actor_for
from incidents.reports import schemas
from incidents.reports.access import FILERS
from incidents.reports.content import check, derive
from incidents.reports.reading import etag, get_report
from incidents.reports.single import file_one
from incidents.reports.states import CORRECTABLE, Sharing, Status
from incidents.reports.writer import Current, NewReport, ReportRow, write_revision
from incidents.taxonomy.service import Taxonomy, TaxonomyRegistry
from incidents.validation import semantic_check

CONTENT_FIELDS = schemas.ReportContent.__struct_fields__


def content_of(data: msgspec.Struct) -> schemas.ReportContent:
    return schemas.ReportContent(**{field: getattr(data, field) for field in CONTENT_FIELDS})


def taxonomy_for(taxonomy: TaxonomyRegistry, version: int | None) -> Taxonomy:
    if version is None:
        return taxonomy.current
    found = taxonomy.versions.get(version)
    if found is None:
        raise ValidationFailed(
            "Unknown taxonomy version",
            errors=[FieldError("taxonomy_version", f"No released taxonomy version {version}")],
        )
    return found


def validated(content: schemas.ReportContent, taxonomy: Taxonomy, *, prefix: str = "") -> None:
    errors = check(content, taxonomy, datetime.now(UTC).date())
    if errors:
        if prefix:
            errors = [
                FieldError(f"{prefix}{error.field}", error.message, error.index) for error in errors
            ]
        raise ValidationFailed(f"{len(errors)} field(s) are invalid", errors=errors)


@semantic_check(schemas.ReportCreate)
def _report_rules(data: schemas.ReportCreate, taxonomy: TaxonomyRegistry) -> list[FieldError]:
    """A new report's taxonomy and calendar rules, for a body that also failed its schema."""
    if not taxonomy.versions:
        return []
    version = taxonomy.versions.get(data.taxonomy_version or taxonomy.current.version)
    if version is None:
        return []
    return check(content_of(data), version, datetime.now(UTC).date())


def _report_from(
    ref: str,
    content: schemas.ReportContent,
    row: ReportRow,
    principal: Principal,
    incident: tuple[uuid.UUID, str],
) -> schemas.Report:
    """The report just filed, as the API answers it, from what was written."""
    return schemas.Report(
        **msgspec.structs.asdict(content),
        id=row.id,
        ref=ref,
        incident=Reference(id=incident[0], ref=incident[1]),
        organization=OrganizationRef(
            id=principal.organization_id, name=principal.organization_name
        ),
        reporting_jurisdiction=principal.jurisdiction,
        status=Status(row.status),
        status_reason=None,
        sharing=Sharing(row.sharing),
        revision=1,
        taxonomy_version=row.taxonomy_version,
        external_ref=row.external_ref,
        created_at=row.created_at,
        updated_at=row.updated_at,
        submitted_at=row.submitted_at,
        reviewed_at=row.reviewed_at,
    )


async def create_report(
    connection: AsyncConnection,
    principal: Principal,
    data: schemas.ReportCreate,
    taxonomy: TaxonomyRegistry,
) -> schemas.Created:
    if principal.kind not in FILERS:
        raise Forbidden("Only regulators (and outside sources) file reports")
    version = taxonomy_for(taxonomy, data.taxonomy_version)
    content = content_of(data)
    validated(content, version)
    derived = derive(content, version, principal.jurisdiction)
    # The incident the filer names, if any.
    joined = None
    if data.incident is not None:
        linked = await linked_incident(connection, principal, data.incident)
        joined = (linked.id, linked.ref)
    incident_id = joined[0] if joined is not None else new_id()
    item = NewReport(
        content=content,
        derived=derived,
        version=version.version,
        status=data.status,
        sharing=data.sharing,
        external_ref=data.external_ref,
        incident=joined,
    )
    # One round trip: the rows, the audit event and the duplicate probe (which leaves out the
    # incident joined; the new report is not in the snapshot it reads).
    filed = await file_one(
        connection,
        principal,
        actor_for(principal),
        item,
        report_id=new_id(),
        incident_id=incident_id,
        at=datetime.now(UTC),
    )
    if filed is None:
        raise Conflict(f"You already filed a report with external_ref {data.external_ref!r}")
    report = _report_from(
        filed.ref, content, filed.row, principal, (incident_id, filed.incident_ref)
    )
    return schemas.Created(report=report, possible_duplicates=filed.candidates)


async def own_report(
    connection: AsyncConnection, principal: Principal, reference: str
) -> schemas.Report:
    report = await get_report(connection, principal, reference)
    if report.organization.id != principal.organization_id:
        raise Forbidden("Only the organization that filed a report may change it")
    return report


def _changed(
    before: schemas.ReportContent, after: schemas.ReportContent
) -> tuple[dict[str, Any], dict[str, Any]]:
    old = msgspec.to_builtins(before)
    new = msgspec.to_builtins(after)
    keys = [key for key in new if old.get(key) != new.get(key)]
    return {key: old.get(key) for key in keys}, {key: new.get(key) for key in keys}


async def update_report(
    connection: AsyncConnection,
    principal: Principal,
    reference: str,
    if_match: str | None,
    patch: schemas.ReportPatch,
    taxonomy: TaxonomyRegistry,
) -> schemas.Report:
    """A correction. Needs If-Match (428 without, 412 when stale); an accepted report goes back
    to `submitted` so that the secretariat reviews the corrected version."""
    if not if_match:
        raise PreconditionRequired("Send If-Match with the ETag of the revision you are correcting")
    current = await own_report(connection, principal, reference)
    if if_match.strip() not in {etag(current), "W/" + etag(current)}:
        raise PreconditionFailed("The report has changed since that ETag; fetch it and retry")
    if current.status not in CORRECTABLE:
        raise Conflict(f"A {current.status} report cannot be corrected")
    changes = {
        field: value
        for field in schemas.ReportPatch.__struct_fields__
        if (value := getattr(patch, field)) is not msgspec.UNSET and field != "incident"
    }
    proposal = await _proposal(connection, principal, current, patch.incident)
    before = content_of(current)
    merged = msgspec.structs.replace(
        before, **{k: v for k, v in changes.items() if k in CONTENT_FIELDS}
    )
    version = taxonomy_for(taxonomy, changes.get("taxonomy_version", current.taxonomy_version))
    validated(merged, version)
    sharing = changes.get("sharing", current.sharing)
    status = Status.SUBMITTED if current.status == Status.ACCEPTED else current.status
    old, new = _changed(before, merged)
    for field, value in (
        ("sharing", sharing),
        ("status", status),
        ("taxonomy_version", version.version),
    ):
        if getattr(current, field) != value:
            old[field], new[field] = getattr(current, field), value
    if proposal is not None:
        before_ref = current.proposed_incident.ref if current.proposed_incident else None
        if before_ref != proposal[1]:
            old["proposed_incident"], new["proposed_incident"] = before_ref, proposal[1]
    written = await write_revision(
        connection,
        actor_for(principal),
        Current(current.id, current.revision, current.status),
        NewReport(
            content=merged,
            derived=derive(merged, version, current.reporting_jurisdiction),
            version=version.version,
            status=status,
            sharing=sharing,
        ),
        before=old,
        after=new,
        values={} if proposal is None else {"proposed_incident_id": proposal[0]},
    )
    if not written:
        raise PreconditionFailed(
            "The report changed while you were correcting it; fetch it and retry"
        )
    return await get_report(connection, principal, str(current.id))


async def _proposal(
    connection: AsyncConnection,
    principal: Principal,
    current: schemas.Report,
    wanted: str | msgspec.UnsetType | None,
) -> tuple[uuid.UUID | None, str | None] | None:
    """The incident a correction proposes, as (id, ref); (None, None) withdraws a proposal;
    None when the correction says nothing about it."""
    if wanted is msgspec.UNSET:
        return None
    if wanted is None:
        return None, None
    found = await linked_incident(connection, principal, wanted)
    if found.id == current.incident.id:
        return None, None  # already linked there: nothing to propose
    return found.id, found.ref
