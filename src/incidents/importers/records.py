"""What every importer shares: a source record mapped onto our fields, checked like a filing,
then written in bulk; re-importing changes only what changed.

A source record is a flat dict of our field names (``title``, ``harm_domain``, ``sector``...)
to values already translated into taxonomy codes, with the source column each came from, so
that a problem names the row and the column a person can fix.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import msgspec
from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.audit.service import Actor
from incidents.reports.content import check, derive
from incidents.reports.copying import write_reports
from incidents.reports.integrity import content_digest
from incidents.reports.models import report_revisions, reports
from incidents.reports.schemas import AISystem, Harm, ReportContent, Source
from incidents.reports.writer import Filer, NewReport, replace_content
from incidents.taxonomy.service import Taxonomy

LIST_FIELDS = {
    "eu_serious_incident",
    "harm_domain",
    "harm_type",
    "affected_group",
    "ai_task",
    "sector",
    "affected_jurisdiction",
    "source_url",
    "source_reference",
}
SCALAR_FIELDS = {
    "title",
    "summary",
    "language",
    "event_type",
    "severity",
    "causal_entity",
    "causal_intent",
    "causal_timing",
    "ai_system_name",
    "developer",
    "deployer",
    "system_type",
    "lifecycle_stage",
    "autonomy_level",
    "occurred_on",
    "detected_on",
    "people_affected",
    "deaths",
    "injuries",
    "actions_taken",
    "sharing",
    "status",
    "external_ref",
    "incident",
}
FIELDS = LIST_FIELDS | SCALAR_FIELDS

# Where a content error points back to: ReportContent path prefix -> our field name.
_CONTENT_TO_FIELD = {
    "title": "title",
    "summary": "summary",
    "language": "language",
    "event_type": "event_type",
    "severity": "severity",
    "eu_serious_incident": "eu_serious_incident",
    "harms": "harm_domain",
    "causal_entity": "causal_entity",
    "causal_intent": "causal_intent",
    "causal_timing": "causal_timing",
    "ai_system.name": "ai_system_name",
    "ai_system.developer": "developer",
    "ai_system.deployer": "deployer",
    "ai_system.system_type": "system_type",
    "ai_system.tasks": "ai_task",
    "ai_system.lifecycle_stage": "lifecycle_stage",
    "ai_system.autonomy_level": "autonomy_level",
    "sectors": "sector",
    "affected_jurisdictions": "affected_jurisdiction",
    "occurred_on": "occurred_on",
    "detected_on": "detected_on",
    "people_affected": "people_affected",
    "deaths": "deaths",
    "injuries": "injuries",
    "sources": "source_url",
    "actions_taken": "actions_taken",
}


class Problem(msgspec.Struct):
    """One thing wrong with the source: its row (the file's line for tables; 0 = the file as a
    whole), its column as the file names it, and why."""

    row: int
    column: str
    message: str


class Record(msgspec.Struct):
    row: int
    values: dict[str, Any]
    columns: dict[str, str]
    """Our field -> the source column it came from (for problems)."""


class Summary(msgspec.Struct):
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    unmapped: dict[str, int] = msgspec.field(default_factory=dict)
    """Per field: values the crosswalks or value maps did not know, kept as unclassified."""
    problems: list[Problem] = msgspec.field(default_factory=list)


_STAND_INS = {
    "title": "-",
    "summary": "-",
    "occurred_on": "2000",
    "event_type": "incident",
    "severity": "incident",
}


def _field_of(path: str) -> str:
    """A ReportContent path (``harms[0].harm_type``) -> our field, whose column the user knows."""
    if path.startswith("harms["):
        for part, field in (("harm_type", "harm_type"), ("affected_groups", "affected_group")):
            if part in path:
                return field
    return next((f for prefix, f in _CONTENT_TO_FIELD.items() if path.startswith(prefix)), path)


def _column(record: Record, field: str) -> str:
    return record.columns.get(field, field)


def to_content(record: Record) -> tuple[ReportContent | None, list[Problem]]:
    """Assemble the API's ReportContent from a mapped record (shape only; codes checked later)."""
    values = record.values
    problems: list[Problem] = []

    def text(field: str) -> str | None:
        value = values.get(field)
        return str(value).strip() or None if value is not None else None

    def integer(field: str) -> int | None:
        value = values.get(field)
        if value in (None, ""):
            return None
        try:
            number = int(str(value).replace(",", "").strip())
        except ValueError:
            problems.append(
                Problem(record.row, _column(record, field), f"{value!r} is not a whole number")
            )
            return None
        if number < 0:
            problems.append(Problem(record.row, _column(record, field), "Must not be negative"))
        return number

    def listed(field: str) -> list[str]:
        value = values.get(field) or []
        return [str(item) for item in value] if isinstance(value, list) else [str(value)]

    for required in ("title", "summary", "occurred_on", "event_type", "severity"):
        if not text(required):
            problems.append(
                Problem(record.row, _column(record, required), "No value (and no default)")
            )
            # A stand-in, so that the row's other fields are still checked (and reported).
            values = {**values, required: _STAND_INS[required]}
    detected = None
    if text("detected_on"):
        try:
            detected = date.fromisoformat(str(text("detected_on")))
        except ValueError:
            problems.append(
                Problem(record.row, _column(record, "detected_on"), "Not a YYYY-MM-DD date")
            )
    numbers = {field: integer(field) for field in ("people_affected", "deaths", "injuries")}
    groups = listed("affected_group")
    harm_types = listed("harm_type")
    # Every harm of the row: each domain with each harm type (a row may list several of both).
    harms = [
        Harm(domain=domain, harm_type=harm_type, affected_groups=groups)
        for domain in dict.fromkeys(listed("harm_domain"))
        for harm_type in (list[str | None](dict.fromkeys(harm_types)) or [None])
    ]
    if harm_types and not harms:
        problems.append(
            Problem(
                record.row,
                _column(record, "harm_domain"),
                "A harm type without a harm domain would be lost: give the domain",
            )
        )
        return None, problems
    system_name = (
        text("ai_system_name") or text("developer") or text("deployer") or "Unnamed AI system"
    )
    sources = [Source(url=url) for url in listed("source_url")]
    sources += [Source(reference=reference) for reference in listed("source_reference")]
    content = ReportContent(
        title=str(text("title"))[:300],
        summary=str(text("summary"))[:20_000],
        language=text("language") or "en",
        event_type=text("event_type"),  # type: ignore[arg-type]  # checked by msgspec below
        severity=str(text("severity")),
        eu_serious_incident=list(dict.fromkeys(listed("eu_serious_incident"))),
        harms=harms,
        causal_entity=text("causal_entity"),
        causal_intent=text("causal_intent"),
        causal_timing=text("causal_timing"),
        ai_system=AISystem(
            name=system_name[:200],
            developer=(text("developer") or None),
            deployer=(text("deployer") or None),
            system_type=text("system_type"),
            tasks=list(dict.fromkeys(listed("ai_task"))),
            lifecycle_stage=text("lifecycle_stage"),
            autonomy_level=text("autonomy_level"),
        ),
        sectors=list(dict.fromkeys(listed("sector"))),
        affected_jurisdictions=sorted(set(listed("affected_jurisdiction"))),
        occurred_on=str(text("occurred_on")),
        detected_on=detected,
        people_affected=numbers["people_affected"],
        deaths=numbers["deaths"],
        injuries=numbers["injuries"],
        sources=sources[:50],
        actions_taken=text("actions_taken"),
    )
    try:
        # The constructor trusts its arguments; a round trip applies every schema bound.
        content = msgspec.convert(msgspec.to_builtins(content), ReportContent)
    except msgspec.ValidationError as error:
        message, _, where = str(error).partition(" - at `$.")
        path = where.rstrip("`")
        problems.append(Problem(record.row, _column(record, _field_of(path)), message))
        return None, problems
    return content, problems


