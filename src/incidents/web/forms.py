"""Forms on pages: the API's 422 error tree placed beside the fields it names.

A page posts a form, converts it to the API's own input Struct and calls the same service; a
`ValidationFailed` (or msgspec's own error) comes back as the same ``[{field, message}]`` the
API answers, and `FormErrors` hands each form field its messages: ``harms[0].domain`` belongs to
the field ``harms`` unless the page names a finer one. What no field of the form claims is
listed at the top, so nothing the API said is ever dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import msgspec

from incidents.errors import FieldError
from incidents.validation import every_error

_INDEX = re.compile(r"\[\d+\]")


class FormErrors:
    """Messages per form field, in the order the API gave them."""

    def __init__(
        self,
        errors: Iterable[FieldError] = (),
        *,
        fields: Sequence[str] = (),
        aliases: Mapping[str, str] | None = None,
    ) -> None:
        self._by_field: dict[str, list[str]] = {}
        self.unplaced: list[FieldError] = []
        self.all: list[FieldError] = list(errors)
        known = set(fields)
        aliases = dict(aliases or {})
        for error in self.all:
            field = form_field(error.field, known, aliases)
            if field is None:
                self.unplaced.append(error)
            else:
                self._by_field.setdefault(field, []).append(error.message)

    def __bool__(self) -> bool:
        return bool(self.all)

    def __call__(self, field: str) -> list[str]:
        """The messages for one field (for templates: ``errors('title')``)."""
        return self._by_field.get(field, [])

    def translated(self, translate: Callable[[str], str]) -> FormErrors:
        """The same errors, each message passed through ``translate`` (the page's language)."""
        found = FormErrors()
        found.all = [msgspec.structs.replace(e, message=translate(e.message)) for e in self.all]
        found.unplaced = [
            msgspec.structs.replace(e, message=translate(e.message)) for e in self.unplaced
        ]
        found._by_field = {
            field: [translate(message) for message in messages]
            for field, messages in self._by_field.items()
        }
        return found

    def placed(self) -> list[tuple[str, str]]:
        """(field, message) pairs for the error summary, each linking to its field."""
        return [
            (field, message) for field, messages in self._by_field.items() for message in messages
        ]


def form_field(path: str, known: set[str], aliases: Mapping[str, str]) -> str | None:
    """The form field an API error path belongs to: an alias, the path itself, or its nearest
    ancestor the form has (``harms[0].domain`` -> ``harms[0].domain``, ``harms.domain``,
    ``harms``)."""
    path = path.removeprefix("$.").removeprefix("body.")
    candidates = [path, _INDEX.sub("", path)]
    parts = path.split(".")
    candidates += [".".join(parts[:end]) for end in range(len(parts) - 1, 0, -1)]
    candidates += [_INDEX.sub("", candidate) for candidate in candidates]
    for candidate in candidates:
        if candidate in aliases:
            return aliases[candidate]
        if candidate in known:
            return candidate
    return None


def convert(raw: Mapping[str, Any], kind: type[Any], context: Any) -> tuple[Any, list[FieldError]]:
    """A page's values, built as the API's JSON would be, as ``kind`` (an API input Struct); or
    every field error the API would answer for the same body (``context``: what its semantic
    checks need, e.g. the taxonomy)."""
    try:
        return msgspec.convert(dict(raw), kind), []
    except msgspec.ValidationError:
        return None, every_error(dict(raw), kind, context)
