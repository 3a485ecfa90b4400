"""The database side of the columnar copy (columnar.py): its connections (ADBC, for Arrow),
the writers' advisory lock, the snapshot its watermark comes from, and the queries it reads."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import adbc_driver_postgresql.dbapi as adbc
import polars as pl
from sqlalchemy import Select, and_, func, literal, select

from incidents.db import libpq_url
from incidents.reports.models import reports
from incidents.trends import extract, population

# Any constant shared by every process using the copy (pg_advisory_lock takes a bigint).
LOCK_KEY = 0x7472656E6473  # "trends"
ID = "id"


def copy_columns() -> dict[str, Any]:
    """Every column trends and briefs read, with the report's id."""
    return {ID: reports.c.id, **extract.COLUMNS, **extract.BRIEF_COLUMNS}


def rows(condition: Any) -> Select[Any]:
    return extract.report_rows(
        and_(reports.c.status == population.COUNTED_STATUS, condition), brief=True
    ).add_columns(reports.c.id.label(ID))


def month_of(day: Any) -> Any:
    """'2026-07' for the earliest date of a group."""

    return func.to_char(func.min(day), literal("YYYY-MM"))


def uuids(values: pl.Series) -> list[uuid.UUID]:
    """UUIDs as ADBC reads them (16 bytes) or as text, for a query."""
    return [
        uuid.UUID(bytes=value) if isinstance(value, bytes) else uuid.UUID(str(value))
        for value in values.to_list()
    ]


@contextlib.contextmanager
def connect(url: str) -> Iterator[Any]:
    with adbc.connect(libpq_url(url), autocommit=True) as connection:
        yield connection


@contextlib.contextmanager
def locked(connection: Any) -> Iterator[None]:
    execute(connection, f"SELECT pg_advisory_lock({LOCK_KEY})")
    try:
        yield
    finally:
        execute(connection, f"SELECT pg_advisory_unlock({LOCK_KEY})")


@contextlib.contextmanager
def repeatable_read(connection: Any) -> Iterator[None]:
    """One snapshot for the watermark and every read made with it."""
    execute(connection, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    try:
        yield
    finally:
        execute(connection, "COMMIT")


def execute(connection: Any, sql: str) -> list[Any]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return list(cursor.fetchall()) if cursor.description else []


def snapshot(connection: Any) -> tuple[int, str]:
    """(the snapshot's xmin: every transaction below it is finished and seen, the schema)."""
    rows = execute(
        connection,
        "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint, "
        "(SELECT version_num FROM alembic_version LIMIT 1)",
    )
    return int(rows[0][0]), str(rows[0][1])


def changed_query(watermark: int) -> Select[Any]:
    """Whether any report was written at or after ``watermark`` (one index probe)."""
    return select(select(reports.c.id).where(reports.c.changed_xact >= literal(watermark)).exists())


def changed_since(connection: Any, watermark: int) -> bool:
    return bool(execute(connection, extract.to_sql(changed_query(watermark)))[0][0])


def arrow(connection: Any, sql: str) -> pl.DataFrame:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        frame = pl.from_arrow(cursor.fetch_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return frame
