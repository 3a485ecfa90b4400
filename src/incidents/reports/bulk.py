"""Writing many reports at once with binary COPY: the batch endpoint, imports and re-imports.

One path for every bulk writer, so that each report gets the same rows as one filed over the
API: its incident, its first revision, and an audit event recording the content hash.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.audit.service import Actor, EventDraft, append
from incidents.db import copy_rows
from incidents.ids import new_id, reference
from incidents.reports.integrity import content_digest
from incidents.reports.models import incidents, report_revisions, reports
from incidents.reports.schemas import ReportContent

REPORT_COLUMNS = [
    "id",
    "number",
    "year",
    "incident_id",
    "organization_id",
    "status",
    "sharing",
    "revision",
    "taxonomy_version",
    "external_ref",
    "created_at",
    "updated_at",
    "submitted_at",
    "reviewed_at",
    "title",
    "summary",
    "language",
    "event_type",
    "severity",
    "severity_ordinal",
    "eu_categories",
    "harm_domains",
    "harm_types",
    "affected_groups",
    "sectors",
    "causal_entity",
    "causal_intent",
    "causal_timing",
    "system_type",
    "ai_tasks",
    "lifecycle_stage",
    "autonomy_level",
    "ai_system_name",
    "developer",
    "deployer",
    "reporting_jurisdiction",
    "affected_jurisdictions",
    "jurisdictions",
    "occurred_on",
    "occurred_precision",
    "detected_on",
    "people_affected",
    "deaths",
    "injuries",
]
REVISION_COLUMNS = [
    "report_id",
    "revision",
    "content",
    "sharing",
    "taxonomy_version",
    "created_at",
    "actor_org_id",
    "actor_key_id",
    "actor_label",
]
REVIEWED = ("accepted", "rejected")


class Filer(msgspec.Struct, frozen=True):
    organization_id: uuid.UUID
    jurisdiction: str | None


class NewReport(msgspec.Struct, kw_only=True):
    content: ReportContent
    derived: dict[str, Any]
    version: int
    status: str
    sharing: str
    external_ref: str | None = None
    incident: tuple[uuid.UUID, str] | None = None
    """An existing incident to join; otherwise a new one."""
    group: str | None = None
    """New reports with the same group share one new incident (e.g. an export's incident)."""


class Written(msgspec.Struct):
    id: uuid.UUID
    ref: str
    incident: str


async def numbers(connection: AsyncConnection, sequence: str, count: int) -> list[int]:
    if count == 0:
        return []
    rows = await connection.exec_driver_sql(
        f"SELECT nextval('{sequence}') FROM generate_series(1, {int(count)})"
    )
    return [int(row[0]) for row in rows]


async def write_reports(
    connection: AsyncConnection,
    filer: Filer,
    actor: Actor,
    items: Sequence[NewReport],
    *,
    action: str = "report.created",
    groups: dict[str, tuple[uuid.UUID, str]] | None = None,
) -> list[Written]:
    """COPY new reports (in order) with their incidents, revisions and audit events.

    ``groups`` (group -> incident) is filled as new incidents open; pass the same dict to
    several calls to keep one incident for a group across them.
    """
    if not items:
        return []
    now = datetime.now(UTC)
    groups = {} if groups is None else groups
    incident_numbers = iter(
        await numbers(connection, "incident_numbers", _new_incidents(items, groups))
    )
    report_numbers = await numbers(connection, "report_numbers", len(items))
    incident_rows, report_rows, revision_rows, drafts = [], [], [], []
    for item, number in zip(items, report_numbers, strict=True):
        if item.incident is not None:
            incident = item.incident
        elif item.group is not None and item.group in groups:
            incident = groups[item.group]
        else:
            incident_number = next(incident_numbers)
            incident = (new_id(), reference("INC", now.year, incident_number))
            incident_rows.append((incident[0], incident_number, now.year))
            if item.group is not None:
                groups[item.group] = incident
        report_id = new_id()
        row = {
            "id": report_id,
            "number": number,
            "year": now.year,
            "incident_id": incident[0],
            "organization_id": filer.organization_id,
            "status": item.status,
            "sharing": item.sharing,
            "revision": 1,
            "taxonomy_version": item.version,
            "external_ref": item.external_ref,
            "created_at": now,
            "updated_at": now,
            "submitted_at": None if item.status == "draft" else now,
            "reviewed_at": now if item.status in REVIEWED else None,
            **item.derived,
        }
        report_rows.append(tuple(row[column] for column in REPORT_COLUMNS))
        content = msgspec.to_builtins(item.content)
        revision_rows.append(
            (
                report_id,
                1,
                msgspec.json.encode(content).decode(),
                item.sharing,
                item.version,
                now,
                actor.org_id,
                actor.key_id,
                actor.label,
            )
        )
        drafts.append(
            EventDraft(
                action,
                "report",
                str(report_id),
                None,
                {
                    "ref": reference("RPT", now.year, number),
                    "incident": incident[1],
                    "status": item.status,
                    "sharing": item.sharing,
                    "taxonomy_version": item.version,
                    "title": item.content.title,
                    "content_sha256": content_digest(content),
                },
            )
        )
    await copy_rows(connection, "incidents", ["id", "number", "year"], incident_rows)
    await copy_rows(connection, "reports", REPORT_COLUMNS, report_rows)
    await copy_rows(connection, "report_revisions", REVISION_COLUMNS, revision_rows)
    await append(connection, actor, drafts)
    created = await connection.execute(
        select(reports.c.id, reports.c.ref, incidents.c.ref.label("incident_ref"))
        .join(incidents, incidents.c.id == reports.c.incident_id)
        .where(reports.c.id.in_([row[0] for row in report_rows]))
        .order_by(reports.c.number)
    )
    return [Written(row.id, row.ref, row.incident_ref) for row in created]


def _new_incidents(items: Sequence[NewReport], known: dict[str, Any]) -> int:
    groups: set[str] = set(known)
    count = 0
    for item in items:
        if item.incident is None and (item.group is None or item.group not in groups):
            count += 1
            if item.group is not None:
                groups.add(item.group)
    return count


async def replace_content(
    connection: AsyncConnection, actor: Actor, report: Any, item: NewReport
) -> None:
    """A re-import that changed: a new revision, the derived columns, and its audit event."""
    now = datetime.now(UTC)
    revision = report.revision + 1
    content = msgspec.to_builtins(item.content)
    await connection.execute(
        update(reports)
        .where(reports.c.id == report.id)
        .values(
            revision=revision,
            sharing=item.sharing,
            status=item.status,
            taxonomy_version=item.version,
            updated_at=now,
            **item.derived,
        )
    )
    await connection.execute(
        insert(report_revisions).values(
            report_id=report.id,
            revision=revision,
            content=content,
            sharing=item.sharing,
            taxonomy_version=item.version,
            created_at=now,
            actor_org_id=actor.org_id,
            actor_key_id=actor.key_id,
            actor_label=actor.label,
        )
    )
    await append(
        connection,
        actor,
        [
            EventDraft(
                "report.updated",
                "report",
                str(report.id),
                {"revision": report.revision},
                {
                    "revision": revision,
                    "source": "re-import",
                    "content_sha256": content_digest(content),
                },
            )
        ],
    )
