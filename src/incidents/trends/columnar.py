"""The columnar copy of the trends extract: every accepted report's trend and brief columns as
Parquet under the data dir, one file per month, kept current from the database before each
use.

What it holds is exactly the population every coarse aggregate counts (population.py, "all"):
accepted reports, restricted ones included, as the database does; it is protected like the
database (directory 0700, files 0600) and only ever counted, behind the same protection as the
database's extract. Queries whose population is the caller's visible reports read the database.

Layout. Reports are partitioned by the month of their incident's earliest occurrence date
(over its accepted reports), so every incident lies whole in one partition and a trend counts
a few partitions at a time (memory is bounded by a pass's row budget or the largest month, not
the registry), and skips the partitions none of whose dates fall in the years it shows: an
incident's date is always one of its reports' dates.

Currency. Every report row carries the transaction that last wrote it (``changed_xact``,
migration 0017). The copy stores a watermark, the xmin of the snapshot it was read at: every
transaction below it was finished and seen. Before a trend is counted, the reports written at or
above the watermark are looked up; the incidents they belong to (now and before) are "affected",
their accepted reports re-read whole into a delta file, and their rows in the partitions are
ignored. The delta is folded into a full rebuild once it grows past a share of the copy. A
copy that is missing, unreadable, of another format or schema, or ahead of the database (a
restore) is rebuilt. Writers take a PostgreSQL advisory lock, so workers and hosts sharing the
directory never interleave; files are written under new names and the manifest is replaced by a
rename, so a reader sees one whole version or the one before.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import adbc_driver_postgresql.dbapi as adbc
import msgspec
import polars as pl
from sqlalchemy import Select, and_, literal, select

from incidents.config import Settings
from incidents.db import Database
from incidents.reports.models import reports
from incidents.trends import extract, population

logger = logging.getLogger(__name__)

FORMAT = 2
MANIFEST = "manifest.json"
# Folded into a rebuild beyond this many delta rows, or this share of the copy.
DELTA_ROWS = 20_000
DELTA_SHARE = 0.05
# Any constant shared by every process using the copy (pg_advisory_lock takes a bigint).
LOCK_KEY = 0x7472656E6473  # "trends"
# The most partition rows one pass of a trend reads at once (fewer passes cost less fixed
# overhead; memory is bounded by this, or by the largest quarter when it is larger).
PASS_ROWS = 250_000
_ID = "id"
_PARTITION = "_partition"


class Partition(msgspec.Struct, frozen=True):
    name: str
    first: date
    """The earliest occurrence date of any report in it."""
    last: date
    rows: int


class Manifest(msgspec.Struct, frozen=True, kw_only=True):
    format: int
    schema: str
    """The database's Alembic revision when the copy was built."""
    generation: str
    watermark: int
    partitions: tuple[Partition, ...]
    delta: str | None = None
    delta_rows: int = 0
    affected: int = 0

    @property
    def rows(self) -> int:
        return sum(partition.rows for partition in self.partitions)


class Snapshot(msgspec.Struct, frozen=True):
    """One version of the copy, as a trend reads it."""

    directory: Path
    manifest: Manifest

    def partitions(self, first: date, last: date) -> list[Path]:
        """The partitions holding a report dated in [first, last]."""
        return [path for group in self.passes(first, last, budget=0) for path in group]

    def passes(self, first: date, last: date, budget: int = PASS_ROWS) -> list[list[Path]]:
        """The partitions holding a report dated in [first, last], in consecutive groups of at
        most ``budget`` rows (a partition larger than the budget alone): what one pass reads."""
        base = self.directory / self.manifest.generation
        groups: list[list[Path]] = []
        size = 0
        for part in self.manifest.partitions:
            if part.last < first or part.first > last:
                continue
            if not groups or size + part.rows > budget:
                groups.append([])
                size = 0
            groups[-1].append(base / part.name)
            size += part.rows
        return groups

    def derived(
        self,
        partition: Path,
        fingerprint: str,
        derive: Callable[[pl.DataFrame], pl.DataFrame],
        columns: Sequence[str],
    ) -> Path:
        """``derive`` of the partition's ``columns``, written beside it once per
        ``fingerprint`` (of everything else the result depends on) and read from there after."""
        target = partition.with_name(f"{partition.stem}.incidents-{fingerprint}.parquet")
        if not target.is_file():
            _write(derive(pl.read_parquet(partition, columns=list(columns))), target)
        return target

    def delta(self) -> Path | None:
        return self.directory / self.manifest.delta if self.manifest.delta else None

    def affected(self) -> pl.Series | None:
        """The incidents whose partition rows are superseded by the delta."""
        delta = self.delta()
        if delta is None:
            return None
        return pl.read_parquet(_affected_path(delta))["incident"]


