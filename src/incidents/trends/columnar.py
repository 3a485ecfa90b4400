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
ignored. Once the delta grows past a share of the copy it is folded into the months it
touches (those rewritten, the others and their derived incidents kept). A
copy that is missing, unreadable, of another format or schema, or ahead of the database (a
restore) is rebuilt. Writers take a PostgreSQL advisory lock, so workers and hosts sharing the
directory never interleave; files are written under new names and the manifest is replaced by a
rename, so a reader sees one whole version or the one before.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec
import polars as pl
from sqlalchemy import literal, select

from incidents.config import Settings
from incidents.db import Database
from incidents.reports.models import reports
from incidents.trends import columnar_db as sql
from incidents.trends import columnar_files as files
from incidents.trends import extract, population
from incidents.trends.columnar_files import FORMAT, MANIFEST, Manifest, Partition, Snapshot

logger = logging.getLogger(__name__)

# Folded into the months it touches beyond this many delta rows, or this share of the copy.
DELTA_ROWS = 20_000
DELTA_SHARE = 0.05
_PARTITION = "_partition"


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
        with sql.connect(url) as connection:
            found = self.manifest()
            if found is not None and not sql.changed_since(connection, found.watermark):
                return Snapshot(self.directory, found)
            with sql.locked(connection):
                return Snapshot(self.directory, self._update(connection))

    def rebuild(self, url: str) -> Manifest:
        with sql.connect(url) as connection, sql.locked(connection):
            return self._rebuild(connection)

    # -- writing (under the lock) --------------------------------------------------------

    def _update(self, connection: Any) -> Manifest:
        found = self.manifest()  # again: another writer may have moved it
        if found is None:
            return self._rebuild(connection)
        with sql.repeatable_read(connection):
            # The changed rows through their index, always: the planner has no statistics for
            # the column on a migrated registry, guesses a third of the table and scans it all
            # (1.5 s at 1M instead of a millisecond).
            watermark, schema = sql.snapshot(connection)
            if schema != found.schema or watermark < found.watermark:
                # Another schema, or a database behind the copy (restored): start again.
                return self._rebuild_in(connection, watermark, schema)
            sql.execute(connection, "SET LOCAL enable_seqscan = off")
            changed = sql.arrow(
                connection,
                extract.to_sql(
                    select(
                        reports.c.id.label(sql.ID), reports.c.incident_id.label("incident")
                    ).where(reports.c.changed_xact >= literal(found.watermark))
                ),
            )
            if changed.height == 0:
                return found
            before = self._incidents_of(found, changed[sql.ID])
            touched = pl.concat([changed["incident"], before]).unique()
            fresh = sql.arrow(
                connection,
                extract.to_sql(sql.rows(reports.c.incident_id.in_(sql.uuids(touched)))),
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
                files.remove(old_delta, files.affected_path(old_delta))
            return folded
        name = f"delta-{uuid.uuid4().hex}.parquet"
        files.write(delta, self.directory / name)
        files.write(affected, files.affected_path(self.directory / name))
        updated = msgspec.structs.replace(
            found,
            watermark=watermark,
            delta=name,
            delta_rows=delta.height,
            affected=affected.height,
        )
        self._publish(updated)
        if old_delta:
            files.remove(old_delta, files.affected_path(old_delta))
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
            files.write(rows, base / name)
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
        paths = [snapshot.directory / found.generation / part.name for part in found.partitions]
        if delta := snapshot.delta():
            paths.append(delta)
        if not paths:
            return pl.Series("incident", [], dtype=ids.dtype)
        return (
            pl.scan_parquet(paths)
            .select(sql.ID, "incident")
            .filter(pl.col(sql.ID).is_in(ids.implode()))
            .collect()["incident"]
        )

    def _rebuild(self, connection: Any) -> Manifest:
        with sql.repeatable_read(connection):
            watermark, schema = sql.snapshot(connection)
            return self._rebuild_in(connection, watermark, schema)

    def _rebuild_in(self, connection: Any, watermark: int, schema: str) -> Manifest:
        """Every accepted report, streamed in record batches into one file per month (memory
        bounded by a batch and the open writers, not by the registry)."""
        import pyarrow.parquet as pq

        files.private_directory(self.directory)
        generation = f"generation-{uuid.uuid4().hex}"
        base = self.directory / generation
        files.private_directory(base)
        # Each report with its incident's earliest occurrence date: the partition key.
        query = sql.rows(literal(True))
        earliest = (
            select(
                reports.c.incident_id.label("_incident"),
                sql.month_of(reports.c.occurred_on).label(_PARTITION),
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
                changed = await connection.scalar(sql.changed_query(found.watermark))
            if not changed:
                return Snapshot(self.store.directory, found)
        return await asyncio.to_thread(self.store.current, self.url)

    async def report_rows(self, columns: Sequence[str]) -> pl.DataFrame:
        """``columns`` of every accepted report, current (``Snapshot.report_rows``)."""
        snapshot = await self.current()
        return await asyncio.to_thread(snapshot.report_rows, columns)


def copy_for(settings: Settings, database: Database) -> Copy | None:
    """The copy the settings ask for, kept from ``database``; None when turned off."""
    if not settings.trends_columnar:
        return None
    directory = settings.trends_columnar_dir or settings.data_dir / "trends-columnar"
    return Copy(Store(directory), database)


def _month(name: str) -> str:
    """A partition file's month: 2026-07.parquet, or 2026-07.<id>.parquet once rewritten."""
    return name.split(".")[0]


def describe(manifest: Manifest) -> dict[str, Any]:
    """What `incidents trends rebuild` prints."""
    described: dict[str, Any] = json.loads(msgspec.json.encode(manifest))
    return described | {"reports": manifest.rows}
