"""Taxonomy codes and countries as the words a reader knows, for templates."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from incidents.errors import NotFound
from incidents.languages.places import country_name
from incidents.taxonomy.service import TaxonomyRegistry
from incidents.web.i18n import N_
from incidents.web.report_form import CHOICE_DIMENSIONS, Choice


class Labels:
    def __init__(self, taxonomy: TaxonomyRegistry, language: str = "en") -> None:
        self._taxonomy = taxonomy
        self._language = language

    def in_language(self, language: str) -> Labels:
        return Labels(self._taxonomy, language)

    def __call__(self, dimension: str, code: str | None) -> str:
        """A code's label in the newest version that knows it (the code itself otherwise)."""
        if code is None:
            return ""
        for version in sorted(self._taxonomy.versions, reverse=True):
            try:
                known = self._taxonomy.versions[version].dimension(dimension)
            except NotFound:
                continue
            if code in known.codes:
                return known.label(code, self._language)
        return code

    def many(self, dimension: str, codes: Iterable[str]) -> str:
        return ", ".join(self(dimension, code) for code in codes)

    def country(self, code: str | None) -> str:
        if code is None:
            return ""
        found = self._taxonomy.current.countries.get(code)
        return country_name(code, self._language, found.name) if found else code

    def countries(self, codes: Iterable[str]) -> str:
        return ", ".join(self.country(code) for code in codes)


def in_page_language(context: Mapping[str, Any], language: str) -> dict[str, Any]:
    """A page's context with its taxonomy labels, form pickers and country names in the page's
    language (the display labels the API gives for `Accept-Language`; English where a code has
    none). Every page passes through here (`templating.page`), so no handler has to."""
    out = dict(context)
    labels = out.get("labels")
    if not isinstance(labels, Labels):
        return out
    labels = out["labels"] = labels.in_language(language)
    choices = out.get("choices")
    if isinstance(choices, dict):
        out["choices"] = {
            name: [
                msgspec.structs.replace(choice, label=labels(CHOICE_DIMENSIONS[name], choice.code))
                if isinstance(choice, Choice) and name in CHOICE_DIMENSIONS
                else choice
                for choice in listed
            ]
            for name, listed in choices.items()
        }
    countries = out.get("countries")
    if isinstance(countries, list) and all(
        isinstance(item, tuple) and len(item) == 2 for item in countries
    ):
        out["countries"] = sorted((labels.country(code), code) for _, code in countries)
    return out


# Words stored as values (statuses, event types, kinds) that pages show through gettext.
VALUE_WORDS = (
    N_("draft"),
    N_("submitted"),
    N_("under_review"),
    N_("accepted"),
    N_("rejected"),
    N_("withdrawn"),
    N_("incident"),
    N_("hazard"),
    N_("regulator"),
    N_("research"),
    N_("secretariat"),
    N_("source"),
    N_("published"),
    N_("superseded"),
    N_("retracted"),
)
