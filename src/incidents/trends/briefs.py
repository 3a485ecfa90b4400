"""Periodic risk briefs: every figure of one period from one read of the registry, protected as
for the public (a brief is made to be published), with its parameters, the taxonomy version and
a hash of its input, so that it can be regenerated exactly.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import zipfile
from collections.abc import Callable
from datetime import date
from typing import Any

import msgspec
import polars as pl

from incidents.taxonomy.service import TaxonomyRegistry
from incidents.trends import disclosure, metrics, render
from incidents.trends.periods import Window, shift
from incidents.trends.schemas import BriefRequest, parse_period, scope_filters
from incidents.trends.service import Input, load, table

HISTORY = {"month": 12, "quarter": 8, "year": 5}
TOP_PAIRS = 10
Progress = Callable[[str], None]


class Headline(msgspec.Struct, kw_only=True):
    incidents: int | None
    previous: int | None
    year_ago: int | None
    change_previous: float | None
    change_year_ago: float | None
    cross_border: int | None
    cross_border_share: float | None
    serious: int | None
    reporting_jurisdictions: int
    median_days_to_report: float | None
    within_15_days: float | None
    emerging: list[str]


class BriefData(msgspec.Struct, kw_only=True):
    title: str
    period: str
    scope: dict[str, str | list[str]]
    taxonomy_version: int
    input_hash: str
    k: int
    headline: Headline
    tables: dict[str, list[dict[str, Any]]]
    labels: dict[str, dict[str, str]]
    notes: list[str]


NOTES = [
    "Counts are incidents, not reports: an event reported by several jurisdictions counts once. "
    "Only reports the secretariat accepted count, whatever their sharing level.",
    "Counts reflect reporting capacity as much as harm. The coverage table shows which "
    "jurisdictions reported at all; a region with few reporting countries is not a region with "
    "few incidents.",
    "Cells counting 1 to {k} incidents are suppressed, with enough others in the same row that "
    "none can be recovered from the totals, and figures are checked against the same query "
    "without each scope filter.",
    "Emerging risks: a one-sided two-proportion z-test of each subdomain's share of incidents in "
    "the period against its share in the {trailing} periods before, for subdomains with at least "
    "{k} incidents, with the Benjamini-Hochberg false discovery rate held at 5%. It assumes "
    "incidents are independent and reporting steady; a jump in one country's reporting can look "
    "like emergence.",
    "Timeliness: days from detection (or occurrence when detection is unknown) to submission, "
    "for regulators' reports submitted in the period, against the EU AI Act Art. 73 deadlines of "
    "2, 10 and 15 days.",
]


def _rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dicts()


def _input_hash(frame: pl.DataFrame) -> str:
    ordered = frame.sort(
        ["incident", "occurred_on", "submitted_at", "reporting_jurisdiction", "severity"],
        nulls_last=True,
    )
    buffer = io.BytesIO()
    ordered.write_ipc(buffer, compression="uncompressed")
    return hashlib.sha256(buffer.getvalue()).hexdigest()


def _hide_small(frame: pl.DataFrame, columns: list[str], k: int) -> pl.DataFrame:
    return frame.with_columns(
        [
            pl.when((pl.col(c) > 0) & (pl.col(c) < k)).then(None).otherwise(pl.col(c)).alias(c)
            for c in columns
        ]
    )


async def compute(
    url: str,
    taxonomy: TaxonomyRegistry,
    request: BriefRequest,
    k: int,
    progress: Progress | None = None,
) -> BriefData:
    """All the figures of a brief, protected for publication."""
    step = progress or (lambda _: None)
    filters = scope_filters(request.scope)
    kind, start = parse_period(request.period)
    step("reading the registry")
    loaded = await load(url, "public", filters, taxonomy, brief=True)
    frame = loaded.frame.collect()
    source = Input(
        frame=frame.lazy(), audience="public", variants=loaded.variants, reference=loaded.reference
    )
    step("computing the figures")
    per_year = metrics.PER_YEAR[kind]
    history = HISTORY[kind]
    first = shift(start, kind, -(history - 1))
    trend = table(source, [], Window(kind, first, start, shift(first, kind, -per_year)), k).cells
    now = Window(kind, start, start, shift(start, kind, -per_year))
    domains = table(source, ["harm_domain"], now, k).cells
    regions = table(source, ["region"], now, k).cells
    severity = table(source, ["severity"], now, k).cells
    incidents = source.incidents()
    label = request.period
    in_period = incidents.filter(metrics.period_start("occurred_on", kind) == start)
    emerging = _emerging(source, kind, start, k)
    border = metrics.cross_border(in_period, kind).collect()
    border = _hide_small(border, ["incidents", "cross_border"], k).with_columns(
        share=pl.when(pl.col("incidents").is_null() | pl.col("cross_border").is_null())
        .then(None)
        .otherwise(pl.col("share"))
    )
    pairs = _hide_small(metrics.country_pairs(in_period).collect(), ["incidents"], k)
    pairs = pairs.filter(pl.col("incidents").is_not_null()).head(TOP_PAIRS)
    reports = source.rows()
    timeliness = metrics.timeliness(reports, kind).filter(pl.col("period") == start).collect()
    coverage = (
        metrics.coverage(reports, source.reference.countries, kind)
        .filter(pl.col("period") == start)
        .collect()
    )
    serious = in_period.select(pl.col("serious").sum()).collect().item()
    step("assembling the brief")
    current = trend.filter(pl.col("period") == label)
    top = current.row(0, named=True) if current.height else {}
    border_row = border.row(0, named=True) if border.height else {}
    cross = border_row.get("cross_border")
    timely = (
        timeliness.row(0, named=True) if timeliness.height and timeliness["reports"][0] >= k else {}
    )
    headline = Headline(
        incidents=top.get("incidents"),
        previous=top.get("previous"),
        year_ago=top.get("year_ago"),
        change_previous=top.get("change_previous"),
        change_year_ago=top.get("change_year_ago"),
        cross_border=cross if cross is None or cross == 0 or cross >= k else None,
        cross_border_share=border_row.get("share")
        if cross is not None and (cross == 0 or cross >= k)
        else None,
        serious=serious if serious == 0 or serious >= k else None,
        reporting_jurisdictions=int(coverage["reporting"].sum()) if coverage.height else 0,
        median_days_to_report=timely.get("median_days"),
        within_15_days=timely.get("within_15_days"),
        emerging=emerging.filter(pl.col("emerging"))["harm_subdomain"].to_list(),
    )
    labels = source.reference.labels
    return BriefData(
        title=f"AI incident risk brief {label}",
        period=label,
        scope=request.scope,
        taxonomy_version=taxonomy.current.version,
        input_hash=_input_hash(frame),
        k=k,
        headline=headline,
        tables={
            "trend": _rows(trend.drop(disclosure.FLAG)),
            "harm_domains": _rows(domains.drop("period", disclosure.FLAG)),
            "regions": _rows(regions.drop("period", disclosure.FLAG)),
            "severity": _rows(severity.drop("period", disclosure.FLAG)),
            "emerging_risks": _rows(emerging),
            "cross_border": _rows(border.drop("period")),
            "country_pairs": _rows(pairs),
            "timeliness": _rows(timeliness.drop("period")),
            "coverage": _rows(coverage.drop("period")),
        },
        labels={
            name: labels[name] for name in ("harm_domain", "harm_subdomain", "severity", "country")
        },
        notes=[note.format(k=k - 1, trailing=history) for note in NOTES],
    )


def _emerging(source: Input, kind: metrics.Period, start: date, k: int) -> pl.DataFrame:
    history = HISTORY[kind]
    first = shift(start, kind, -history)
    lf = source.incidents()
    counted = metrics.counts(lf, ["harm_subdomain"], kind, first, start, source.reference.countries)
    totals = metrics.totals(lf, kind, first, start)
    found = metrics.emerging(
        counted, totals, "harm_subdomain", start, trailing=history, minimum=k
    ).collect()
    tested = found.filter(pl.col("tested")).drop("tested", "total", "trailing_total")
    return _hide_small(tested, ["count", "trailing_count"], k).with_columns(
        pl.col("z").round(3),
        pl.col("rate").round(4),
        pl.col("trailing_rate").round(4),
        pl.col("p_value").round(6),
        pl.col("q_value").round(6),
    )


def data_files(data: BriefData) -> tuple[bytes, bytes]:
    """(JSON, zip of one CSV and one Parquet per table): identical bytes for identical data."""
    document = msgspec.json.encode(data, order="sorted")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, rows in sorted(data.tables.items()):
            frame = pl.DataFrame(rows) if rows else pl.DataFrame()
            for extension in ("csv", "parquet"):
                content = io.BytesIO()
                if extension == "csv":
                    frame.with_columns(
                        [
                            pl.col(c).cast(pl.List(pl.String)).list.join(";")
                            for c, t in frame.schema.items()
                            if isinstance(t, pl.List)
                        ]
                    ).write_csv(content)
                else:
                    frame.write_parquet(content, compression="zstd", statistics=False)
                entry = zipfile.ZipInfo(f"{name}.{extension}", date_time=(1980, 1, 1, 0, 0, 0))
                entry.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(entry, content.getvalue())
    return document, buffer.getvalue()


class Rendered(msgspec.Struct):
    data: BriefData
    html: bytes
    pdf: bytes
    json: bytes
    zip: bytes
    data_hash: str


async def make(
    url: str,
    taxonomy: TaxonomyRegistry,
    request: BriefRequest,
    k: int,
    progress: Progress | None = None,
) -> Rendered:
    data = await compute(url, taxonomy, request, k, progress)
    document, archive = data_files(data)
    data_hash = hashlib.sha256(document).hexdigest()
    svg = render.chart_set(data)
    if progress:
        progress("rendering HTML and PDF")
    page = render.html(data, svg, data_hash).encode()
    pdf = await asyncio.to_thread(render.pdf, data, svg, data_hash)
    return Rendered(data=data, html=page, pdf=pdf, json=document, zip=archive, data_hash=data_hash)
