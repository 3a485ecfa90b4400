"""Filing many reports at once: a JSON array or NDJSON of up to 5,000 reports, all or nothing.

The body is read within its limits, then each item is decoded, checked and written with binary
COPY in one pass, in one transaction with their incidents, revisions and audit events. Every bad
item is named by its index and field, and one bad item rolls the whole batch back.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import asyncpg
import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.errors import (
    Conflict,
    FieldError,
    Forbidden,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)
from incidents.incidents.models import incidents
from incidents.incidents.reading import survivor_of
from incidents.members.schemas import Principal
from incidents.members.service import actor_for
from incidents.reports import schemas
from incidents.reports.access import FILERS, visible
from incidents.reports.content import check, derive
from incidents.reports.copying import Placement, Reservation, complete, reserve, stream_reports
from incidents.reports.filing import content_of
from incidents.reports.models import reports
from incidents.reports.writer import Filer, NewReport
from incidents.taxonomy.service import Taxonomy, TaxonomyRegistry
from incidents.validation import MAX_JSON_DEPTH, every_error, too_deep

MAX_ERRORS = 1_000
_EXTERNAL_REF_INDEX = "uq_reports_organization_external_ref"
NDJSON_TYPES = {"application/x-ndjson", "application/ndjson", "application/jsonl"}


class Body:
    """The request body read as it arrives: raw items, a running hash, and a size limit."""

    def __init__(
        self, chunks: AsyncIterator[bytes], media_type: str, limit: int, fingerprint_prefix: bytes
    ) -> None:
        self._chunks = chunks
        self._ndjson = media_type in NDJSON_TYPES
        if not self._ndjson and media_type not in {"application/json", ""}:
            raise UnsupportedMediaType("Send application/json (an array) or application/x-ndjson")
        self._limit = limit
        self._size = 0
        # The same fingerprint idempotency.request_hash gives a body read in one piece.
        self._hash = hashlib.sha256(fingerprint_prefix)

    @property
    def digest(self) -> bytes:
        return self._hash.digest()

    async def _read(self) -> AsyncIterator[bytes]:
        async for chunk in self._chunks:
            self._size += len(chunk)
            if self._size > self._limit:
                raise PayloadTooLarge(f"The batch body is over {self._limit} bytes")
            self._hash.update(chunk)
            yield chunk

    async def items(self) -> AsyncIterator[bytes]:
        if self._ndjson:
            pending = b""
            async for chunk in self._read():
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if line.strip():
                        yield line
            if pending.strip():
                yield pending
            return
        body = b"".join([chunk async for chunk in self._read()])
        try:
            raw_items = msgspec.json.decode(body, type=list[msgspec.Raw])
        except (msgspec.DecodeError, msgspec.ValidationError) as error:
            raise ValidationFailed(
                "The body must be a JSON array of reports",
                errors=[FieldError("$", str(error).split(" - at ")[0])],
            ) from None
        for raw in raw_items:
            yield bytes(raw)


_decoder = msgspec.json.Decoder(schemas.ReportCreate)


class _Route(msgspec.Struct):
    """The two fields of an item that need the database before any row is written."""

    incident: str | None = None
    external_ref: str | None = None


_router = msgspec.json.Decoder(_Route)


def _route(raw: bytes) -> _Route:
    """Read without checking the rest of the item (a malformed item gets its errors later)."""
    try:
        return _router.decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return _Route()


def _decode(
    index: int, raw: bytes, taxonomy: TaxonomyRegistry
) -> tuple[schemas.ReportCreate | None, list[FieldError]]:
    try:
        return _decoder.decode(raw), []
    except msgspec.ValidationError:
        if too_deep(raw):
            errors = [FieldError("$", f"JSON may nest at most {MAX_JSON_DEPTH} levels deep")]
        else:
            errors = every_error(msgspec.json.decode(raw), schemas.ReportCreate, taxonomy)
    except msgspec.DecodeError as error:
        errors = [FieldError("$", f"Not valid JSON: {error}")]
    return None, [FieldError(error.field, error.message, index) for error in errors]


async def read_batch(principal: Principal, body: Body) -> list[bytes]:
    """The raw items of a batch from someone who may file one, within the size limits."""
    if principal.kind not in FILERS:
        raise Forbidden("Only regulators (and outside sources) file reports")
    items: list[bytes] = []
    async for raw in body.items():
        if len(items) == schemas.MAX_BATCH:
            raise PayloadTooLarge(f"A batch holds at most {schemas.MAX_BATCH} reports")
        items.append(raw)
    if not items:
        raise ValidationFailed(
            "The batch is empty", errors=[FieldError("$", "Send at least one report")]
        )
    return items


class _Errors:
    """Every bad item's errors, up to MAX_ERRORS."""

    def __init__(self) -> None:
        self.found: list[FieldError] = []

    def add(self, errors: list[FieldError]) -> None:
        self.found.extend(errors[: MAX_ERRORS - len(self.found)])