def _affected_path(delta: Path) -> Path:
    return delta.with_name(delta.stem + ".affected.parquet")


def _copy_columns() -> dict[str, Any]:
    """Every column trends and briefs read, with the report's id."""
    return {_ID: reports.c.id, **extract.COLUMNS, **extract.BRIEF_COLUMNS}


def _rows(condition: Any) -> Select[Any]:
    return extract.report_rows(
        and_(reports.c.status == population.COUNTED_STATUS, condition), brief=True
    ).add_columns(reports.c.id.label(_ID))


class Store:
    """The copy in ``directory``, maintained from the database at ``url`` (the primary)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    # -- reading -------------------------------------------------------------------------

    def manifest(self) -> Manifest | None:
        """The current manifest, or None when there is none usable."""
        try:
            raw = (self.directory / MANIFEST).read_bytes()
            found = msgspec.json.decode(raw, type=Manifest)
        except (OSError, msgspec.DecodeError, msgspec.ValidationError):
            return None
        if found.format != FORMAT:
            return None
        base = self.directory / found.generation
        if not all((base / part.name).is_file() for part in found.partitions):
            return None
        if found.delta and not (self.directory / found.delta).is_file():
            return None
        return found

    def current(self, url: str) -> Snapshot:
        """The copy brought up to date with every committed change, rebuilt when unusable."""
        with _connect(url) as connection:
            found = self.manifest()
            if found is not None and not _changed_since(connection, found):
                return Snapshot(self.directory, found)
            with _locked(connection):
                return Snapshot(self.directory, self._update(connection))

    def rebuild(self, url: str) -> Manifest:
        with _connect(url) as connection, _locked(connection):
            return self._rebuild(connection)

    # -- writing (under the lock) --------------------------------------------------------

    def _update(self, connection: Any) -> Manifest:
        found = self.manifest()  # again: another writer may have moved it
        if found is None:
            return self._rebuild(connection)
        with _repeatable_read(connection):
            # The changed rows through their index, always: the planner has no statistics for
            # the column on a migrated registry, guesses a third of the table and scans it all
            # (1.5 s at 1M instead of a millisecond).
            watermark, schema = _snapshot(connection)
            if schema != found.schema or watermark < found.watermark:
                # Another schema, or a database behind the copy (restored): start again.
                return self._rebuild_in(connection, watermark, schema)
            _execute(connection, "SET LOCAL enable_seqscan = off")
            changed = _arrow(
                connection,
                extract.to_sql(
                    select(reports.c.id.label(_ID), reports.c.incident_id.label("incident")).where(
                        reports.c.changed_xact >= literal(found.watermark)
                    )
                ),
            )
            if changed.height == 0:
                return found
            before = self._incidents_of(found, changed[_ID])
            touched = pl.concat([changed["incident"], before]).unique()
            fresh = _arrow(
                connection,
                extract.to_sql(_rows(reports.c.incident_id.in_(_uuids(touched)))),
            )
        snapshot = Snapshot(self.directory, found)
        old_delta = snapshot.delta()
        kept = (
            pl.read_parquet(old_delta).filter(~pl.col("incident").is_in(touched.implode()))
            if old_delta
            else fresh.clear()
        )
        delta = pl.concat([kept, fresh], how="vertical_relaxed")
        previous = snapshot.affected()
        affected = (
            pl.concat([previous, touched]).unique() if previous is not None else touched
        ).to_frame("incident")
        if max(delta.height, affected.height) > max(DELTA_ROWS, DELTA_SHARE * found.rows):
            folded = self._fold(found, delta, affected["incident"], watermark)
            if old_delta:
                _remove(old_delta, _affected_path(old_delta))
            return folded
        name = f"delta-{uuid.uuid4().hex}.parquet"
        _write(delta, self.directory / name)
        _write(affected, _affected_path(self.directory / name))
        updated = msgspec.structs.replace(
            found,
            watermark=watermark,
            delta=name,
            delta_rows=delta.height,
            affected=affected.height,
        )
        self._publish(updated)
        if old_delta:
            _remove(old_delta, _affected_path(old_delta))
        return updated

    def _fold(
        self, found: Manifest, delta: pl.DataFrame, affected: pl.Series, watermark: int
    ) -> Manifest:
        """The delta written into the months it touches: each month holding an affected
        incident's old rows or receiving new ones is rewritten (under a new name, in the same
        generation) without the former and with the latter; the other months, and their
        derived incidents, are kept. Replaced files stay until the next full rebuild, for
        readers still on the manifest before."""
        base = self.directory / found.generation
        superseded = affected.implode()
        holders = {
            part.name
            for part in found.partitions
            if pl.scan_parquet(base / part.name)
            .filter(pl.col("incident").is_in(superseded))
            .select(pl.len())
            .collect()
            .item()
        }
        arriving = delta.with_columns(
            pl.col("occurred_on").min().over("incident").dt.strftime("%Y-%m").alias(_PARTITION)
        )
        months = {_month(name) for name in holders} | set(arriving[_PARTITION].to_list())
        kept = [part for part in found.partitions if _month(part.name) not in months]
        by_month = {_month(part.name): part for part in found.partitions}
        written: list[Partition] = []
        for month in sorted(months):
            frames = [arriving.filter(pl.col(_PARTITION) == month).drop(_PARTITION)]
            if month in by_month:
                old = pl.read_parquet(base / by_month[month].name)
                frames.insert(0, old.filter(~pl.col("incident").is_in(superseded)))
            rows = pl.concat(frames, how="vertical_relaxed")
            if rows.height == 0:
                continue
            name = f"{month}.{uuid.uuid4().hex[:12]}.parquet"
            _write(rows, base / name)
            first, last = rows["occurred_on"].min(), rows["occurred_on"].max()
            written.append(Partition(name, first, last, rows.height))  # type: ignore[arg-type]
        folded = msgspec.structs.replace(
            found,
            watermark=watermark,
            partitions=tuple(sorted([*kept, *written], key=lambda part: part.name)),
            delta=None,
            delta_rows=0,
            affected=0,
        )
        self._publish(folded)
        logger.info("trends copy: delta folded into %s months", len(written))
        return folded

    def _incidents_of(self, found: Manifest, ids: pl.Series) -> pl.Series:
        """The incidents the copy holds ``ids`` (reports) under."""
        snapshot = Snapshot(self.directory, found)
        files = [snapshot.directory / found.generation / part.name for part in found.partitions]
        if delta := snapshot.delta():
            files.append(delta)
        if not files:
            return pl.Series("incident", [], dtype=ids.dtype)
        return (
            pl.scan_parquet(files)
            .select(_ID, "incident")
            .filter(pl.col(_ID).is_in(ids.implode()))
            .collect()["incident"]
        )

    def _rebuild(self, connection: Any) -> Manifest:
        with _repeatable_read(connection):
            watermark, schema = _snapshot(connection)
            return self._rebuild_in(connection, watermark, schema)

    def _rebuild_in(self, connection: Any, watermark: int, schema: str) -> Manifest:
        """Every accepted report, streamed in record batches into one file per month (memory
        bounded by a batch and the open writers, not by the registry)."""
        import pyarrow.parquet as pq

        _private_directory(self.directory)
        generation = f"generation-{uuid.uuid4().hex}"
        base = self.directory / generation
        _private_directory(base)
        # Each report with its incident's earliest occurrence date: the partition key.
        query = _rows(literal(True))
        earliest = (
            select(
                reports.c.incident_id.label("_incident"),
                _month_of(reports.c.occurred_on).label(_PARTITION),
            )
            .where(reports.c.status == population.COUNTED_STATUS)
            .group_by(reports.c.incident_id)
            .subquery()
        )
        query = query.join(earliest, earliest.c._incident == reports.c.incident_id).add_columns(
            earliest.c[_PARTITION]
        )
        writers: dict[str, Any] = {}
        bounds: dict[str, list[Any]] = {}
        try:
            with connection.cursor() as cursor:
                cursor.execute(extract.to_sql(query))
                reader = cursor.fetch_record_batch()
                for batch in reader:
                    frame = pl.from_arrow(batch)
                    assert isinstance(frame, pl.DataFrame)
                    for (key,), part in frame.partition_by(
                        _PARTITION, as_dict=True, include_key=False
                    ).items():
                        name = f"{key}.parquet"
                        table = part.to_arrow()
                        if name not in writers:
                            writers[name] = pq.ParquetWriter(base / name, table.schema)
                            bounds[name] = [None, None, 0]
                        writers[name].write_table(table)
                        first, last = part["occurred_on"].min(), part["occurred_on"].max()
                        low, high, rows = bounds[name]
                        bounds[name] = [
                            first if low is None else min(low, first),
                            last if high is None else max(high, last),
                            rows + part.height,
                        ]
        finally:
            for writer in writers.values():
                writer.close()
        for name in writers:
            (base / name).chmod(0o600)
        manifest = Manifest(
            format=FORMAT,
            schema=schema,
            generation=generation,
            watermark=watermark,
            partitions=tuple(
                Partition(name, low, high, rows)
                for name, (low, high, rows) in sorted(bounds.items())
            ),
        )
        self._publish(manifest)
        self._collect_garbage(manifest)
        logger.info("trends copy rebuilt: %s reports in %s partitions", manifest.rows, len(writers))
        return manifest

    def _publish(self, manifest: Manifest) -> None:
        temporary = self.directory / f".{MANIFEST}.{uuid.uuid4().hex}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(msgspec.json.encode(manifest))
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(self.directory / MANIFEST)

    def _collect_garbage(self, manifest: Manifest) -> None:
        """Older generations and deltas (a reader still on one keeps its open files)."""
        for entry in self.directory.iterdir():
            if entry.name in {MANIFEST, manifest.generation}:
                continue
            if entry.is_dir() and entry.name.startswith("generation-"):
                shutil.rmtree(entry, ignore_errors=True)
            elif entry.name.startswith(("delta-", f".{MANIFEST}.")):
                entry.unlink(missing_ok=True)


class Copy(msgspec.Struct, frozen=True):
    """A copy and the database it is kept current from: the primary (the copy must never run
    behind what was read before)."""

    store: Store
    database: Database

    @property
    def url(self) -> str:
        return self.database.url

    async def current(self) -> Snapshot:
        """``Store.current``, with the common case (nothing written since) asked through the
        service's connection pool: an ADBC connection costs ~100 ms to open."""
        found = self.store.manifest()
        if found is not None:
            async with self.database.connect() as connection:
                changed = await connection.scalar(_changed_query(found.watermark))
            if not changed:
                return Snapshot(self.store.directory, found)
        return await asyncio.to_thread(self.store.current, self.url)


