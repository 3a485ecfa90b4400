"""A report filed alone, in one round trip.

One statement, built once per kind of filer and sent through asyncpg (which prepares it once per
connection and reuses the plan): the incident (unless the report joins one), the report row, its
first revision, its audit event (pending, sealed as every event is), and the duplicate probe,
whose rows come back with the new refs. The probe reads the snapshot the statement started
with, so it never sees the report being filed; the audit event names the refs PostgreSQL draws
(from the number sequences), so its JSON is built here with a random mark where each ref goes
and PostgreSQL puts the ref there. A conflicting external_ref inserts no report, no revision
and no event; the caller answers 409 and the transaction rolls back the incident.
"""

from __future__ import annotations

import functools
import re
import uuid
from datetime import datetime
from typing import Any, NamedTuple

import msgspec
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.audit.service import Actor, pending_rows
from incidents.db import driver_in_transaction
from incidents.incidents.duplicates import probe_parameters, probe_statement, ranked
from incidents.incidents.schemas import Candidate
from incidents.members.schemas import Principal
from incidents.reports.writer import (
    REPORT_COLUMNS,
    REVISION_COLUMNS,
    NewReport,
    ReportRow,
    creation_event,
    first_rows,
)


class Statement(NamedTuple):
    """SQL with positional parameters ($1...) and the name each position takes its value from;
    ``constants`` are the values fixed when the statement was built."""

    sql: str
    names: tuple[str, ...]
    constants: dict[str, Any]

    def arguments(self, values: dict[str, Any]) -> list[Any]:
        return [values[name] if name in values else self.constants[name] for name in self.names]


_NAMED = re.compile(r"(?<![:\w$]):(\w+)")


def _numbered(sql: str, names: list[str]) -> str:
    """``:name`` placeholders -> ``$n``, numbering new names after those in ``names``."""

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _NAMED.sub(number, sql)


def _filing_sql() -> str:
    columns = [name for name in REPORT_COLUMNS if name != "number"]
    revision = list(REVISION_COLUMNS)
    values = {name: f":rev_{name}" for name in revision}
    values.update(report_id="filed.id", content="CAST(:rev_content AS jsonb)")
    incident_ref = "coalesce((SELECT ref FROM new_incident), CAST(:incident_ref AS text))"

    def with_refs(name: str) -> str:
        return f"replace(replace(:{name}, :mark_report, filed.ref), :mark_incident, {incident_ref})"

    return f"""
        WITH new_incident AS (
            INSERT INTO incidents (id, year)
            SELECT :row_incident_id, :row_year WHERE CAST(:new_incident AS boolean)
            RETURNING ref
        ), filed AS (
            INSERT INTO reports ({", ".join(columns)})
            VALUES ({", ".join(f":row_{name}" for name in columns)})
            ON CONFLICT (organization_id, external_ref) WHERE external_ref IS NOT NULL DO NOTHING
            RETURNING id, ref
        ), first_revision AS (
            INSERT INTO report_revisions ({", ".join(revision)})
            SELECT {", ".join(values[name] for name in revision)} FROM filed
        ), event AS (
            INSERT INTO audit_events (seq, id, occurred_at, actor_org_id, actor_key_id,
                actor_label, action, entity_type, entity_id, before, after, pending_canonical)
            SELECT -nextval('audit_pending_numbers'), CAST(:ev_id AS uuid),
                CAST(:ev_occurred_at AS timestamptz), CAST(:ev_actor_org_id AS uuid),
                CAST(:ev_actor_key_id AS uuid), :ev_actor_label, :ev_action, :ev_entity_type,
                :ev_entity_id, CAST(:ev_before AS jsonb),
                CAST({with_refs("ev_after")} AS jsonb),
                convert_to({with_refs("ev_canonical")}, 'UTF8')
            FROM filed
        )"""


