"""`Accept-Language` to one of the six languages, English when nothing else fits."""

from __future__ import annotations

import pytest

from incidents.languages.negotiation import MAX_HEADER_LENGTH, negotiate, preferences


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("", "en"),
        ("fr-CH, fr;q=0.9, en;q=0.8", "fr"),
        ("de, ar;q=0.5", "ar"),
        ("zh-CN", "zh"),
        ("zh-Hans-CN", "zh"),
        ("zh-Hant", "zh"),
        ("zh-TW", "zh"),
        ("zh-HK", "zh"),
        ("zh-Hant-TW, en;q=0.5", "zh"),
        ("zh-SG", "zh"),
        ("zh", "zh"),
        ("es-419", "es"),
        ("RU", "ru"),
        ("en;q=0.2, es;q=0.9", "es"),
        ("en;q=0, ru;q=0.1", "ru"),
        ("de;q=1, *;q=0.1", "en"),
        ("de, ja", "en"),
        ("fr;q=2, es", "es"),
        ("fr;q=abc, ar", "ar"),
        ("'); drop table reports; --, ar", "ar"),
    ],
)
def test_the_best_available_language_is_chosen(header: str | None, expected: str) -> None:
    assert negotiate(header) == expected


def test_equal_qualities_keep_the_order_given() -> None:
    assert preferences("es, fr, ar;q=0.5, ru") == ["es", "fr", "ru", "ar"]


def test_a_huge_header_is_read_only_up_to_its_limit() -> None:
    header = "de, " * MAX_HEADER_LENGTH + "fr"
    assert negotiate(header) == "en"
    assert len(preferences(header)) <= 32
