"""Cursor pagination: opaque, URL-safe cursors over a sort key, and the Link header."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import urlencode

import msgspec
from litestar.params import QueryParameter

from incidents.errors import FieldError, ValidationFailed

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500

PageSize = Annotated[
    int, QueryParameter(ge=1, le=MAX_PAGE_SIZE, description=f"Items per page, 1 to {MAX_PAGE_SIZE}")
]
Cursor = Annotated[
    str | None,
    QueryParameter(
        required=False,
        max_length=512,
        description="The `next` value of the previous page",
    ),
]


class Page(msgspec.Struct, Generic[T]):
    """Every list answers ``{"items": [...], "next": cursor-or-null}``."""

    items: list[T]
    next: str | None = None


def encode_cursor(values: Sequence[Any]) -> str:
    raw = msgspec.json.encode(msgspec.to_builtins(list(values)))
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


#: A sort key the registry numbers rows by (a PostgreSQL bigint).
Number = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]
#: A relevance score.
Score = Annotated[float, msgspec.Meta(ge=-1e300, le=1e300)]


def decode_cursor(cursor: str, shape: Any) -> list[Any]:
    """The values a cursor carries, each checked against ``shape`` (a tuple type such as
    ``tuple[date, Number]``): a cursor of another sort, edited by hand or made up is a 422,
    never a value the database then chokes on."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return list(msgspec.convert(msgspec.json.decode(raw), shape, strict=False))
    except (binascii.Error, ValueError, msgspec.DecodeError, msgspec.ValidationError):
        raise ValidationFailed(
            "The cursor is not one this service issued for this sort",
            errors=[FieldError("cursor", "Not a valid cursor; use the `next` value of a page")],
        ) from None


def link_header(base_url: str, params: dict[str, Any], cursor: str | None) -> dict[str, str]:
    """``Link: <...>; rel="next"`` carrying the same filters and the next cursor."""
    if cursor is None:
        return {}
    query = [(key, value) for key, value in params.items() if key != "cursor" and value is not None]
    query.append(("cursor", cursor))
    return {"Link": f'<{base_url}?{urlencode(query, doseq=True)}>; rel="next"'}


class FacetValue(msgspec.Struct, kw_only=True):
    value: str
    label: str
    count: int
