"""Possible duplicates: incidents the caller can see that look like the same event.

Candidates come from two indexed probes among reports of about the same time: the nearest
titles by trigram distance (GiST on occurred_on and title) and the same AI system by name. Each
candidate report is scored on title similarity, the same system or developer, dates within the
window, and shared countries; an incident scores as its best report.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any, NamedTuple

from sqlalchemy import func, select, union
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.members.schemas import Principal
from incidents.reports.access import visible
from incidents.reports.models import incidents, reports
from incidents.reports.schemas import Candidate, Reference

PROBE = 30
WINDOW = {"day": timedelta(days=60), "month": timedelta(days=90), "year": timedelta(days=400)}
THRESHOLD = 0.3
WEIGHTS = {"title": 0.5, "system": 0.2, "developer": 0.1, "dates": 0.1, "countries": 0.1}


async def find_similar(
    connection: AsyncConnection,
    principal: Principal | None,
    *,
    title: str,
    system: str | None,
    developer: str | None,
    occurred_on: date,
    precision: str,
    jurisdictions: list[str],
    exclude_incident: uuid.UUID | None,
    limit: int = 5,
) -> list[Candidate]:
    window = WINDOW.get(precision, WINDOW["day"])
    start, end = occurred_on - window, occurred_on + window
    scope = [visible(principal)]
    if exclude_incident is not None:
        scope.append(reports.c.incident_id != exclude_incident)
    probes = [
        select(reports.c.id)
        .where(*scope, reports.c.occurred_on.between(start, end))
        .order_by(reports.c.title.op("<->")(title))
        .limit(PROBE)
    ]
    if system:
        probes.append(
            select(reports.c.id)
            .where(*scope, func.lower(reports.c.ai_system_name) == system.lower())
            .order_by(reports.c.number.desc())
            .limit(PROBE)
        )
    candidates = union(*probes).subquery()
    rows = (
        await connection.execute(
            select(
                reports.c.incident_id,
                incidents.c.ref,
                reports.c.title,
                func.similarity(reports.c.title, title).label("title_similarity"),
                reports.c.ai_system_name,
                reports.c.developer,
                reports.c.occurred_on,
                reports.c.jurisdictions,
            )
            .join(candidates, candidates.c.id == reports.c.id)
            .join(incidents, incidents.c.id == reports.c.incident_id)
        )
    ).all()
    probe = _Probe(system, developer, start, end, set(jurisdictions))
    best: dict[uuid.UUID, Candidate] = {}
    for row in rows:
        candidate = _score(row, probe)
        if candidate.score < THRESHOLD:
            continue
        known = best.get(row.incident_id)
        if known is None or candidate.score > known.score:
            best[row.incident_id] = candidate
    ranked = sorted(best.values(), key=lambda item: (-item.score, item.incident.ref))
    return ranked[:limit]


class _Probe(NamedTuple):
    system: str | None
    developer: str | None
    start: date
    end: date
    countries: set[str]


def _same(left: str | None, right: str | None) -> bool:
    return bool(left and right and left.strip().casefold() == right.strip().casefold())


def _score(row: Any, probe: _Probe) -> Candidate:
    reasons: list[str] = []
    score = WEIGHTS["title"] * float(row.title_similarity)
    if row.title_similarity >= THRESHOLD:
        reasons.append(f"similar title ({row.title_similarity:.2f})")
    if _same(row.ai_system_name, probe.system):
        score += WEIGHTS["system"]
        reasons.append(f"same AI system: {row.ai_system_name}")
    if _same(row.developer, probe.developer):
        score += WEIGHTS["developer"]
        reasons.append(f"same developer: {row.developer}")
    if probe.start <= row.occurred_on <= probe.end:
        score += WEIGHTS["dates"]
        reasons.append(f"occurred close in time ({row.occurred_on.isoformat()})")
    shared = sorted(probe.countries.intersection(row.jurisdictions))
    if shared:
        score += WEIGHTS["countries"]
        reasons.append(f"shared jurisdictions: {', '.join(shared)}")
    return Candidate(
        incident=Reference(id=row.incident_id, ref=row.ref),
        score=round(score, 3),
        reasons=reasons,
        title=row.title,
    )
