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
        pattern=r"^[A-Za-z0-9_-]*$",
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


def decode_cursor(cursor: str, expected_length: int) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = msgspec.json.decode(raw)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        values = None
    if not isinstance(values, list) or len(values) != expected_length:
        raise ValidationFailed(
            "The cursor is not one this service issued",
            errors=[FieldError("cursor", "Not a valid cursor; use the `next` value of a page")],
        )
    return values


def link_header(base_url: str, params: dict[str, Any], cursor: str | None) -> dict[str, str]:
    """``Link: <...>; rel="next"`` carrying the same filters and the next cursor."""
    if cursor is None:
        return {}
    query = [(key, value) for key, value in params.items() if key != "cursor" and value is not None]
    query.append(("cursor", cursor))
    return {"Link": f'<{base_url}?{urlencode(query, doseq=True)}>; rel="next"'}
