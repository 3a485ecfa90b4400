"""A synthetic registry of any size that behaves like the real thing, deterministic from a seed.

Reporting and affected countries weighted by population and capacity (world.py), skewed so
that a few jurisdictions file most reports and some none, several regulators in the busiest
countries, harm domains whose share drifts so that some genuinely emerge in the latest quarters,
cross-border incidents (mostly between neighbours) reported by several jurisdictions in different
wordings and languages, regulators reporting events abroad, reports of one incident that disagree
on severity, occurrence date, date precision and affected countries, every sharing level and
lifecycle state, severities skewed low with rare disasters, and realistic delays between
occurrence, detection and submission.

Rows are written with binary COPY in one transaction, with their incidents, revisions and
hash-chained audit events; content is built as the API's own ReportContent and passes the same
checks. On an empty registry the secondary indexes are dropped for the load and rebuilt after.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import msgspec
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.audit.service import (
    Actor,
    chain_rows,
    lock_head,
    seal_pending,
    store_head,
)
from incidents.db import Database, copy_rows
from incidents.members import schemas as member_schemas
from incidents.members import service as members
from incidents.reports.models import reports
from incidents.reports.writer import (
    REPORT_COLUMNS,
    REVISION_COLUMNS,
)
from incidents.synthetic.incidents import Generator, Rows
from incidents.synthetic.world import (
    Member,
    Regulator,
    choose_members,
    plan,
    vocabulary,
)
from incidents.taxonomy.service import Taxonomy

logger = logging.getLogger("incidents.synthetic")

CHUNK = 20_000
# The order Generator.incident builds its report tuples in.
AUDIT_COLUMNS = [
    "seq",
    "id",
    "occurred_at",
    "actor_org_id",
    "actor_key_id",
    "actor_label",
    "action",
    "entity_type",
    "entity_id",
    "before",
    "after",
    "content_hash",
    "prev_hash",
    "hash",
]
LOAD_TABLES = ("incidents", "reports", "report_revisions", "audit_events")
Progress = Callable[[int, int], None]


async def _reserve(connection: AsyncConnection, sequence: str, count: int) -> Iterator[int]:
    """A block of ``count`` numbers from a sequence, in one statement."""
    last = (
        await connection.execute(
            text(f"SELECT setval('{sequence}', nextval('{sequence}') + :extra)"),
            {"extra": count - 1},
        )
    ).scalar_one()
    return iter(range(int(last) - count + 1, int(last) + 1))


async def ensure_members(
    connection: AsyncConnection, taxonomy: Taxonomy, chosen: list[Member], actor: Actor
) -> dict[str, list[Regulator]]:
    """The chosen countries' regulators (several in the busiest), and research members."""
    words = vocabulary()
    existing = {org.name: org for org in await members.list_organizations(connection)}
    regulators: dict[str, list[Regulator]] = {}
    for member in chosen:
        for kind in words.words["regulator_kinds"][: member.regulators]:
            name = f"{taxonomy.countries[member.code].name} {kind}"
            organization = existing.get(name) or await members.create_organization(
                connection,
                actor,
                member_schemas.OrganizationCreate(
                    name=name, kind="regulator", jurisdiction=member.code
                ),
                taxonomy.countries,
            )
            regulators.setdefault(member.code, []).append(
                Regulator(organization.id, name, member.code)
            )
    for name in words.words["research_names"]:
        if name not in existing:
            await members.create_organization(
                connection,
                actor,
                member_schemas.OrganizationCreate(name=name, kind="research"),
                taxonomy.countries,
            )
    return regulators


class Summary(msgspec.Struct):
    reports: int
    incidents: int
    organizations: int
    seconds: float
    indexes_rebuilt: bool


async def _secondary_indexes(connection: AsyncConnection) -> list[tuple[str, str]]:
    """(name, definition) of the load tables' indexes that back no constraint."""
    rows = await connection.execute(
        text(
            """
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.schemaname = current_schema() AND i.tablename = ANY(:tables)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
            ORDER BY i.indexname
            """
        ),
        {"tables": list(LOAD_TABLES)},
    )
    return [(row.indexname, row.indexdef) for row in rows]


