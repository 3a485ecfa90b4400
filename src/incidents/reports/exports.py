"""The same rows as CSV, NDJSON or Parquet, streamed from a server-side cursor in constant memory.

A JSON list is paged; a download is every row that matches (as the caller may see it). Chosen by
path suffix (``/api/v1/reports.csv``) or by ``Accept``.
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import msgspec
from litestar import Request, get
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.response import Stream
from sqlalchemy import ColumnElement, select

from incidents.db import Database
from incidents.edge import after_request
from incidents.formats import MEDIA_TYPES, Format, csv_value
from incidents.incidents.models import incidents
from incidents.incidents.reading import summaries
from incidents.incidents.schemas import IncidentSummary
from incidents.members.schemas import Principal
from incidents.openapi import download
from incidents.reports import schemas
from incidents.reports.access import visible
from incidents.reports.coded import CODED
from incidents.reports.filters import FILTERS, Filters
from incidents.reports.models import reports
from incidents.reports.reading import report_select, to_report
from incidents.taxonomy.service import TaxonomyRegistry

BATCH = 2_000


# -- flat rows (CSV, Parquet) -----------------------------------------------------------------

Field = tuple[str, str, Callable[[Any], Any]]


class Labels:
    """Code -> English label for a dimension, from the newest loaded version that has the code
    (retired codes keep their label), so that downloads carry labels beside codes."""

    def __init__(self, taxonomy: TaxonomyRegistry) -> None:
        self._taxonomy = taxonomy
        self._cache: dict[tuple[str, str], str] = {}

    def __call__(self, dimension: str, code: str | None) -> str | None:
        if code is None:
            return None
        key = (dimension, code)
        found = self._cache.get(key)
        if found is None:
            found = code
            for version in sorted(self._taxonomy.versions, reverse=True):
                known = self._taxonomy.versions[version].dimensions.get(dimension)
                if known is not None and code in known.codes:
                    found = known.label(code)
                    break
            self._cache[key] = found
        return found

    def many(self, dimension: str, codes: list[str]) -> list[str]:
        return [self(dimension, code) or code for code in codes]

    def country(self, code: str | None) -> str | None:
        if code is None:
            return None
        country = self._taxonomy.current.countries.get(code)
        return country.name if country else code


def _with_labels(fields: list[Field], labels: Labels) -> list[Field]:
    """Each coded column followed by its labels (``severity``, ``severity_label``, ...)."""
    result: list[Field] = []
    for name, kind, extract in fields:
        result.append((name, kind, extract))
        labelled = LABELLED.get(name)
        if labelled is None:
            continue
        single = kind == "string"
        suffix = ("_name" if single else "_names") if labelled == "country" else "_label"
        if not single and labelled != "country":
            suffix += "s"
        result.append((name + suffix, kind, _labeller(labels, labelled, extract, single)))
    return result


def _labeller(
    labels: Labels, dimension: str, extract: Callable[[Any], Any], single: bool
) -> Callable[[Any], Any]:
    def label(value: str | None) -> str | None:
        return labels.country(value) if dimension == "country" else labels(dimension, value)

    if single:
        return lambda row: label(extract(row))
    return lambda row: [label(code) or code for code in extract(row)]


# column -> the taxonomy dimension whose labels go beside it ("country": country names)
# download column -> the dimension its labels come from: the coded fields (reports/coded.py),
# under their column's name but for the EU categories, which the download names as filed.
LABELLED = {
    **{field.column: field.dimension for field in CODED if field.column != "eu_categories"},
    "eu_serious_incident": "eu_serious_incident",
    "reporting_jurisdiction": "country",
    "affected_jurisdictions": "country",
    "jurisdictions": "country",
}

REPORT_FIELDS: list[Field] = [
    ("id", "string", lambda r: str(r.id)),
    ("ref", "string", lambda r: r.ref),
    ("incident_ref", "string", lambda r: r.incident.ref),
    ("organization", "string", lambda r: r.organization.name),
    ("reporting_jurisdiction", "string", lambda r: r.reporting_jurisdiction),
    ("status", "string", lambda r: r.status),
    ("sharing", "string", lambda r: r.sharing),
    ("revision", "int32", lambda r: r.revision),
    ("taxonomy_version", "int32", lambda r: r.taxonomy_version),
    ("title", "string", lambda r: r.title),
    ("summary", "string", lambda r: r.summary),
    ("language", "string", lambda r: r.language),
    ("event_type", "string", lambda r: r.event_type),
    ("severity", "string", lambda r: r.severity),
    ("eu_serious_incident", "list<string>", lambda r: r.eu_serious_incident),
    ("harm_domains", "list<string>", lambda r: [h.domain for h in r.harms]),
    ("harm_types", "list<string>", lambda r: [h.harm_type for h in r.harms if h.harm_type]),
    (
        "affected_groups",
        "list<string>",
        lambda r: sorted({g for h in r.harms for g in h.affected_groups}),
    ),
    ("causal_entity", "string", lambda r: r.causal_entity),
    ("causal_intent", "string", lambda r: r.causal_intent),
    ("causal_timing", "string", lambda r: r.causal_timing),
    ("ai_system", "string", lambda r: r.ai_system.name),
    ("developer", "string", lambda r: r.ai_system.developer),
    ("deployer", "string", lambda r: r.ai_system.deployer),
    ("system_type", "string", lambda r: r.ai_system.system_type),
    ("ai_tasks", "list<string>", lambda r: r.ai_system.tasks),
    ("lifecycle_stage", "string", lambda r: r.ai_system.lifecycle_stage),
    ("autonomy_level", "string", lambda r: r.ai_system.autonomy_level),
    ("sectors", "list<string>", lambda r: r.sectors),
    ("affected_jurisdictions", "list<string>", lambda r: r.affected_jurisdictions),
    ("occurred_on", "string", lambda r: r.occurred_on),
    ("detected_on", "date", lambda r: r.detected_on),
    ("people_affected", "int64", lambda r: r.people_affected),
    ("deaths", "int64", lambda r: r.deaths),
    ("injuries", "int64", lambda r: r.injuries),
    ("source_urls", "list<string>", lambda r: [s.url for s in r.sources if s.url]),
    ("created_at", "timestamp", lambda r: r.created_at),
    ("submitted_at", "timestamp", lambda r: r.submitted_at),
    ("reviewed_at", "timestamp", lambda r: r.reviewed_at),
    ("updated_at", "timestamp", lambda r: r.updated_at),
]

INCIDENT_FIELDS: list[Field] = [
    ("id", "string", lambda i: str(i.id)),
    ("ref", "string", lambda i: i.ref),
    ("title", "string", lambda i: i.title),
    ("report_count", "int32", lambda i: i.report_count),
    ("jurisdictions", "list<string>", lambda i: i.jurisdictions),
    ("cross_border", "bool", lambda i: i.cross_border),
    ("severity", "string", lambda i: i.severity),
    ("harm_domains", "list<string>", lambda i: i.harm_domains),
    ("first_occurred_on", "date", lambda i: i.first_occurred_on),
    ("statuses", "list<string>", lambda i: i.statuses),
    ("created_at", "timestamp", lambda i: i.created_at),
]


class _Chunks(io.RawIOBase):
    """A write-only sink that hands over what was written so far, but keeps counting bytes (the
    Parquet footer records absolute offsets)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        self._position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._position

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


