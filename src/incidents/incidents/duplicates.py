"""Possible duplicates: incidents the caller can see that look like the same event.

Candidates come from indexed probes among reports of about the same time: the same AI system
and the same developer by name (btree on the lowered name and the date, a fraction of a
millisecond), and, unless the caller is filing, the nearest titles by trigram distance (GiST on
occurred_on and title; tens of milliseconds at a million reports, so it runs on demand at
`/incidents/{ref}/similar` rather than on every submission). Each candidate report is scored on
title similarity and on signals that do not depend on the language a report is written in: the
same system or developer, how close the dates are, and how far the countries, harm domains and
sectors and the number of people affected agree; an incident scores as its best report.
Title similarity is near zero between two languages, so the language-independent signals are
what tell apart, across languages, the incident of the same event from other incidents of the
same system (bench/duplicates.py measures recall at 5 both ways, bench/RESULTS.md).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Date, Select, Text, Uuid, bindparam, func, select, union
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.incidents.models import incidents
from incidents.incidents.schemas import Candidate, Reference
from incidents.members.schemas import Principal
from incidents.reports.access import visible, visible_to
from incidents.reports.models import reports

PROBE = 30
NEAREST = 16
WINDOW = {"day": timedelta(days=60), "month": timedelta(days=90), "year": timedelta(days=400)}
THRESHOLD = 0.3
WEIGHTS = {
    "title": 0.4,
    "system": 0.15,
    "developer": 0.1,
    "dates": 0.1,
    "countries": 0.07,
    "domains": 0.08,
    "sectors": 0.04,
    "people": 0.06,
}
"""Each signal's share of a score of 1; shares of sets (countries, domains, sectors) and of dates
are graded by how far they agree."""


@functools.cache
def probe_statement(kind: str | None, titles: bool) -> Select[Any]:
    """The candidates query for one kind of viewer, built once: everything that varies between
    calls is a bound parameter, so SQLAlchemy neither rebuilds nor re-keys it per request."""
    scope = [
        visible_to(kind, bindparam("viewer", type_=Uuid)),
        reports.c.incident_id.is_distinct_from(bindparam("exclude", type_=Uuid)),
        reports.c.id.is_distinct_from(bindparam("exclude_report", type_=Uuid)),
    ]
    day = bindparam("day", type_=Date)
    start = bindparam("start", type_=Date)
    end = bindparam("end", type_=Date)
    title = bindparam("title", type_=Text)
    probes = []
    if titles:
        probes.append(
            select(reports.c.id)
            .where(*scope, reports.c.occurred_on.between(start, end))
            .order_by(reports.c.title.op("<->")(title))
            .limit(PROBE)
        )
    # The same system, and the same developer: the reports nearest in time on either side.
    for column, name in ((reports.c.ai_system_name, "system"), (reports.c.developer, "developer")):
        same = func.lower(column) == bindparam(name, type_=Text)
        probes += [
            select(reports.c.id)
            .where(*scope, same, reports.c.occurred_on >= day)
            .order_by(reports.c.occurred_on)
            .limit(NEAREST),
            select(reports.c.id)
            .where(*scope, same, reports.c.occurred_on < day)
            .order_by(reports.c.occurred_on.desc())
            .limit(NEAREST),
        ]
    candidates = union(*probes).subquery()
    return (
        select(
            reports.c.incident_id,
            incidents.c.ref,
            reports.c.title,
            func.similarity(reports.c.title, title).label("title_similarity"),
            reports.c.ai_system_name,
            reports.c.developer,
            reports.c.occurred_on,
            reports.c.jurisdictions,
            reports.c.harm_domains,
            reports.c.sectors,
            reports.c.people_affected,
        )
        .join(candidates, candidates.c.id == reports.c.id)
        .join(incidents, incidents.c.id == reports.c.incident_id)
    )


def _lowered(name: str | None) -> str | None:
    return name.strip().lower() if name and name.strip() else None


def probe_parameters(
    principal: Principal | None,
    *,
    title: str,
    system: str | None,
    developer: str | None,
    occurred_on: date,
    precision: str,
    exclude_incident: uuid.UUID | None,
    exclude_report: uuid.UUID | None = None,
) -> dict[str, Any]:
    """The values of `probe_statement`'s parameters for one report."""
    window = WINDOW.get(precision, WINDOW["day"])
    return {
        "viewer": principal.organization_id if principal else None,
        "exclude": exclude_incident,
        "exclude_report": exclude_report,
        "day": occurred_on,
        "start": occurred_on - window,
        "end": occurred_on + window,
        "title": title,
        "system": _lowered(system),
        "developer": _lowered(developer),
    }


