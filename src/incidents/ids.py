"""Identifiers: time-ordered UUIDv7 (RFC 9562) and readable references such as INC-2026-000042."""

from __future__ import annotations

import uuid

from uuid_utils.compat import uuid7


def new_id() -> uuid.UUID:
    """A UUIDv7 as a standard-library UUID: Unix milliseconds, then a counter and randomness, so
    the ids one thread makes sort in the order it made them."""
    return uuid7()


def reference(prefix: str, year: int, number: int) -> str:
    """``INC`` + year + a zero-padded number from a global sequence (never reused)."""
    return f"{prefix}-{year}-{number:06d}"
