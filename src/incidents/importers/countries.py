"""Country names as people write them ("USA", "Türkiye", "Côte d'Ivoire", "Allemagne",
"Estados Unidos") to ISO 3166-1 alpha-2 codes of the taxonomy's geography table.

Exact forms first: codes, the table's names, pycountry's common names and its translations in
the other UN languages (and German, Portuguese, Italian); then country_converter's name
patterns, accepted only when exactly one country matches.
"""

from __future__ import annotations

import csv
import functools
import gettext
import importlib.resources
import re
import unicodedata
from collections.abc import Iterable

from incidents.taxonomy.service import Taxonomy

LANGUAGES = ("fr", "es", "ar", "ru", "zh_CN", "pt", "de", "it")


def normalized(name: str) -> str:
    """Case, accents, punctuation and a leading 'the' do not matter."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    plain = re.sub(r"[^\w]+", " ", plain).strip()
    return plain.removeprefix("the ")


@functools.cache
def _library_names() -> tuple[dict[str, str], list[tuple[re.Pattern[str], str]]]:
    """(normalized name -> alpha-2, [(country_converter pattern, alpha-2)]), built once."""
    import pycountry

    names: dict[str, str] = {}
    for country in pycountry.countries:
        for attribute in ("name", "official_name", "common_name"):
            value = getattr(country, attribute, None)
            if value:
                names.setdefault(normalized(value), country.alpha_2)
    for language in LANGUAGES:
        try:
            translation = gettext.translation(
                "iso3166-1", pycountry.LOCALES_DIR, languages=[language]
            )
        except OSError:
            continue
        for country in pycountry.countries:
            for attribute in ("name", "common_name", "official_name"):
                value = getattr(country, attribute, None)
                if value:
                    names.setdefault(normalized(translation.gettext(value)), country.alpha_2)
    patterns: list[tuple[re.Pattern[str], str]] = []
    # Read the bundled table directly: country_converter's own class needs pandas.
    data = importlib.resources.files("country_converter") / "country_data.tsv"
    with data.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            code = row["ISO2"].split("|")[0].strip("^$")
            if len(code) == 2 and not row["obsolete"]:
                patterns.append((re.compile(row["regex"], re.IGNORECASE), code))
                names.setdefault(normalized(row["name_short"]), code)
                names.setdefault(normalized(row["name_official"]), code)
    return names, patterns


class Countries:
    """Resolves a cell to a country code of this taxonomy, or None."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.known = frozenset(taxonomy.countries)
        library, self.patterns = _library_names()
        self.names = dict(library)
        for country in taxonomy.countries.values():
            for name in (country.name, country.official_name):
                if name:
                    self.names[normalized(name)] = country.code
            self.names[country.alpha3.casefold()] = country.code
        self._cache: dict[str, str | None] = {}

    def code(self, cell: str) -> str | None:
        text = cell.strip()
        if text in self._cache:
            return self._cache[text]
        found = self._resolve(text)
        self._cache[text] = found
        return found

    def _resolve(self, text: str) -> str | None:
        if len(text) == 2 and text.isalpha():
            upper = text.upper()
            code = "GB" if upper == "UK" else upper
            return code if code in self.known else None
        found = self.names.get(normalized(text)) or self.names.get(text.casefold())
        if found is None:
            matches = {code for pattern, code in self.patterns if pattern.search(text)}
            found = matches.pop() if len(matches) == 1 else None
        return found if found in self.known else None

    def codes(self, cells: Iterable[str]) -> tuple[list[str], list[str]]:
        """(codes found, cells not recognised), in order."""
        found: list[str] = []
        unknown: list[str] = []
        for cell in cells:
            code = self.code(cell)
            if code is None:
                unknown.append(cell)
            elif code not in found:
                found.append(code)
        return found, unknown
