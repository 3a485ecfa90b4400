"""Identifiers: time-ordered UUIDv7 (RFC 9562) and readable references such as INC-2026-000042."""

from __future__ import annotations

import os
import time
import uuid


def new_id() -> uuid.UUID:
    """A UUIDv7: 48 bits of Unix milliseconds, then randomness; sorts by creation time."""
    milliseconds = time.time_ns() // 1_000_000
    random = int.from_bytes(os.urandom(10), "big")
    value = (milliseconds & 0xFFFF_FFFF_FFFF) << 80
    value |= 0x7 << 76  # version
    value |= (random >> 68) << 64 & (0x0FFF << 64)  # rand_a: 12 bits
    value |= 0b10 << 62  # variant
    value |= random & 0x3FFF_FFFF_FFFF_FFFF  # rand_b: 62 bits
    return uuid.UUID(int=value)


def reference(prefix: str, year: int, number: int) -> str:
    """``INC`` + year + a zero-padded number from a global sequence (never reused)."""
    return f"{prefix}-{year}-{number:06d}"
