"""Country and region names in each language, from the Unicode CLDR data that Babel ships.

CLDR names every ISO 3166-1 territory and the UN M49 regions by their numeric codes; nothing here
is typed by hand except the M49 code of each region name our geography table uses.
"""

from __future__ import annotations

import functools

from babel import Locale, UnknownLocaleError

# The UN M49 numeric code of each region, sub-region and intermediate region name in
# taxonomy/geography.csv (the standard's own codes; CLDR keys its names by them).
M49_CODES = {
    "Africa": "002",
    "Americas": "019",
    "Asia": "142",
    "Europe": "150",
    "Oceania": "009",
    "Northern Africa": "015",
    "Sub-Saharan Africa": "202",
    "Eastern Africa": "014",
    "Middle Africa": "017",
    "Southern Africa": "018",
    "Western Africa": "011",
    "Latin America and the Caribbean": "419",
    "Caribbean": "029",
    "Central America": "013",
    "South America": "005",
    "Northern America": "021",
    "Central Asia": "143",
    "Eastern Asia": "030",
    "South-eastern Asia": "035",
    "Southern Asia": "034",
    "Western Asia": "145",
    "Eastern Europe": "151",
    "Northern Europe": "154",
    "Southern Europe": "039",
    "Western Europe": "155",
    "Australia and New Zealand": "053",
    "Melanesia": "054",
    "Micronesia": "057",
    "Polynesia": "061",
}


@functools.cache
def _territories(language: str) -> dict[str, str]:
    try:
        return dict(Locale.parse(language).territories)
    except (UnknownLocaleError, ValueError):
        return {}


def country_name(code: str, language: str, fallback: str) -> str:
    """The CLDR name of an ISO 3166-1 alpha-2 country in the language, or ``fallback``."""
    return _territories(language).get(code.upper()) or fallback


def region_name(name: str, language: str) -> str:
    """An M49 region's name (as geography.csv spells it in English) in the language.

    CLDR's names are its own: "Latin America and the Caribbean" is CLDR's "Latin America" (419)
    in every language, English included, so English keeps the table's spelling."""
    code = M49_CODES.get(name)
    if code is None or language == "en":
        return name
    return _territories(language).get(code) or name
