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


# Every coded value a page shows (statuses, event types, organization kinds, deadline states,
# modes, kinds of taxonomy change), with the words a reader knows: English message ids that the
# `web` catalog translates. A page shows a code through the `coded` filter, never as it is stored.
VALUE_LABELS: dict[str, str] = {
    # a report's status
    "draft": N_("draft"),
    "submitted": N_("submitted"),
    "under_review": N_("under review"),
    "accepted": N_("accepted"),
    "rejected": N_("rejected"),
    "withdrawn": N_("withdrawn"),
    # a report's event type
    "incident": N_("incident"),
    "hazard": N_("hazard"),
    # an organization's kind
    "regulator": N_("regulator"),
    "research": N_("research body"),
    "secretariat": N_("secretariat"),
    "source": N_("data source"),
    # a brief's status
    "queued": N_("queued"),
    "running": N_("being made"),
    "failed": N_("failed"),
    "approved": N_("approved"),
    "published": N_("published"),
    "superseded": N_("superseded"),
    "retracted": N_("retracted"),
    # a reporting deadline's state
    "met": N_("met"),
    "late": N_("late"),
    "due": N_("due"),
    "overdue": N_("overdue"),
    # an audit run's mode
    "full": N_("full"),
    "incremental": N_("incremental"),
    # a change between taxonomy versions
    "added": N_("added"),
    "retired": N_("retired"),
    "relabelled": N_("relabelled"),
    "redefined": N_("redefined"),
    "moved": N_("moved"),
    "crosswalk": N_("crosswalk"),
    # a figure's protection in a brief
    "below_k": N_("fewer than k"),
    "withheld": N_("withheld"),
}


def value_label(code: str | None) -> str:
    """The English words (a message id) for a coded value; a code not listed as it is."""
    if code is None:
        return ""
    return VALUE_LABELS.get(code, code)