def copy_for(settings: Settings, database: Database) -> Copy | None:
    """The copy the settings ask for, kept from ``database``; None when turned off."""
    if not settings.trends_columnar:
        return None
    directory = settings.trends_columnar_dir or settings.data_dir / "trends-columnar"
    return Copy(Store(directory), database)


def _month(name: str) -> str:
    """A partition file's month: 2026-07.parquet, or 2026-07.<id>.parquet once rewritten."""
    return name.split(".")[0]


def _month_of(day: Any) -> Any:
    """'2026-07' for the earliest date of a group."""
    from sqlalchemy import func

    return func.to_char(func.min(day), literal("YYYY-MM"))


def _uuids(values: pl.Series) -> list[uuid.UUID]:
    """UUIDs as ADBC reads them (16 bytes) or as text, for a query."""
    return [
        uuid.UUID(bytes=value) if isinstance(value, bytes) else uuid.UUID(str(value))
        for value in values.to_list()
    ]


def _write(frame: pl.DataFrame, path: Path) -> None:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    frame.write_parquet(temporary)
    temporary.chmod(0o600)
    temporary.replace(path)


def _remove(*paths: Path) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink()


def _private_directory(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)


@contextlib.contextmanager
def _connect(url: str) -> Iterator[Any]:
    from incidents.db import libpq_url

    with adbc.connect(libpq_url(url), autocommit=True) as connection:
        yield connection