class Prepared(msgspec.Struct):
    row: int
    item: NewReport


def prepare(
    records: Sequence[Record], taxonomy: Taxonomy, jurisdiction: str | None, *, complete: bool
) -> tuple[list[Prepared], list[Problem]]:
    """Check every record as a filing would be; collect every problem, by row and column."""
    today = datetime.now(UTC).date()
    prepared: list[Prepared] = []
    problems: list[Problem] = []
    references: dict[str, int] = {}
    for record in records:
        content, shape_problems = to_content(record)
        problems.extend(shape_problems)
        if content is None:
            continue
        # Every other problem of the row too, except what follows from a cell already named.
        named = {problem.column for problem in shape_problems}
        errors = check(content, taxonomy, today, complete=complete)
        for error in errors:
            column = _column(record, _field_of(error.field))
            if column not in named:
                problems.append(Problem(record.row, column, error.message))
        if shape_problems:
            continue
        values = record.values
        sharing = str(values.get("sharing") or "")
        status = str(values.get("status") or "")
        if sharing not in {"TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:RED"}:
            problems.append(
                Problem(record.row, _column(record, "sharing"), f"{sharing!r} is not a TLP level")
            )
        if status not in {
            "draft",
            "submitted",
            "under_review",
            "accepted",
            "rejected",
            "withdrawn",
        }:
            problems.append(
                Problem(record.row, _column(record, "status"), f"{status!r} is not a status")
            )
        reference = str(values.get("external_ref") or "").strip() or None
        if reference is not None:
            if reference in references:
                problems.append(
                    Problem(
                        record.row,
                        _column(record, "external_ref"),
                        f"{reference!r} is also row {references[reference]}",
                    )
                )
            references.setdefault(reference, record.row)
        if errors:
            continue
        prepared.append(
            Prepared(
                row=record.row,
                item=NewReport(
                    content=content,
                    derived=derive(content, taxonomy, jurisdiction),
                    version=taxonomy.version,
                    status=status,
                    sharing=sharing,
                    external_ref=reference,
                    group=str(values["incident"]) if values.get("incident") else None,
                ),
            )
        )
    return prepared, problems


