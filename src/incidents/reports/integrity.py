"""Tamper evidence for report content: each revision must hash to what its audit event recorded.

The audit chain proves the log itself is intact; this check extends that proof to the stored
revisions, so that content edited by hand in report_revisions is found and located too.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
from sqlalchemy import Integer, and_, cast, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.audit.models import audit_events
from incidents.audit.service import ChainProblem, VerifyResult, verify
from incidents.reports.models import report_revisions, reports

_BATCH = 5_000
# The events that record a report's first revision: filed over the API, or imported/generated.
CREATING_ACTIONS = ("report.created", "report.imported")
_canonical = msgspec.json.Encoder(order="sorted")


def content_digest(content: Any) -> str:
    """SHA-256 of a revision's content in canonical JSON (sorted keys)."""
    return hashlib.sha256(_canonical.encode(content)).hexdigest()


async def verify_revisions(
    connection: AsyncConnection, *, max_problems: int = 100
) -> tuple[int, list[ChainProblem]]:
    """(revisions checked, problems): each problem names the audit event that recorded the hash."""
    recorded_revision = cast(audit_events.c.after["revision"].astext, Integer)
    event = and_(
        audit_events.c.entity_type == "report",
        audit_events.c.entity_id
        == cast(report_revisions.c.report_id, audit_events.c.entity_id.type),
        or_(
            and_(audit_events.c.action.in_(CREATING_ACTIONS), report_revisions.c.revision == 1),
            and_(
                audit_events.c.action == "report.updated",
                recorded_revision == report_revisions.c.revision,
            ),
        ),
    )
    query = (
        select(
            report_revisions.c.report_id,
            report_revisions.c.revision,
            report_revisions.c.content,
            reports.c.ref,
            audit_events.c.seq,
            audit_events.c.after["content_sha256"].astext.label("recorded"),
        )
        .join(reports, reports.c.id == report_revisions.c.report_id)
        .outerjoin(audit_events, event)
        .order_by(report_revisions.c.report_id, report_revisions.c.revision)
    )
    checked = 0
    problems: list[ChainProblem] = []
    result = await connection.stream(query.execution_options(yield_per=_BATCH))
    async for row in result:
        checked += 1
        if len(problems) >= max_problems:
            continue
        if row.seq is None:
            problems.append(
                ChainProblem(seq=0, reason=f"{row.ref} revision {row.revision} has no audit event")
            )
        elif row.recorded != content_digest(row.content):
            problems.append(
                ChainProblem(
                    seq=row.seq,
                    reason=f"{row.ref} revision {row.revision}: stored content differs from what "
                    "the audit log recorded (edited in the database)",
                )
            )
    return checked, problems


async def verify_all(
    connection: AsyncConnection, *, expected_head: str | None = None
) -> VerifyResult:
    """The audit chain, then every report revision against the hash its event recorded."""
    result = await verify(connection, expected_head=expected_head)
    checked, problems = await verify_revisions(connection)
    result.revisions_checked = checked
    result.problems.extend(problems)
    result.ok = not result.problems
    return result
