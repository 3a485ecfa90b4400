"""The baselines' server: bare Litestar handlers doing one raw asyncpg statement each, against the
same database as the service, so that the service's overhead can be read as a ratio.

Run by the benchmarks: `python -m uvicorn bench.baseline_app:app` with BENCH_DATABASE_URL set.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from litestar import Litestar, Request, get, post
from litestar.datastructures import State

COLUMNS_QUERY = """
SELECT column_name FROM information_schema.columns
WHERE table_name = 'bench_baseline' AND is_generated = 'NEVER' AND column_default IS NULL
ORDER BY ordinal_position
"""


def _pages() -> list[list[str]]:
    path = os.environ.get("BENCH_LIST_SQL")
    return json.loads(Path(path).read_text()) if path else []


@asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    pool = await asyncpg.create_pool(os.environ["BENCH_DATABASE_URL"], min_size=4, max_size=10)
    async with pool.acquire() as connection:
        template = await connection.fetchrow(
            "SELECT * FROM reports WHERE organization_id IS NOT NULL ORDER BY number DESC LIMIT 1"
        )
        columns = [row[0] for row in await connection.fetch(COLUMNS_QUERY)]
    app.state.pool = pool
    app.state.columns = columns
    app.state.template = dict(template)
    placeholders = ", ".join(f"${i + 1}" for i in range(len(columns)))
    app.state.insert = f"INSERT INTO bench_baseline ({', '.join(columns)}) VALUES ({placeholders})"
    async with pool.acquire() as connection:
        app.state.filing = await _filing_template(connection, template)
    # The service's own list-page SQL (bench.reads writes it, values inline): (window, matches).
    app.state.pages = _pages()
    try:
        yield
    finally:
        await pool.close()


@post("/reports", status_code=201)
async def insert_one(request: Request[Any, Any, State], state: State) -> dict[str, str]:
    """One raw INSERT of a report row, the same shape as the service stores."""
    await request.body()
    row = dict(state.template)
    row["id"] = uuid.uuid4()
    row["created_at"] = row["updated_at"] = datetime.now(UTC)
    async with state.pool.acquire() as connection:
        await connection.execute(state.insert, *[row[column] for column in state.columns])
    return {"id": str(row["id"])}


class FilingTemplate:
    """The service's filing statement with one filing's arguments, and where the ids go."""

    def __init__(self, sql: str, arguments: list[Any], names: tuple[str, ...], ids: Any) -> None:
        self.sql = sql
        self.arguments = arguments
        self.report_id, self.incident_id, self.event_id = ids
        self.reports = [i for i, n in enumerate(names) if n in ("row_id", "rev_report_id")]
        self.incidents = [i for i, n in enumerate(names) if n in ("row_incident_id", "exclude")]
        self.event = names.index("ev_id")
        self.entity = names.index("ev_entity_id")
        self.canonical = names.index("ev_canonical")

    def fresh(self) -> list[Any]:
        """The arguments with new ids (the report's, its incident's, its event's)."""
        report, incident, event = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        arguments = list(self.arguments)
        for index in self.reports:
            arguments[index] = report
        for index in self.incidents:
            arguments[index] = incident
        arguments[self.event] = event
        arguments[self.entity] = str(report)
        arguments[self.canonical] = (
            arguments[self.canonical]
            .replace(str(self.event_id), str(event))
            .replace(str(self.report_id), str(report))
        )
        return arguments


async def _filing_template(connection: Any, template: Any) -> FilingTemplate:
    """One filing's arguments for the service's own filing statement (reports/single.py), built
    once from the newest filed report: the handler sends the same statement with new ids."""
    import msgspec

    from incidents.audit.service import Actor
    from incidents.members.schemas import Principal
    from incidents.reports.content import Derived
    from incidents.reports.schemas import ReportContent
    from incidents.reports.single import filing_statement, filing_values
    from incidents.reports.writer import NewReport

    stored = await connection.fetchval(
        "SELECT content FROM report_revisions WHERE report_id = $1 AND revision = 1",
        template["id"],
    )
    content = msgspec.json.decode(stored, type=ReportContent)
    derived = msgspec.convert({name: template[name] for name in Derived.__struct_fields__}, Derived)
    principal = Principal(
        organization_id=template["organization_id"],
        organization_name="Bench",
        kind="regulator",
        jurisdiction=template["reporting_jurisdiction"],
        key_id=uuid.uuid4(),
        key_prefix="bench",
    )
    actor = Actor(label="bench", org_id=principal.organization_id, key_id=principal.key_id)
    item = NewReport(
        content=content,
        derived=derived,
        version=template["taxonomy_version"],
        status=template["status"],
        sharing=template["sharing"],
    )
    ids = uuid.uuid4(), uuid.uuid4()
    _, values = filing_values(
        principal, actor, item, report_id=ids[0], incident_id=ids[1], at=datetime.now(UTC)
    )
    statement = filing_statement("regulator")
    return FilingTemplate(
        statement.sql,
        statement.arguments(values),
        statement.names,
        (*ids, values["ev_id"]),
    )


@post("/filings", status_code=201)
async def file_one(request: Request[Any, Any, State], state: State) -> dict[str, str]:
    """The service's filing statement (report, revision, incident, audit event, duplicate
    probe) in a transaction, as the service sends it, with no validation or framework work."""
    await request.body()
    arguments = state.filing.fresh()
    async with state.pool.acquire() as connection, connection.transaction():
        records = await connection.fetch(state.filing.sql, *arguments)
    return {"ref": records[0]["report_ref"]}


@get("/reports")
async def list_fifty(state: State) -> list[dict[str, Any]]:
    """The list query's rows, straight from asyncpg."""
    async with state.pool.acquire() as connection:
        rows = await connection.fetch(
            "SELECT id, ref, title, status, sharing FROM reports WHERE status <> 'draft' "
            "ORDER BY number DESC LIMIT 50"
        )
    return [{"id": str(row["id"]), "ref": row["ref"], "title": row["title"]} for row in rows]


@get("/pages/{index:int}", media_type="application/json")
async def service_page(state: State, index: int) -> bytes:
    """The SQL the service runs for list page ``index`` (the window, a wider one, then the
    matches, each only when the one before holds less than a page, as the service does), through
    asyncpg's own prepared-statement cache, the documents passed through as the service passes
    them: what the list page costs without the service (HTTP, auth, SQLAlchemy, transactions)."""
    rows: list[Any] = []
    async with state.pool.acquire() as connection:
        for statement in state.pages[index]:
            if statement and len(rows := await connection.fetch(statement)) > PAGE:
                break
    documents = b",".join(row["document"].encode() for row in rows[:PAGE])
    return b'{"items":[' + documents + b'],"next":null}'


PAGE = 50
app = Litestar([insert_one, file_one, list_fifty, service_page], lifespan=[lifespan])
