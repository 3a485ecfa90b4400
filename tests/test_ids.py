"""Identifiers: UUIDv7 that sort by creation, and readable references."""

from __future__ import annotations

import time
import uuid

from incidents.ids import new_id, reference


def test_new_ids_are_standard_uuid7_carrying_the_time_they_were_made() -> None:
    before = time.time_ns() // 1_000_000
    made = new_id()
    after = time.time_ns() // 1_000_000
    assert type(made) is uuid.UUID  # what msgspec, asyncpg and the schemas expect
    assert made.version == 7
    assert made.variant == uuid.RFC_4122
    assert before <= made.int >> 80 <= after  # the first 48 bits: Unix milliseconds


def test_ids_made_one_after_another_sort_in_the_order_they_were_made() -> None:
    # Many fall within one millisecond: the order must not rest on the clock alone.
    made = [new_id() for _ in range(20_000)]
    assert len(set(made)) == len(made)
    assert made == sorted(made)
    assert made == sorted(made, key=str)  # as text too (exports, cursors)
    assert len({identifier.int >> 80 for identifier in made}) < len(made)


def test_references_are_prefix_year_and_a_zero_padded_number() -> None:
    assert reference("INC", 2026, 42) == "INC-2026-000042"
    assert reference("RPT", 2026, 1_234_567) == "RPT-2026-1234567"