async def generate(
    database: Database,
    taxonomy: Taxonomy,
    *,
    reports_wanted: int,
    seed: int = 1,
    years: int = 5,
    end: date | None = None,
    progress: Progress | None = None,
) -> Summary:
    """Generate ``reports_wanted`` reports into the registry (one transaction)."""
    started = asyncio.get_running_loop().time()
    now, start, end = _calendar(end, years)
    rng = random.Random(seed)
    actor = Actor(label=f"synthetic:seed={seed}")
    async with database.transaction() as connection:
        await connection.execute(text("SET LOCAL synchronous_commit = off"))
        await connection.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
        chosen = choose_members(taxonomy, rng, vocabulary().geography)
        regulators = await ensure_members(connection, taxonomy, chosen, actor)
        await seal_pending(connection)  # the load below rebuilds audit_events' indexes
        empty = (await connection.execute(select(reports.c.id).limit(1))).first() is None
        indexes = await _secondary_indexes(connection) if empty else []
        for name, _ in indexes:
            await connection.execute(text(f'DROP INDEX "{name}"'))
        if empty:
            # Empty already; truncating gives the tables new files in this transaction, which
            # lets PostgreSQL (wal_level=minimal, as the embedded cluster runs) skip the WAL.
            await connection.execute(text("TRUNCATE report_revisions, reports, incidents"))
        world = plan(taxonomy, rng, chosen, regulators, start, end)
        generator = Generator(world, rng, now, actor.label)
        generator.incident_numbers = await _reserve(connection, "incident_numbers", reports_wanted)
        generator.report_numbers = await _reserve(connection, "report_numbers", reports_wanted)
        head = await lock_head(connection)
        done = incidents = 0

        def make_chunk(
            target: int, head: tuple[int, bytes]
        ) -> tuple[Rows, list[dict[str, Any]], int]:
            rows = generator.chunk(target)
            return rows, chain_rows(actor, rows.events, *head), len(rows.reports)

        # Build the next chunk in a thread while the previous one is copied: PostgreSQL's share of
        # the work then runs on the other core.
        pending: asyncio.Task[None] | None = None
        while done < reports_wanted:
            rows, events, made = await asyncio.to_thread(
                make_chunk, min(CHUNK, reports_wanted - done), head
            )
            head = (events[-1]["seq"], events[-1]["hash"])
            if pending is not None:
                await pending
            pending = asyncio.create_task(_write(connection, rows, events))
            done += made
            incidents += len(rows.incidents)
            if progress:
                progress(done, reports_wanted)
        if pending is not None:
            await pending
        await store_head(connection, *head)
        loaded = asyncio.get_running_loop().time()
        for name, definition in indexes:
            began = asyncio.get_running_loop().time()
            await connection.execute(text(definition))
            logger.debug(
                "index %s rebuilt in %.1f s", name, asyncio.get_running_loop().time() - began
            )
        indexed = asyncio.get_running_loop().time()
        for table in LOAD_TABLES:
            await connection.execute(text(f"ANALYZE {table}"))
        logger.info(
            "rows written in %.1f s, indexes rebuilt in %.1f s, analysed in %.1f s",
            loaded - started,
            indexed - loaded,
            asyncio.get_running_loop().time() - indexed,
        )
        organizations = sum(len(found) for found in regulators.values())
    return Summary(
        reports=done,
        incidents=incidents,
        organizations=organizations,
        seconds=round(asyncio.get_running_loop().time() - started, 2),
        indexes_rebuilt=bool(indexes),
    )


def _calendar(end: date | None, years: int) -> tuple[datetime, date, date]:
    """(now, first day, last day) of a registry ending on ``end`` (today by default)."""
    end = end or datetime.now(UTC).date()
    # Everything happens before the start of the end day, so that the same seed and end date
    # give the same registry whatever the time of day.
    return datetime.combine(end, time(0), UTC), end - timedelta(days=round(365.25 * years)), end


def sample(
    taxonomy: Taxonomy,
    *,
    reports_wanted: int,
    seed: int = 1,
    years: int = 5,
    end: date | None = None,
) -> list[dict[str, Any]]:
    """The report rows (column -> value) ``generate`` writes for this seed into an empty
    registry, built in memory: the same content, with organization ids made up from their
    names. For studying the registry's shape at sizes a test database would take long to fill.
    """
    now, start, end = _calendar(end, years)
    rng = random.Random(seed)
    chosen = choose_members(taxonomy, rng, vocabulary().geography)
    kinds = vocabulary().words["regulator_kinds"]
    regulators = {}
    for member in chosen:
        names = [f"{taxonomy.countries[member.code].name} {kind}" for kind in kinds]
        regulators[member.code] = [
            Regulator(uuid.uuid5(uuid.NAMESPACE_URL, name), name, member.code)
            for name in names[: member.regulators]
        ]
    world = plan(taxonomy, rng, chosen, regulators, start, end)
    generator = Generator(world, rng, now, f"synthetic:seed={seed}")
    generator.incident_numbers = iter(range(1, reports_wanted + 1))
    generator.report_numbers = iter(range(1, reports_wanted + 1))
    built: list[dict[str, Any]] = []
    while len(built) < reports_wanted:
        rows = generator.chunk(min(CHUNK, reports_wanted - len(built)))
        built.extend(dict(zip(REPORT_COLUMNS, row, strict=True)) for row in rows.reports)
    return built


async def _write(connection: AsyncConnection, rows: Rows, events: list[dict[str, Any]]) -> None:
    clock = asyncio.get_running_loop().time
    t0 = clock()
    await copy_rows(connection, "incidents", ["id", "number", "year", "created_at"], rows.incidents)
    t1 = clock()
    await copy_rows(connection, "reports", REPORT_COLUMNS, rows.reports)
    t2 = clock()
    await copy_rows(connection, "report_revisions", REVISION_COLUMNS, rows.revisions)
    t3 = clock()
    logger.debug("copy incidents %.2f reports %.2f revisions %.2f", t1 - t0, t2 - t1, t3 - t2)
    await copy_rows(
        connection,
        "audit_events",
        AUDIT_COLUMNS,
        [
            tuple(
                msgspec.json.encode(event[column]).decode()
                if column in ("before", "after") and event[column] is not None
                else event[column]
                for column in AUDIT_COLUMNS
            )
            for event in events
        ],
    )
