"""Choosing the answer's language from `Accept-Language` (RFC 9110 §12.5.4)."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request

from incidents.languages import LANGUAGES, SOURCE_LANGUAGE

# A header longer than this, or with more ranges, is read only up to the limit: the preferred
# languages come first in practice, and a hostile header must not cost more than a short one.
MAX_HEADER_LENGTH = 1000
MAX_RANGES = 32
_RANGE = re.compile(r"^(\*|[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)$")
_QUALITY = re.compile(r"^q=(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$", re.IGNORECASE)


def preferences(header: str | None) -> list[str]:
    """The language ranges of a header, most preferred first (q=0 and malformed ones dropped)."""
    if not header:
        return []
    weighted: list[tuple[float, int, str]] = []
    for position, item in enumerate(header[:MAX_HEADER_LENGTH].split(",")[:MAX_RANGES]):
        tag, *parameters = (part.strip() for part in item.split(";"))
        if not _RANGE.match(tag):
            continue
        quality = 1.0
        for parameter in parameters:
            matched = _QUALITY.match(parameter.replace(" ", ""))
            if matched is None:
                quality = -1.0
                break
            quality = float(matched.group(1))
        if quality > 0:
            weighted.append((-quality, position, tag.lower()))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate(header: str | None, available: tuple[str, ...] = LANGUAGES) -> str:
    """The best available language for the header (`zh-CN` and `zh-Hans` give `zh`, `es-419`
    gives `es`, `*` gives English); English when none of the ranges is available.

    Every Chinese range gives `zh`, whose catalogs are Simplified Chinese: a reader asking for
    Traditional Chinese (`zh-Hant`, `zh-TW`, `zh-HK`) reads Simplified more readily than the
    English fallback, and the answer says what it is (`Content-Language: zh-Hans`)."""
    for tag in preferences(header):
        if tag == "*":
            return SOURCE_LANGUAGE
        primary = tag.split("-", 1)[0]
        if tag in available:
            return tag
        if primary in available:
            return primary
    return SOURCE_LANGUAGE


def answer_language(request: Request[Any, Any, Any]) -> str:
    """The language a request's answer is worded in."""
    return negotiate(request.headers.get("accept-language"))
