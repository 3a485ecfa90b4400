"""Taxonomy codes and countries as the words a reader knows, for templates."""

from __future__ import annotations

from collections.abc import Iterable

from incidents.errors import NotFound
from incidents.taxonomy.service import TaxonomyRegistry
from incidents.web.i18n import N_


class Labels:
    def __init__(self, taxonomy: TaxonomyRegistry, language: str = "en") -> None:
        self._taxonomy = taxonomy
        self._language = language

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
        return found.name if found else code

    def countries(self, codes: Iterable[str]) -> str:
        return ", ".join(self.country(code) for code in codes)


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
