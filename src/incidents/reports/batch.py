"""Filing many reports at once: a JSON array or NDJSON of up to 5,000 reports, all or nothing.

Items are decoded and checked one by one as the body arrives (NDJSON line by line), every bad
item is named by its index and field, and only when all are valid are the rows written with
binary COPY, in one transaction with their incidents, revisions and audit events.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.errors import (
    FieldError,
    Forbidden,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)
from incidents.members.schemas import Principal
from incidents.members.service import actor_for
from incidents.reports import schemas
from incidents.reports.access import FILERS, visible
from incidents.reports.bulk import Filer, NewReport, write_reports
from incidents.reports.content import check, derive
from incidents.reports.models import incidents, reports
from incidents.reports.queries import survivor_of
from incidents.reports.service import content_of
from incidents.taxonomy.service import TaxonomyRegistry
from incidents.validation import collect_errors

MAX_ERRORS = 1_000
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


class _Valid(msgspec.Struct):
    index: int
    content: schemas.ReportContent
    data: schemas.ReportCreate
    derived: dict[str, Any]
    version: int


_decoder = msgspec.json.Decoder(schemas.ReportCreate)


def _decode(index: int, raw: bytes) -> tuple[schemas.ReportCreate | None, list[FieldError]]:
    try:
        return _decoder.decode(raw), []
    except msgspec.ValidationError:
        errors = collect_errors(msgspec.json.decode(raw), schemas.ReportCreate)
    except msgspec.DecodeError as error:
        errors = [FieldError("$", f"Not valid JSON: {error}")]
    return None, [FieldError(error.field, error.message, index) for error in errors]


class Checked(msgspec.Struct):
    valid: list[_Valid]
    incidents: dict[str, tuple[uuid.UUID, str]]


async def check_batch(
    connection: AsyncConnection, principal: Principal, body: Body, taxonomy: TaxonomyRegistry
) -> Checked:
    """Read and check every item; raise 422 naming every bad item by index and field."""
    if principal.kind not in FILERS:
        raise Forbidden("Only regulators (and outside sources) file reports")
    today = datetime.now(UTC).date()
    valid: list[_Valid] = []
    errors: list[FieldError] = []
    external_refs: dict[str, int] = {}
    count = 0
    async for raw in body.items():
        index = count
        count += 1
        if count > schemas.MAX_BATCH:
            raise PayloadTooLarge(f"A batch holds at most {schemas.MAX_BATCH} reports")
        data, item_errors = _decode(index, raw)
        if data is not None:
            version = taxonomy.versions.get(data.taxonomy_version or taxonomy.current.version)
            if version is None:
                item_errors = [FieldError("taxonomy_version", "No such released version", index)]
            else:
                content = content_of(data)
                item_errors = [
                    FieldError(e.field, e.message, index) for e in check(content, version, today)
                ]
                if data.external_ref is not None:
                    if data.external_ref in external_refs:
                        item_errors.append(
                            FieldError(
                                "external_ref",
                                f"Also used by item {external_refs[data.external_ref]}",
                                index,
                            )
                        )
                    external_refs.setdefault(data.external_ref, index)
                if not item_errors and not errors:
                    derived = derive(content, version, principal.jurisdiction)
                    valid.append(_Valid(index, content, data, derived, version.version))
        if item_errors and len(errors) < MAX_ERRORS:
            errors.extend(item_errors[: MAX_ERRORS - len(errors)])
            valid.clear()
    if count == 0:
        raise ValidationFailed(
            "The batch is empty", errors=[FieldError("$", "Send at least one report")]
        )
    links = await _links(connection, principal, valid)
    errors.extend(links.missing)
    errors.extend(await _taken_external_refs(connection, principal, external_refs))
    if errors:
        raise ValidationFailed(
            f"{len({e.index for e in errors})} of {count} reports are invalid; nothing was stored",
            errors=errors,
        )
    return Checked(valid=valid, incidents=links.incidents)


class _Links(msgspec.Struct):
    incidents: dict[str, tuple[uuid.UUID, str]]
    missing: list[FieldError]


async def _links(connection: AsyncConnection, principal: Principal, valid: list[_Valid]) -> _Links:
    """Resolve every named incident once (after merges); each must hold a report you can see."""
    named = sorted({item.data.incident for item in valid if item.data.incident})
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
        FieldError("incident", f"No incident {item.data.incident} that you can see", item.index)
        for item in valid
        if item.data.incident and item.data.incident not in found
    ]
    return _Links(incidents=found, missing=missing)


async def _taken_external_refs(
    connection: AsyncConnection, principal: Principal, wanted: dict[str, int]
) -> list[FieldError]:
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


async def write_batch(
    connection: AsyncConnection, principal: Principal, checked: Checked
) -> schemas.BatchCreated:
    """Write checked reports with binary COPY, with their incidents, revisions and audit events."""
    items = [
        NewReport(
            content=item.content,
            derived=item.derived,
            version=item.version,
            status=item.data.status,
            sharing=item.data.sharing,
            external_ref=item.data.external_ref,
            incident=checked.incidents[item.data.incident] if item.data.incident else None,
        )
        for item in checked.valid
    ]
    written = await write_reports(
        connection,
        Filer(principal.organization_id, principal.jurisdiction),
        actor_for(principal),
        items,
    )
    return schemas.BatchCreated(
        created=len(written),
        reports=[
            schemas.BatchItem(id=item.id, ref=item.ref, incident=item.incident) for item in written
        ],
    )
