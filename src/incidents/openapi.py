"""OpenAPI helpers: the error responses each operation documents."""

from __future__ import annotations

from typing import Any

from litestar.openapi.datastructures import ResponseSpec

from incidents.errors import Problem
from incidents.formats import MEDIA_TYPES

_DESCRIPTIONS = {
    304: "Not modified (the ETag still matches)",
    400: "Malformed request: unusable text (NUL, invalid UTF-8), an unknown query parameter",
    401: "No valid API key: missing where required, unknown, malformed or revoked",
    403: "The key's organization may not do this",
    404: "No such resource, or not visible to this caller",
    406: "None of the formats in Accept can be produced (JSON, CSV, NDJSON, Parquet)",
    409: "Conflicts with the current state",
    410: "Gone: the brief was retracted (its notice stays at its .html address)",
    412: "If-Match does not match the current revision",
    413: "The request body is larger than this endpoint accepts",
    415: "The body is not sent as application/json (UTF-8)",
    422: "Validation failed; `errors` lists every field at fault",
    428: "If-Match is required",
    503: "The database is unreachable or not migrated (Retry-After says when to retry)",
}


#: What any operation may answer: a request the edge refuses (400), a bad key (401), a
#: parameter out of bounds (422), the database unreachable (503).
ALWAYS = (400, 401, 422, 503)


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """Problem-details responses for the given statuses, those every operation may give, and
    415 wherever a body is read (those that list 413)."""
    wanted = {*statuses, *ALWAYS}
    if 413 in wanted:
        wanted.add(415)
    specs = {
        status: ResponseSpec(
            data_container=Problem,
            description=_DESCRIPTIONS[status],
            media_type="application/problem+json",
            generate_examples=False,
        )
        for status in sorted(wanted)
    }
    specs[500] = ResponseSpec(
        data_container=Problem,
        description="Unexpected error; the body carries a request id",
        media_type="application/problem+json",
        generate_examples=False,
    )
    return specs


def documented(
    model: Any, *statuses: int, status: int = 200, description: str = "OK"
) -> dict[int, ResponseSpec]:
    """``problems(*statuses)`` plus the success answer typed as ``model``: for handlers whose
    return annotation cannot say it (a Response built from bytes, e.g. an idempotent replay)."""
    specs = problems(*statuses)
    specs[status] = ResponseSpec(
        data_container=model, description=description, generate_examples=False
    )
    return specs


def download(fmt: str, *statuses: int, what: str = "rows") -> dict[int, ResponseSpec]:
    """A download operation's answers: the file in its own media type, and its problems."""
    specs = problems(*statuses)
    specs[200] = ResponseSpec(
        data_container=bytes if fmt == "parquet" else str,
        description=f"Every matching {what} as {fmt.upper()} (an attachment, streamed)",
        media_type=MEDIA_TYPES[fmt],
        generate_examples=False,
    )
    return specs