def ranked(
    rows: Iterable[Any],
    *,
    system: str | None,
    developer: str | None,
    occurred_on: date,
    precision: str,
    jurisdictions: Sequence[str],
    harm_domains: Sequence[str] = (),
    sectors: Sequence[str] = (),
    people_affected: int | None = None,
    limit: int = 5,
) -> list[Candidate]:
    """The probe's rows (with the columns of `probe_statement`, by attribute) scored and ranked:
    each incident as its best report, those under the threshold left out."""
    probe = _Probe(
        system,
        developer,
        occurred_on,
        WINDOW.get(precision, WINDOW["day"]),
        set(jurisdictions),
        set(harm_domains),
        set(sectors),
        people_affected,
    )
    # Scores first; the reasons (strings) only for the candidates answered.
    best: dict[uuid.UUID, tuple[float, Any]] = {}
    for row in rows:
        score = round(_score(row, probe), 3)
        if score < THRESHOLD:
            continue
        known = best.get(row.incident_id)
        if known is None or score > known[0]:
            best[row.incident_id] = (score, row)
    ranking = sorted(best.values(), key=lambda item: (-item[0], item[1].ref))[:limit]
    return [_candidate(row, probe, score) for score, row in ranking]


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
    titles: bool = True,
    exclude_report: uuid.UUID | None = None,
    harm_domains: Sequence[str] = (),
    sectors: Sequence[str] = (),
    people_affected: int | None = None,
) -> list[Candidate]:
    """Incidents like the one described; ``titles=False`` skips the trigram probe (filing);
    ``exclude_report`` leaves one report out (the one being compared, when it is stored)."""
    rows = (
        await connection.execute(
            probe_statement(principal.kind if principal else None, titles),
            probe_parameters(
                principal,
                title=title,
                system=system,
                developer=developer,
                occurred_on=occurred_on,
                precision=precision,
                exclude_incident=exclude_incident,
                exclude_report=exclude_report,
            ),
        )
    ).all()
    return ranked(
        rows,
        system=system,
        developer=developer,
        occurred_on=occurred_on,
        precision=precision,
        jurisdictions=jurisdictions,
        harm_domains=harm_domains,
        sectors=sectors,
        people_affected=people_affected,
        limit=limit,
    )


class _Probe(NamedTuple):
    system: str | None
    developer: str | None
    day: date
    window: timedelta
    countries: set[str]
    domains: set[str]
    sectors: set[str]
    people: int | None


def _agreement(mine: set[str], theirs: Sequence[str]) -> tuple[float, list[str]]:
    """How far two sets agree (shared / all, 0 when either is empty) and what they share."""
    other = set(theirs)
    if not mine or not other:
        return 0.0, []
    shared = mine & other
    return len(shared) / len(mine | other), sorted(shared)


def _same(left: str | None, right: str | None) -> bool:
    return bool(left and right and left.strip().casefold() == right.strip().casefold())


def _score(row: Any, probe: _Probe, reasons: list[str] | None = None) -> float:
    """A candidate report's score; with ``reasons``, what agrees is appended to it."""
    score = WEIGHTS["title"] * float(row.title_similarity)
    if reasons is not None and row.title_similarity >= THRESHOLD:
        reasons.append(f"similar title ({row.title_similarity:.2f})")
    if _same(row.ai_system_name, probe.system):
        score += WEIGHTS["system"]
        if reasons is not None:
            reasons.append(f"same AI system: {row.ai_system_name}")
    if _same(row.developer, probe.developer):
        score += WEIGHTS["developer"]
        if reasons is not None:
            reasons.append(f"same developer: {row.developer}")
    apart = abs((row.occurred_on - probe.day).days)
    if apart <= probe.window.days:
        score += WEIGHTS["dates"] * (1 - apart / (probe.window.days + 1))
        if reasons is not None:
            reasons.append(f"occurred close in time ({row.occurred_on.isoformat()})")
    for name, mine, theirs, what in (
        ("countries", probe.countries, row.jurisdictions, "shared jurisdictions"),
        ("domains", probe.domains, row.harm_domains, "shared harm domains"),
        ("sectors", probe.sectors, row.sectors, "shared sectors"),
    ):
        share, shared = _agreement(mine, theirs)
        if shared:
            score += WEIGHTS[name] * share
            if reasons is not None:
                reasons.append(f"{what}: {', '.join(shared)}")
    if probe.people and row.people_affected == probe.people:
        score += WEIGHTS["people"]
        if reasons is not None:
            reasons.append(f"same number of people affected: {probe.people:,}")
    return score


def _candidate(row: Any, probe: _Probe, score: float) -> Candidate:
    reasons: list[str] = []
    _score(row, probe, reasons)
    return Candidate(
        incident=Reference(id=row.incident_id, ref=row.ref),
        score=score,
        reasons=reasons,
        title=row.title,
    )


SIMILAR_FROM = 3
"""An incident's similar incidents are looked for from its first reports only."""


async def similar_to(
    connection: AsyncConnection, principal: Principal | None, incident: Any, limit: int
) -> list[Candidate]:
    """Incidents the caller may see that look like ``incident`` (best score first): the
    candidates of its first reports, fuzzy titles included, each incident scored as its best."""
    rows = await connection.execute(
        select(reports)
        .where(reports.c.incident_id == incident.id, visible(principal))
        .order_by(reports.c.number)
        .limit(SIMILAR_FROM)
    )
    found: dict[str, Candidate] = {}
    for row in rows.all():
        for candidate in await find_similar(
            connection,
            principal,
            title=row.title,
            system=row.ai_system_name,
            developer=row.developer,
            occurred_on=row.occurred_on,
            precision=row.occurred_precision,
            jurisdictions=list(row.jurisdictions),
            exclude_incident=incident.id,
            limit=limit,
            harm_domains=list(row.harm_domains),
            sectors=list(row.sectors),
            people_affected=row.people_affected,
        ):
            known = found.get(candidate.incident.ref)
            if known is None or candidate.score > known.score:
                found[candidate.incident.ref] = candidate
    return sorted(found.values(), key=lambda item: (-item.score, item.incident.ref))[:limit]
