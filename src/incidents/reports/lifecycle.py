"""Lifecycle steps on a report: submit and withdraw (its submitter), start a review, accept or
reject (the secretariat), each checked against the table in states.py and audited."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.audit.service import EventDraft, append
from incidents.errors import Conflict, Forbidden
from incidents.incidents.reading import resolve_incident, survivor_of
from incidents.members.schemas import Principal
from incidents.members.service import actor_for
from incidents.reports import schemas
from incidents.reports.filing import own_report
from incidents.reports.models import reports
from incidents.reports.reading import get_report
from incidents.reports.states import (
    REVIEWED,
    TRANSITIONS,
    Action,
    Status,
    reviewed_at,
    submitted_at,
)


async def transition(
    connection: AsyncConnection,
    principal: Principal,
    reference: str,
    action: Action,
    reason: str | None = None,
) -> schemas.Report:
    """Take ``action`` on a report; 403 for the wrong role, 409 from the wrong status."""
    step = TRANSITIONS[action]
    if step.who == "submitter":
        report = await own_report(connection, principal, reference)
    else:
        if principal.kind != "secretariat":
            raise Forbidden("Only the secretariat reviews reports")
        report = await get_report(connection, principal, reference)
    if report.status not in step.sources:
        raise Conflict(f"Cannot {action.replace('_', ' ')} a report that is {report.status}")
    now = datetime.now(UTC)
    values: dict[str, Any] = {"status": step.target, "updated_at": now}
    if step.target in REVIEWED:
        values["reviewed_at"] = reviewed_at(step.target, now)
    if step.reason == "given":
        values["status_reason"] = reason
    elif step.reason == "cleared":
        values["status_reason"] = None
    if report.submitted_at is None and step.target != Status.WITHDRAWN:
        values["submitted_at"] = submitted_at(step.target, now)
    linked: Any = None
    if action == Action.ACCEPT and report.proposed_incident is not None:
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
    before: dict[str, Any] = {"status": str(report.status)}
    after: dict[str, Any] = {"status": str(step.target)}
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
