"""Trends counted from the columnar copy (columnar.py): the same figures as service.trend for a
population of every accepted report, which is what the copy holds; other populations (the
caller's visible reports) are counted from the registry by service.trend.

Each partition's incidents are derived once per taxonomy (every attribute, as
``metrics.incidents`` derives them from all of an incident's accepted reports) and kept beside
the partition; a trend reads only the incident columns it needs from those files, a pass of a
few partitions at a time, and adds the passes' cells. The delta's incidents are derived on the
fly and replace theirs in the partitions.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from datetime import date

import msgspec
import polars as pl

from incidents.members.schemas import Principal
from incidents.reports.filters import Filters, compile_filters
from incidents.taxonomy.service import TaxonomyRegistry
from incidents.trends import columnar, columnar_files, extract, metrics, population, service
from incidents.trends.periods import Window
from incidents.trends.protection import Method

logger = logging.getLogger(__name__)

# Bumped when metrics.incidents changes what it derives: derived files of another version are
# derived again.
DERIVATION = 1
# The incident attribute each trend dimension reads.
_ATTRIBUTE = {
    "harm_domain": "harm_domain",
    "harm_subdomain": "harm_subdomain",
    "harm_type": "harm_type",
    "sector": "sector",
    "severity": "severity",
    "country": "country",
    "region": "country",
    "sub_region": "country",
    "development": "country",
}
_DATING = ("incident", "incident_key", "occurred_on", "occurred_precision")


async def trend(
    url: str,
    principal: Principal | None,
    filters: Filters,
    taxonomy: TaxonomyRegistry,
    *,
    by: Sequence[str],
    span: Window,
    k: int,
    noise: int,
    copy: columnar.Copy | None,
) -> tuple[service.Source, service.TrendTable]:
    """The trend table: from the copy when one is given and the population is every accepted
    report, from the registry at ``url`` otherwise."""
    if copy is None or population.split(filters).population != "all":
        return await service.trend(
            url, principal, filters, taxonomy, by=by, span=span, k=k, noise=noise
        )
    compile_filters(filters, taxonomy)  # unknown codes and countries are a 422, here
    coarse = population.split(filters).coarse
    reference = service.reference_of(taxonomy)
    service.check_size(reference, by, span)
    audience = service.audience_of(principal)
    try:
        snapshot = await copy.current()
        counted, totalled = await asyncio.to_thread(
            _count, snapshot, coarse, taxonomy, reference, by, span
        )
    except OSError:
        # A copy that cannot be written or read (disk full, permissions) must not stop
        # trends: they are counted from the registry, as with the copy off.
        logger.exception(
            "trends copy in %s unusable; counting from the registry", copy.store.directory
        )
        return await service.trend(
            url, principal, filters, taxonomy, by=by, span=span, k=k, noise=noise
        )
    source = service.Source(
        # Nothing is materialised whole: the passes were counted one by one.
        incidents=pl.LazyFrame(),
        reports=pl.LazyFrame(),
        audience=audience,
        population="all",
        reasons=(),
        method=None if audience == "secretariat" else Method(k=k, noise=noise),
        reference=reference,
    )
    return source, service.finish(counted, totalled, source.method, by, span)


def _fingerprint(reference: service.Reference) -> str:
    """What a partition's derived incidents depend on besides its rows."""
    current, roots = sorted(reference.current.items()), sorted(reference.roots.items())
    basis = msgspec.json.encode([DERIVATION, current, roots, reference.serious_from])
    return hashlib.sha256(basis).hexdigest()[:16]


def _derive(rows: pl.DataFrame, reference: service.Reference) -> pl.DataFrame:
    """Every attribute of the incidents of ``rows`` (whole incidents' accepted reports)."""
    completed = extract.completed(rows.with_columns(matched=pl.lit(True)))
    return metrics.incidents(
        completed.lazy(), reference.current, reference.roots, reference.serious_from
    ).collect()


def prepare(snapshot: columnar_files.Snapshot, reference: service.Reference) -> None:
    """Derive every partition's incidents ahead, as the first trend would otherwise do."""
    fingerprint = _fingerprint(reference)
    for paths in snapshot.passes(date.min, date.max, budget=0):
        for path in paths:
            snapshot.derived(
                path, fingerprint, lambda rows: _derive(rows, reference), list(extract.COLUMNS)
            )


def _count(
    snapshot: columnar_files.Snapshot,
    coarse: Filters,
    taxonomy: TaxonomyRegistry,
    reference: service.Reference,
    by: Sequence[str],
    span: Window,
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """(cells, totals) on the grid, added up over the passes and the delta."""
    fingerprint = _fingerprint(reference)
    condition = service.selected(coarse, taxonomy, reference)
    needed = [*_DATING, *dict.fromkeys(_ATTRIBUTE[dimension] for dimension in by)]
    affected = snapshot.affected()
    passes: list[pl.LazyFrame] = []
    for paths in snapshot.passes(date(span.lookback.year, 1, 1), date(span.end.year, 12, 31)):
        derived = [
            snapshot.derived(
                path, fingerprint, lambda rows: _derive(rows, reference), list(extract.COLUMNS)
            )
            for path in paths
        ]
        incidents = pl.scan_parquet(derived)
        if affected is not None:
            incidents = incidents.filter(~pl.col("incident").is_in(affected.implode()))
        passes.append(incidents)
    if (delta := snapshot.delta()) is not None:
        passes.append(_derive(pl.read_parquet(delta), reference).lazy())
    no_countries = pl.LazyFrame({"code": []})
    cells: list[pl.LazyFrame] = []
    totals: list[pl.LazyFrame] = []
    for incidents in passes:
        chosen = incidents.filter(condition).select(needed).collect().lazy()
        counted, totalled = pl.collect_all(
            [
                metrics.cells(chosen, by, reference.countries, span.period),
                metrics.cells(chosen, [], no_countries, span.period),
            ]
        )
        cells.append(counted.lazy())
        totals.append(totalled.lazy())
    grid = (span.period, span.lookback, span.end)
    return (
        metrics.on_grid(metrics.merged(cells, by), by, *grid, reference.categories),
        metrics.on_grid(metrics.merged(totals, []), [], *grid, {}),
    )