async def write(
    connection: AsyncConnection,
    organization_id: uuid.UUID,
    jurisdiction: str | None,
    actor: Actor,
    prepared: Sequence[Prepared],
    summary: Summary,
    groups: dict[str, tuple[uuid.UUID, str]] | None = None,
) -> Summary:
    """Create what is new, revise what changed (by external reference), leave the rest."""
    filer = Filer(organization_id, jurisdiction)
    existing = await _existing(connection, organization_id, [p.item.external_ref for p in prepared])
    new: list[NewReport] = []
    for entry in prepared:
        item = entry.item
        current = existing.get(item.external_ref) if item.external_ref else None
        if current is None:
            new.append(item)
        elif (
            current.digest != content_digest(msgspec.to_builtins(item.content))
            or current.sharing != item.sharing
            or current.status != item.status
        ):
            await replace_content(connection, actor, current, item)
            summary.updated += 1
        else:
            summary.unchanged += 1
    written = await write_reports(
        connection, filer, actor, new, action="report.imported", groups=groups
    )
    summary.created += len(written)
    return summary


class _Existing(msgspec.Struct):
    id: uuid.UUID
    revision: int
    sharing: str
    status: str
    digest: str


async def _existing(
    connection: AsyncConnection, organization_id: uuid.UUID, references: Sequence[str | None]
) -> dict[str, _Existing]:
    wanted = [reference for reference in references if reference]
    found: dict[str, _Existing] = {}
    for start in range(0, len(wanted), 5_000):
        rows = await connection.execute(
            select(
                reports.c.id,
                reports.c.external_ref,
                reports.c.revision,
                reports.c.sharing,
                reports.c.status,
                report_revisions.c.content,
            )
            .join(
                report_revisions,
                and_(
                    report_revisions.c.report_id == reports.c.id,
                    report_revisions.c.revision == reports.c.revision,
                ),
            )
            .where(
                reports.c.organization_id == organization_id,
                reports.c.external_ref.in_(wanted[start : start + 5_000]),
            )
        )
        for row in rows:
            found[row.external_ref] = _Existing(
                row.id, row.revision, row.sharing, row.status, content_digest(row.content)
            )
    return found


def count_unmapped(summary: Summary, field: str, count: int = 1) -> None:
    summary.unmapped[field] = summary.unmapped.get(field, 0) + count