async def file_batch(
    connection: AsyncConnection,
    principal: Principal,
    items: list[bytes],
    taxonomy: TaxonomyRegistry,
) -> schemas.BatchCreated:
    """Check every item and write them all with binary COPY, or raise 422 naming every bad item
    by index and field (the transaction then rolls back whatever was written).

    Named incidents and external references are looked up first, then each item is decoded,
    checked and COPYed in one pass: PostgreSQL stores a buffer of rows while the next items
    are being checked. After the first bad item nothing more is sent, but every item is still
    checked so that all errors are reported at once.
    """
    routes = [_route(raw) for raw in items]
    links = await _links(connection, principal, routes)
    errors = _Errors()
    errors.add(links.missing)
    # An external_ref already filed is the same conflict as when filing one report: 409.
    taken = await _taken_external_refs(connection, principal, routes)
    errors.add(taken)
    today = datetime.now(UTC).date()
    external_refs: dict[str, int] = {}

    async def checked(reservation: Reservation | None) -> AsyncIterator[tuple[int, NewReport]]:
        for index, raw in enumerate(items):
            data, item_errors = _decode(index, raw, taxonomy)
            if data is None:
                errors.add(item_errors)
                continue
            item_errors, content, version = _check(index, data, taxonomy, today, external_refs)
            if item_errors:
                errors.add(item_errors)
            elif reservation is not None and not errors.found:
                yield (
                    index,
                    NewReport(
                        content=content,
                        derived=derive(content, version, principal.jurisdiction),
                        version=version.version,
                        status=data.status,
                        sharing=data.sharing,
                        external_ref=data.external_ref,
                        incident=reservation.slots[index].incident,
                    ),
                )

    actor = actor_for(principal)
    streamed = None
    if errors.found:
        # A named incident or external reference is already wrong: nothing will be written,
        # but every item is still checked so that all errors are reported at once.
        async for _ in checked(None):
            pass
    else:
        placements = [Placement(links.incidents.get(route.incident or "")) for route in routes]
        reservation = await reserve(connection, placements, {})
        try:
            streamed = await stream_reports(
                connection,
                Filer(principal.organization_id, principal.jurisdiction),
                actor,
                reservation,
                checked(reservation),
            )
        except asyncpg.UniqueViolationError as error:
            # Another filing took one of these external references after they were checked.
            if error.constraint_name != _EXTERNAL_REF_INDEX:
                raise
            raise Conflict(
                "A report with one of these external_refs was filed meanwhile; nothing was stored"
            ) from None
    if errors.found or streamed is None:
        bad = {error.index for error in errors.found}
        if taken:
            raise Conflict(
                f"{len(taken)} of {len(items)} reports have an external_ref you already filed; "
                "nothing was stored",
                errors=sorted(errors.found, key=lambda error: error.index or 0),
            )
        raise ValidationFailed(
            f"{len(bad)} of {len(items)} reports are invalid; nothing was stored",
            errors=sorted(errors.found, key=lambda error: error.index or 0),
        )
    written = await complete(connection, actor, streamed)
    return schemas.BatchCreated(
        created=len(written),
        reports=[
            schemas.BatchItem(id=item.id, ref=item.ref, incident=item.incident) for item in written
        ],
    )


def _check(
    index: int,
    data: schemas.ReportCreate,
    taxonomy: TaxonomyRegistry,
    today: date,
    external_refs: dict[str, int],
) -> tuple[list[FieldError], schemas.ReportContent, Taxonomy]:
    """An item's errors, with its content and the taxonomy version it is checked against."""
    content = content_of(data)
    version = taxonomy.versions.get(data.taxonomy_version or taxonomy.current.version)
    if version is None:
        errors = [FieldError("taxonomy_version", "No such released version", index)]
        return errors, content, taxonomy.current
    errors = [FieldError(e.field, e.message, index) for e in check(content, version, today)]
    if data.external_ref is not None:
        if data.external_ref in external_refs:
            errors.append(
                FieldError(
                    "external_ref", f"Also used by item {external_refs[data.external_ref]}", index
                )
            )
        external_refs.setdefault(data.external_ref, index)
    return errors, content, version


class _Links(msgspec.Struct):
    incidents: dict[str, tuple[uuid.UUID, str]]
    missing: list[FieldError]


async def _links(connection: AsyncConnection, principal: Principal, routes: list[_Route]) -> _Links:
    """Resolve every named incident once (after merges); each must hold a report you can see."""
    named = sorted({route.incident for route in routes if route.incident})
    found: dict[str, tuple[uuid.UUID, str]] = {}
    for name in named:
        rows = (
            await connection.execute(
                select(incidents).where(
                    (incidents.c.ref == name.upper()) | (incidents.c.id == _uuid(name))
                )
            )
        ).first()
        if rows is None:
            continue
        survivor = await survivor_of(connection, rows)
        can_see = (
            await connection.execute(
                select(reports.c.id)
                .where(reports.c.incident_id == survivor.id, visible(principal))
                .limit(1)
            )
        ).first()
        if can_see is not None:
            found[name] = (survivor.id, survivor.ref)
    missing = [
        FieldError("incident", f"No incident {route.incident} that you can see", index)
        for index, route in enumerate(routes)
        if route.incident and route.incident not in found
    ]
    return _Links(incidents=found, missing=missing)


async def _taken_external_refs(
    connection: AsyncConnection, principal: Principal, routes: list[_Route]
) -> list[FieldError]:
    wanted: dict[str, int] = {}
    for index, route in enumerate(routes):
        if route.external_ref is not None:
            wanted.setdefault(route.external_ref, index)
    if not wanted:
        return []
    taken = await connection.execute(
        select(reports.c.external_ref).where(
            reports.c.organization_id == principal.organization_id,
            reports.c.external_ref.in_(list(wanted)),
        )
    )
    return [
        FieldError(
            "external_ref", f"You already filed a report with external_ref {ref!r}", wanted[ref]
        )
        for ref in taken.scalars()
    ]


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