@contextlib.contextmanager
def _locked(connection: Any) -> Iterator[None]:
    _execute(connection, f"SELECT pg_advisory_lock({LOCK_KEY})")
    try:
        yield
    finally:
        _execute(connection, f"SELECT pg_advisory_unlock({LOCK_KEY})")


@contextlib.contextmanager
def _repeatable_read(connection: Any) -> Iterator[None]:
    """One snapshot for the watermark and every read made with it."""
    _execute(connection, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    try:
        yield
    finally:
        _execute(connection, "COMMIT")


def _execute(connection: Any, sql: str) -> list[Any]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return list(cursor.fetchall()) if cursor.description else []


def _snapshot(connection: Any) -> tuple[int, str]:
    """(the snapshot's xmin: every transaction below it is finished and seen, the schema)."""
    rows = _execute(
        connection,
        "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint, "
        "(SELECT version_num FROM alembic_version LIMIT 1)",
    )
    return int(rows[0][0]), str(rows[0][1])


def _changed_query(watermark: int) -> Select[Any]:
    """Whether any report was written at or after ``watermark`` (one index probe)."""
    return select(select(reports.c.id).where(reports.c.changed_xact >= literal(watermark)).exists())


def _changed_since(connection: Any, manifest: Manifest) -> bool:
    return bool(_execute(connection, extract.to_sql(_changed_query(manifest.watermark)))[0][0])


def _arrow(connection: Any, sql: str) -> pl.DataFrame:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        frame = pl.from_arrow(cursor.fetch_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return frame


def describe(manifest: Manifest) -> dict[str, Any]:
    """What `incidents trends rebuild` prints."""
    described: dict[str, Any] = json.loads(msgspec.json.encode(manifest))
    return described | {"reports": manifest.rows}