async def _encode(
    batches: AsyncGenerator[Sequence[Any]], fields: list[Field], fmt: Format
) -> AsyncGenerator[bytes]:
    async with contextlib.aclosing(batches):  # closed with the download, however it ends
        async for chunk in _encoded(batches, fields, fmt):
            yield chunk


async def _encoded(
    batches: AsyncIterator[Sequence[Any]], fields: list[Field], fmt: Format
) -> AsyncIterator[bytes]:
    if fmt == "ndjson":
        encoder = msgspec.json.Encoder()
        async for batch in batches:
            buffer = bytearray()
            for item in batch:
                encoder.encode_into(item, buffer, -1)
                buffer.extend(b"\n")
            yield bytes(buffer)
    elif fmt == "csv":
        text = io.StringIO()
        # RFC 4180 line ends: a cell holding a bare CR is then quoted too, never a row break.
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow([name for name, _, _ in fields])
        async for batch in batches:
            for item in batch:
                writer.writerow([csv_value(extract(item)) for _, _, extract in fields])
            yield text.getvalue().encode()
            text.seek(0)
            text.truncate()
        if text.tell():  # the header alone, when nothing matched
            yield text.getvalue().encode()
    else:
        # Arrow loads for a Parquet download only: a worker serving JSON stays small.
        import pyarrow as pa
        import pyarrow.parquet as pq

        types = {
            "string": pa.string(),
            "int32": pa.int32(),
            "int64": pa.int64(),
            "date": pa.date32(),
            "bool": pa.bool_(),
            "list<string>": pa.list_(pa.string()),
            "timestamp": pa.timestamp("us", tz="UTC"),
        }
        schema = pa.schema([(name, types[kind]) for name, kind, _ in fields])
        sink = _Chunks()
        with pq.ParquetWriter(pa.PythonFile(sink, mode="w"), schema, compression="zstd") as writer:
            async for batch in batches:
                columns = {name: [extract(item) for item in batch] for name, _, extract in fields}
                writer.write_table(pa.table(columns, schema=schema))
                yield sink.take()
        yield sink.take()


def _download(
    request: Request[Any, Any, Any], name: str, fmt: Format, body: AsyncGenerator[bytes]
) -> Stream:
    extension = {"csv": "csv", "ndjson": "ndjson", "parquet": "parquet"}[fmt]
    # Closed when the request ends, whether the client read it all, went away or it failed:
    # the connection it holds goes back to the pool then, never to the garbage collector.
    after_request(request.scope, body.aclose)
    return Stream(
        body,
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{extension}"'},
    )