@functools.cache
def filing_statement(kind: str | None) -> Statement:
    """The filing statement for one kind of filer (the probe's visibility depends on it)."""
    probe = probe_statement(kind, False).compile(
        dialect=asyncpg_dialect.dialect(),  # type: ignore[no-untyped-call]
        compile_kwargs={"render_postcompile": True},
    )
    names = list(probe.positiontup or ())
    head = _numbered(_filing_sql(), names)
    tail = _numbered(
        "SELECT found.report_ref, found.incident_ref, candidates.* FROM (SELECT "
        "(SELECT ref FROM filed) AS report_ref, "
        "coalesce((SELECT ref FROM new_incident), CAST(:incident_ref AS text)) AS incident_ref"
        ") AS found LEFT JOIN candidates ON found.report_ref IS NOT NULL",
        names,
    )
    sql = f"{head}, candidates AS ({probe}) {tail}"
    constants = {name: value for name, value in probe.params.items() if value is not None}
    return Statement(sql, tuple(names), constants)


class CandidateRow(NamedTuple):
    """A row of the duplicate probe, as `ranked` reads it."""

    incident_id: uuid.UUID
    ref: str
    title: str
    title_similarity: float
    ai_system_name: str
    developer: str | None
    occurred_on: Any
    jurisdictions: list[str]
    harm_domains: list[str]
    sectors: list[str]
    people_affected: int | None


class Filed(msgspec.Struct, frozen=True):
    """A report filed alone, as written: its row, refs, and the incidents it may duplicate."""

    row: ReportRow
    ref: str
    incident_ref: str
    candidates: list[Candidate]


def filing_values(
    principal: Principal,
    actor: Actor,
    item: NewReport,
    *,
    report_id: uuid.UUID,
    incident_id: uuid.UUID,
    at: datetime,
) -> tuple[ReportRow, dict[str, Any]]:
    """A new report's row, and the values of `filing_statement`'s parameters that write it."""
    row, revision, digest = first_rows(
        report_id=report_id,
        number=None,
        incident_id=incident_id,
        organization_id=principal.organization_id,
        content=item.content,
        derived=item.derived,
        status=item.status,
        sharing=item.sharing,
        version=item.version,
        external_ref=item.external_ref,
        actor=actor,
        at=at,
    )
    mark = uuid.uuid4().hex
    marks = {"mark_report": f"@{mark}r", "mark_incident": f"@{mark}i"}
    event = creation_event(
        row,
        marks["mark_report"],
        marks["mark_incident"],
        digest,
        item.content.title,
        "report.created",
    )
    (pending,) = pending_rows(actor, [event])
    values: dict[str, Any] = {f"ev_{name}": value for name, value in pending.items()}
    values["ev_canonical"] = values.pop("ev_pending_canonical").decode()
    values.update(marks)
    values.update((f"row_{name}", getattr(row, name)) for name in REPORT_COLUMNS)
    values.update((f"rev_{name}", getattr(revision, name)) for name in REVISION_COLUMNS)
    values["new_incident"] = item.incident is None
    values["incident_ref"] = item.incident[1] if item.incident is not None else None
    derived = item.derived
    values.update(
        probe_parameters(
            principal,
            title=derived.title,
            system=derived.ai_system_name,
            developer=derived.developer,
            occurred_on=derived.occurred_on,
            precision=derived.occurred_precision,
            exclude_incident=incident_id,
        )
    )
    return row, values


async def file_one(
    connection: AsyncConnection,
    principal: Principal,
    actor: Actor,
    item: NewReport,
    *,
    report_id: uuid.UUID,
    incident_id: uuid.UUID,
    at: datetime,
) -> Filed | None:
    """Write one report (its incident unless ``item.incident`` names one, the row, the first
    revision, the audit event) and probe for duplicates, in one round trip. None when the
    organization already filed this external_ref: nothing was written (the caller answers 409)."""
    row, values = filing_values(
        principal, actor, item, report_id=report_id, incident_id=incident_id, at=at
    )
    statement = filing_statement(principal.kind)
    driver = await driver_in_transaction(connection)
    records = await driver.fetch(statement.sql, *statement.arguments(values))
    first = records[0]
    if first["report_ref"] is None:
        return None
    derived = item.derived
    candidates = ranked(
        (CandidateRow(*record[2:]) for record in records if record["incident_id"] is not None),
        system=derived.ai_system_name,
        developer=derived.developer,
        occurred_on=derived.occurred_on,
        precision=derived.occurred_precision,
        jurisdictions=derived.jurisdictions,
        harm_domains=derived.harm_domains,
        sectors=derived.sectors,
        people_affected=derived.people_affected,
    )
    return Filed(
        row=row, ref=first["report_ref"], incident_ref=first["incident_ref"], candidates=candidates
    )
