"""The columnar copy's files (columnar.py maintains them): the manifest naming one version,
its month partitions, the delta, and how a trend reads them; written privately and atomically."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

import msgspec
import polars as pl

FORMAT = 2
MANIFEST = "manifest.json"
# The most partition rows one pass of a trend reads at once (fewer passes cost less fixed
# overhead; memory is bounded by this, or by the largest month when it is larger).
PASS_ROWS = 250_000


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
            write(derive(pl.read_parquet(partition, columns=list(columns))), target)
        return target

    def delta(self) -> Path | None:
        return self.directory / self.manifest.delta if self.manifest.delta else None

    def report_rows(self, columns: Sequence[str]) -> pl.DataFrame:
        """``columns`` of every report this version holds: the partitions' rows but those of
        the incidents the delta supersedes, then the delta's (what the registry's extract of
        every accepted report reads, in another order)."""
        base = self.directory / self.manifest.generation
        frames = [
            pl.scan_parquet(base / part.name).select(columns) for part in self.manifest.partitions
        ]
        affected = self.affected()
        if affected is not None:
            superseded = affected.implode()
            frames = [frame.filter(~pl.col("incident").is_in(superseded)) for frame in frames]
        if (delta := self.delta()) is not None:
            frames.append(pl.scan_parquet(delta).select(columns))
        if not frames:
            return pl.DataFrame()
        return pl.concat(frames, how="vertical_relaxed").collect()

    def affected(self) -> pl.Series | None:
        """The incidents whose partition rows are superseded by the delta."""
        delta = self.delta()
        if delta is None:
            return None
        return pl.read_parquet(affected_path(delta))["incident"]


def affected_path(delta: Path) -> Path:
    return delta.with_name(delta.stem + ".affected.parquet")


def write(frame: pl.DataFrame, path: Path) -> None:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    frame.write_parquet(temporary)
    temporary.chmod(0o600)
    temporary.replace(path)


def remove(*paths: Path) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink()


def private_directory(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