class _Reader:
    """A server-side cursor opened (and its first rows read) before the response starts, so that
    a query that fails is an error answer, not a download cut after its 200 header."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._stack = contextlib.AsyncExitStack()

    async def open(self, query: Any, extra_connections: int = 0) -> list[Any]:
        try:
            connection = await self._stack.enter_async_context(self._database.connect())
            self.extra = [
                await self._stack.enter_async_context(self._database.connect())
                for _ in range(extra_connections)
            ]
            result = await connection.stream(query.execution_options(yield_per=BATCH))
            self._partitions = result.partitions(BATCH)
            return list(await anext(self._partitions, []))
        except BaseException:
            await self._stack.aclose()
            raise

    async def rest(self) -> AsyncGenerator[list[Any]]:
        try:
            async for rows in self._partitions:
                yield list(rows)
        finally:
            await self.close()

    async def close(self) -> None:
        await self._stack.aclose()


async def stream_reports(
    request: Request[Any, Any, Any],
    principal: Principal | None,
    conditions: Sequence[ColumnElement[bool]],
    fmt: Format,
    taxonomy: TaxonomyRegistry,
) -> Stream:
    """Every matching report as ``fmt``."""
    database: Database = request.app.state.database
    # In the order of sort=oldest: by submission time (creation for a draft), then number.
    query = report_select(visible(principal), *conditions).order_by(
        reports.c.filed_at, reports.c.number
    )
    # The request's transaction is over once the handler returns; the download reads on a
    # connection of its own, through a server-side cursor, BATCH rows at a time.
    reader = _Reader(database)
    first = await reader.open(query)
    after_request(request.scope, reader.close)

    async def batches() -> AsyncGenerator[list[schemas.Report]]:
        rest = reader.rest()
        async with contextlib.aclosing(rest):
            yield [to_report(row) for row in first]
            async for rows in rest:
                yield [to_report(row) for row in rows]

    fields = _with_labels(REPORT_FIELDS, Labels(taxonomy))
    return _download(request, "reports", fmt, _encode(batches(), fields, fmt))


async def stream_incidents(
    request: Request[Any, Any, Any],
    principal: Principal | None,
    conditions: Sequence[ColumnElement[bool]],
    cross_border: bool | None,
    fmt: Format,
    taxonomy: TaxonomyRegistry,
) -> Stream:
    """Every matching incident as ``fmt``."""
    database: Database = request.app.state.database
    matching = select(reports.c.incident_id).where(visible(principal), *conditions)
    query = (
        select(incidents.c.id)
        .where(incidents.c.merged_into.is_(None), incidents.c.id.in_(matching))
        .order_by(incidents.c.number)
    )

    reader = _Reader(database)
    first = await reader.open(query, extra_connections=1)
    after_request(request.scope, reader.close)
    (details,) = reader.extra

    async def summarised(rows: list[Any]) -> list[IncidentSummary]:
        found = await summaries(details, principal, [row.id for row in rows])
        items = [found[row.id] for row in rows if row.id in found]
        if cross_border is not None:
            items = [item for item in items if item.cross_border == cross_border]
        return items

    async def batches() -> AsyncGenerator[list[IncidentSummary]]:
        rest = reader.rest()
        async with contextlib.aclosing(rest):
            yield await summarised(first)
            async for rows in rest:
                yield await summarised(rows)

    fields = _with_labels(INCIDENT_FIELDS, Labels(taxonomy))
    return _download(request, "incidents", fmt, _encode(batches(), fields, fmt))


def download_handlers(
    noun: str, what: str, stream: Callable[..., Awaitable[Stream]]
) -> list[HTTPRouteHandler]:
    """``/api/v1/{noun}.csv`` (``.ndjson``, ``.parquet``): every match as one file, each an
    operation of its own with its own media type."""
    return [_download_handler(noun, what, stream, fmt) for fmt in ("csv", "ndjson", "parquet")]


def _download_handler(
    noun: str, what: str, stream: Callable[..., Awaitable[Stream]], fmt: Format
) -> HTTPRouteHandler:
    async def handler(
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal | None],
        taxonomy: NamedDependency[TaxonomyRegistry],
        filters: NamedDependency[Filters],
    ) -> Stream:
        return await stream(request, principal, filters, fmt, taxonomy)

    title = noun.capitalize()
    return get(
        f"/api/v1/{noun}.{fmt}",
        name=f"download-{noun}-{fmt}",
        operation_id=f"Download{title}{fmt.capitalize()}",
        summary=f"Every {what} you may see that matches the filters, as {fmt.upper()}",
        tags=[title],
        media_type=MEDIA_TYPES[fmt],
        dependencies=FILTERS,
        responses=download(fmt, 400, 401, 422, what=what),
    )(handler)
