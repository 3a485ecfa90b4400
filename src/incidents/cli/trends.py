"""`incidents trends rebuild`: the columnar copy of the trends extract, built again whole."""

from __future__ import annotations

import asyncio
import resource
import time

import click

from incidents.cli.shared import (
    fail,
    load_settings,
    print_json,
    run_with_database,
    taxonomy_registry,
)
from incidents.db import Database


@click.group()
def trends() -> None:
    """Trend figures and the columnar copy they are counted from."""


@trends.command("rebuild")
def trends_rebuild() -> None:
    """Read every accepted report again into the columnar copy (INCIDENTS_TRENDS_COLUMNAR_DIR,
    or trends-columnar in the data dir), derive each partition's incidents for the current
    taxonomy, and print what it holds. Trends keep the copy current by themselves; this is for
    a copy suspected stale or damaged, or to build it ahead of the first trend."""
    settings = load_settings()

    async def work(database: Database) -> None:
        from incidents.trends.columnar import copy_for, describe
        from incidents.trends.columnar_files import Snapshot
        from incidents.trends.copied import prepare
        from incidents.trends.service import reference_of

        copy = copy_for(settings, database)
        if copy is None:
            fail("INCIDENTS_TRENDS_COLUMNAR is off: trends read the registry, there is no copy")
        started = time.perf_counter()
        manifest = await asyncio.to_thread(copy.store.rebuild, copy.url)
        seconds = round(time.perf_counter() - started, 2)
        reference = reference_of(await taxonomy_registry(database))
        started = time.perf_counter()
        await asyncio.to_thread(prepare, Snapshot(copy.store.directory, manifest), reference)
        derived = round(time.perf_counter() - started, 2)
        # This process's peak resident memory (Linux reports it in KiB).
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print_json(
            describe(manifest)
            | {"seconds": seconds, "derive_seconds": derived, "peak_rss_mb": round(peak, 1)}
        )

    run_with_database(settings, work)
