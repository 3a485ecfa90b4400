"""Writing the registry: filing and correcting reports, their lifecycle, linking, moving and
merging incidents. Every write appends its audit event in the same transaction, last."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import TextClause, insert, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.audit.service import Actor, EventDraft, append
from incidents.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    ValidationFailed,
)
from incidents.ids import new_id
from incidents.members.schemas import Principal
from incidents.members.service import actor_for
from incidents.reports import schemas
from incidents.reports.access import FILERS
from incidents.reports.content import check, derive
from incidents.reports.duplicates import find_similar
from incidents.reports.integrity import content_digest, report_event, salt_for
from incidents.reports.models import incidents, report_revisions, reports
from incidents.reports.queries import (
    etag,
    get_report,
    resolve_incident,
    seen_incident,
    survivor_of,
)
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


def _revision_row(
    report_id: uuid.UUID,
    revision: int,
    content: schemas.ReportContent,
    sharing: str,
    version: int,
    actor: Actor,
    at: datetime,
    salt: bytes | None,
) -> dict[str, Any]:
    return {
        "report_id": report_id,
        "revision": revision,
        "content": msgspec.to_builtins(content),
        "sharing": sharing,
        "taxonomy_version": version,
        "created_at": at,
        "actor_org_id": actor.org_id,
        "actor_key_id": actor.key_id,
        "actor_label": actor.label,
        "draft_only": False,
        "salt": salt,
    }


async def linked_incident(
    connection: AsyncConnection, principal: Principal, reference: str, *, field: str = "incident"
) -> Any:
    """The incident a filer names, after merges; it must hold a report the filer can see."""
    try:
        return (await seen_incident(connection, principal, reference))[1]
    except NotFound:
        raise ValidationFailed(
            "Unknown incident",
            errors=[FieldError(field, f"No incident {reference} that you can see")],
        ) from None


async def _new_incident(connection: AsyncConnection, at: datetime) -> tuple[uuid.UUID, str]:
    incident_id = new_id()
    ref = (
        await connection.execute(
            insert(incidents).values(id=incident_id, year=at.year).returning(incidents.c.ref)
        )
    ).scalar_one()
    return incident_id, ref


def _report_from(
    report_id: uuid.UUID,
    ref: str,
    content: schemas.ReportContent,
    meta: dict[str, Any],
    principal: Principal,
    incident: tuple[uuid.UUID, str],
) -> schemas.Report:
    return schemas.Report(
        **msgspec.structs.asdict(content),
        id=report_id,
        ref=ref,
        incident=schemas.Reference(id=incident[0], ref=incident[1]),
        organization=schemas.OrganizationRef(
            id=principal.organization_id, name=principal.organization_name
        ),
        reporting_jurisdiction=principal.jurisdiction,
        status=meta["status"],
        status_reason=None,
        sharing=meta["sharing"],
        revision=1,
        taxonomy_version=meta["taxonomy_version"],
        external_ref=meta["external_ref"],
        created_at=meta["created_at"],
        updated_at=meta["updated_at"],
        submitted_at=meta["submitted_at"],
        reviewed_at=None,
    )


def _filing_statement() -> TextClause:
    """One statement for a new report: its incident (unless it joins one), the report row and
    its first revision. Built once from the tables; a conflicting external_ref inserts no
    report, which the caller turns into 409 (the transaction then rolls back the incident)."""
    # Disclosure keys are drawn by the server.
    skip = {"number", "status_reason", "reviewed_at", "proposed_incident_id", "disclosure_key"}
    columns = [
        column.name
        for column in reports.columns
        if column.name not in skip and column.computed is None
    ]
    revision = [column.name for column in report_revisions.columns]
    values = {name: f":{name}" for name in revision}
    values.update(report_id="filed.id", revision="1", content="CAST(:content AS jsonb)")
    return text(
        f"""
        WITH new_incident AS (
            INSERT INTO incidents (id, year)
            SELECT :incident_id, :year WHERE CAST(:new_incident AS boolean)
            RETURNING ref
        ), filed AS (
            INSERT INTO reports ({", ".join(columns)})
            VALUES ({", ".join(f":{name}" for name in columns)})
            ON CONFLICT (organization_id, external_ref) WHERE external_ref IS NOT NULL DO NOTHING
            RETURNING id, ref
        ), first_revision AS (
            INSERT INTO report_revisions ({", ".join(revision)})
            SELECT {", ".join(values[name] for name in revision)} FROM filed
        )
        SELECT (SELECT ref FROM filed) AS report_ref, (SELECT ref FROM new_incident) AS incident_ref
        """
    )


_FILE = _filing_statement()


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
    now = datetime.now(UTC)
    if data.incident is not None:
        linked = await linked_incident(connection, principal, data.incident)
        incident_id, incident_ref = linked.id, linked.ref
    else:
        incident_id, incident_ref = new_id(), None
    report_id = new_id()
    actor = actor_for(principal)
    meta = {
        "status": data.status,
        "sharing": data.sharing,
        "taxonomy_version": version.version,
        "external_ref": data.external_ref,
        "created_at": now,
        "updated_at": now,
        "submitted_at": now if data.status == "submitted" else None,
    }
    derived = derive(content, version, principal.jurisdiction)
    stored = msgspec.to_builtins(content)
    salt = salt_for(data.status)
    filed = (
        await connection.execute(
            _FILE,
            {
                **meta,
                **derived,
                "id": report_id,
                "year": now.year,
                "incident_id": incident_id,
                "new_incident": incident_ref is None,
                "organization_id": principal.organization_id,
                "revision": 1,
                "report_id": report_id,
                "content": msgspec.json.encode(stored).decode(),
                "actor_org_id": actor.org_id,
                "actor_key_id": actor.key_id,
                "actor_label": actor.label,
                "draft_only": False,
                "salt": salt,
            },
        )
    ).one()
    if filed.report_ref is None:
        raise Conflict(f"You already filed a report with external_ref {data.external_ref!r}")
    ref = filed.report_ref
    incident = (incident_id, incident_ref or filed.incident_ref)
    report = _report_from(report_id, ref, content, meta, principal, incident)
    candidates = await find_similar(
        connection,
        principal,
        title=derived["title"],
        system=derived["ai_system_name"],
        developer=derived["developer"],
        occurred_on=derived["occurred_on"],
        precision=derived["occurred_precision"],
        jurisdictions=derived["jurisdictions"],
        exclude_incident=incident_id,
        titles=False,
    )
    await append(
        connection,
        actor,
        [
            report_event(
                "report.created",
                report_id,
                None,
                {
                    "ref": ref,
                    "incident": incident[1],
                    "organization": str(principal.organization_id),
                    "status": data.status,
                    "status_reason": None,
                    "sharing": data.sharing,
                    "taxonomy_version": version.version,
                    "external_ref": data.external_ref,
                    "title": content.title,
                    "content_sha256": content_digest(stored, salt),
                },
                draft=data.status == "draft",
            )
        ],
    )
    return schemas.Created(report=report, possible_duplicates=candidates)


async def _own_report(
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


EDITABLE = ("draft", "submitted", "under_review", "rejected", "accepted")


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
    current = await _own_report(connection, principal, reference)
    if if_match.strip() not in {etag(current), "W/" + etag(current)}:
        raise PreconditionFailed("The report has changed since that ETag; fetch it and retry")
    if current.status not in EDITABLE:
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
    status = "submitted" if current.status == "accepted" else current.status
    now = datetime.now(UTC)
    actor = actor_for(principal)
    updated = await connection.execute(
        update(reports)
        .where(
            reports.c.id == current.id,
            reports.c.revision == current.revision,
            reports.c.status == current.status,
        )
        .values(
            revision=current.revision + 1,
            sharing=sharing,
            status=status,
            taxonomy_version=version.version,
            updated_at=now,
            **derive(merged, version, current.reporting_jurisdiction),
            **({} if proposal is None else {"proposed_incident_id": proposal[0]}),
        )
        .returning(reports.c.id)
    )
    if updated.first() is None:
        raise PreconditionFailed(
            "The report changed while you were correcting it; fetch it and retry"
        )
    draft = current.status == "draft"
    if draft:
        # Replaced before the report was ever submitted: the submitter's working copy.
        await connection.execute(
            update(report_revisions)
            .where(
                report_revisions.c.report_id == current.id,
                report_revisions.c.revision == current.revision,
            )
            .values(draft_only=True)
        )
    salt = salt_for(status)
    await connection.execute(
        insert(report_revisions).values(
            _revision_row(
                current.id, current.revision + 1, merged, sharing, version.version, actor, now, salt
            )
        )
    )
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
    await append(
        connection,
        actor,
        [
            report_event(
                "report.updated",
                current.id,
                {"revision": current.revision, **old},
                {
                    "revision": current.revision + 1,
                    **new,
                    "content_sha256": content_digest(msgspec.to_builtins(merged), salt),
                },
                draft=draft,
            )
        ],
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


# -- lifecycle -------------------------------------------------------------------------------

# action -> (who may, from which statuses, to which status)
TRANSITIONS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "submit": ("owner", ("draft", "rejected"), "submitted"),
    "withdraw": (
        "owner",
        ("draft", "submitted", "under_review", "accepted", "rejected"),
        "withdrawn",
    ),
    "start_review": ("secretariat", ("submitted",), "under_review"),
    "accept": ("secretariat", ("submitted", "under_review"), "accepted"),
    "reject": ("secretariat", ("submitted", "under_review"), "rejected"),
}


async def transition(
    connection: AsyncConnection,
    principal: Principal,
    reference: str,
    action: str,
    reason: str | None = None,
) -> schemas.Report:
    who, sources, target = TRANSITIONS[action]
    if who == "owner":
        report = await _own_report(connection, principal, reference)
    else:
        if principal.kind != "secretariat":
            raise Forbidden("Only the secretariat reviews reports")
        report = await get_report(connection, principal, reference)
    if report.status not in sources:
        raise Conflict(f"Cannot {action.replace('_', ' ')} a report that is {report.status}")
    now = datetime.now(UTC)
    values: dict[str, Any] = {"status": target, "updated_at": now}
    if action in {"accept", "reject"}:
        values["reviewed_at"] = now
    if action in {"reject", "withdraw"}:
        values["status_reason"] = reason
    elif action in {"submit", "accept"}:
        values["status_reason"] = None
    if action == "submit" and report.submitted_at is None:
        values["submitted_at"] = now
    linked: Any = None
    if action == "accept" and report.proposed_incident is not None:
        # The submitter proposed an incident (after a rejection, say): accepting links it.
        linked = await survivor_of(
            connection, await resolve_incident(connection, str(report.proposed_incident.id))
        )
        values["incident_id"] = linked.id
        values["proposed_incident_id"] = None
    changed = await connection.execute(
        update(reports)
        .where(reports.c.id == report.id, reports.c.status == report.status)
        .values(**values)
        .returning(reports.c.id)
    )
    if changed.first() is None:
        raise Conflict("The report's status changed meanwhile; fetch it and retry")
    before: dict[str, Any] = {"status": report.status}
    after: dict[str, Any] = {"status": target}
    if reason is not None:
        after["reason"] = reason
    if linked is not None and linked.id != report.incident.id:
        before["incident"], after["incident"] = report.incident.ref, linked.ref
    await append(
        connection,
        actor_for(principal),
        [EventDraft(f"report.{action}", "report", str(report.id), before, after)],
    )
    return await get_report(connection, principal, str(report.id))


# -- incidents: move, merge ------------------------------------------------------------------


async def move_report(
    connection: AsyncConnection, principal: Principal, reference: str, target: str | None
) -> schemas.Report:
    """The secretariat moves a report to another incident (or to a new one of its own)."""
    report = await get_report(connection, principal, reference)
    now = datetime.now(UTC)
    if target is None:
        destination = await _new_incident(connection, now)
    else:
        found = (await seen_incident(connection, principal, target))[1]
        destination = (found.id, found.ref)
    if destination[0] == report.incident.id:
        return report
    await connection.execute(
        update(reports)
        .where(reports.c.id == report.id)
        .values(incident_id=destination[0], updated_at=now)
    )
    await append(
        connection,
        actor_for(principal),
        [
            EventDraft(
                "report.moved",
                "report",
                str(report.id),
                {"incident": report.incident.ref},
                {"incident": destination[1]},
            )
        ],
    )
    return await get_report(connection, principal, str(report.id))


async def merge_incidents(
    connection: AsyncConnection, principal: Principal, source_reference: str, into_reference: str
) -> Any:
    """Move every report of one incident into another; the merged one redirects there forever."""
    source = (await seen_incident(connection, principal, source_reference))[0]
    if source.merged_into is not None:
        raise Conflict(f"{source.ref} was already merged")
    survivor = (await seen_incident(connection, principal, into_reference))[1]
    if survivor.id == source.id:
        raise ValidationFailed(
            "An incident cannot be merged into itself",
            errors=[FieldError("into", "Name a different incident")],
        )
    moved = (
        (
            await connection.execute(
                update(reports)
                .where(reports.c.incident_id == source.id)
                .values(incident_id=survivor.id)
                .returning(reports.c.ref)
            )
        )
        .scalars()
        .all()
    )
    now = datetime.now(UTC)
    await connection.execute(
        update(incidents)
        .where(incidents.c.id == source.id)
        .values(merged_into=survivor.id, merged_at=now)
    )
    # Keep redirects one hop long: what pointed at the merged incident now points at the survivor.
    await connection.execute(
        update(incidents)
        .where(incidents.c.merged_into == source.id)
        .values(merged_into=survivor.id)
    )
    await append(
        connection,
        actor_for(principal),
        [
            EventDraft(
                "incident.merged",
                "incident",
                str(source.id),
                {"ref": source.ref},
                {"merged_into": survivor.ref, "reports_moved": sorted(moved)},
            )
        ],
    )
    return survivor
