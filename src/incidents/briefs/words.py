"""The words of a brief in its language: messages (gettext), numbers and percentages (Babel,
per locale), the taxonomy's labels, country and region names, and the protected-count band."""

from __future__ import annotations

from typing import TYPE_CHECKING

from babel.numbers import format_decimal, format_percent

from incidents.languages import RIGHT_TO_LEFT, SOURCE_LANGUAGE
from incidents.languages.catalogs import Translations, load_translations
from incidents.languages.messages import translations
from incidents.languages.places import country_name, region_name
from incidents.paths import taxonomy_dir

if TYPE_CHECKING:
    from incidents.briefs.schemas import BriefData

MISSING = "—"
# The font the charts' text asks for: the PDF has only the fonts shipped in wheels (the Arabic
# and Chinese ones cover Latin digits too); a browser falls back to its own.
CHART_FAMILIES = {
    "ar": "'Noto Sans Arabic, Tahoma, sans-serif'",
    "zh": "'WenQuanYi Micro Hei, Noto Sans SC, sans-serif'",
}
# Which taxonomy dimension holds the codes a brief labels under each name.
_DIMENSIONS = {"harm_subdomain": "harm_domain"}


class Words:
    """Everything a brief says, in one language (English when the language has no text)."""

    def __init__(
        self,
        data: BriefData,
        language: str = SOURCE_LANGUAGE,
        taxonomy_translations: Translations | None = None,
    ) -> None:
        self.data = data
        self.language = language
        self.direction = "rtl" if language in RIGHT_TO_LEFT else "ltr"
        self.gettext = translations(language).gettext
        self._taxonomy = (
            taxonomy_translations
            if taxonomy_translations is not None
            else load_translations(taxonomy_dir())
        )
        self.chart_family = CHART_FAMILIES.get(language)

    def band(self) -> str:
        return self.gettext("fewer than {k}").format(k=self.number(self.data.protection.k))

    def number(self, value: int | float) -> str:
        if self.language == SOURCE_LANGUAGE:
            return f"{value:,}"
        return format_decimal(value, locale=self.language)

    def isolated(self, text: str) -> str:
        """A period or an ISO date kept left to right inside right-to-left words (a Unicode
        isolate): otherwise an Arabic sentence shows 2026-Q2 as Q2-2026 and 2026-11-29 as
        29-11-2026."""
        return f"\u2066{text}\u2069" if self.direction == "rtl" else text

    def decimal(self, value: float) -> str:
        """A figure with one decimal (7.3, 7,3)."""
        if self.language == SOURCE_LANGUAGE:
            return f"{value:.1f}"
        return format_decimal(value, format="#,##0.0", locale=self.language)

    def count(self, value: int | None, status: str) -> str:
        if status == "withheld":
            return self.gettext("withheld")
        if value is None:
            return self.band()
        return self.number(value)

    def missing(self, status: str) -> str:
        return self.gettext("withheld") if status == "withheld" else self.band()

    def percent(self, value: float | None) -> str:
        """A change, signed (+12%, −5%); 0% unsigned."""
        if value is None:
            return MISSING
        if self.language == SOURCE_LANGUAGE:
            return f"{value:+.0%}" if value else "0%"
        if not value:
            return format_percent(0, locale=self.language)
        text = format_percent(abs(value), locale=self.language)
        return ("+" if value > 0 else "−") + text

    def share(self, value: float | None) -> str:
        if value is None:
            return MISSING
        if self.language == SOURCE_LANGUAGE:
            return f"{value:.0%}"
        return format_percent(value, locale=self.language)

    def label(self, dimension: str, code: str) -> str:
        """A code's label in the language: the taxonomy's catalog, CLDR for countries and
        regions; the brief's own (English) label where there is none."""
        english = self.data.labels.get(dimension, {}).get(code, code)
        if self.language == SOURCE_LANGUAGE:
            return english
        if dimension == "country":
            return country_name(code, self.language, english)
        if dimension in {"region", "sub_region"}:
            return region_name(code, self.language)
        found = self._taxonomy.label(_DIMENSIONS.get(dimension, dimension), code, self.language)
        return found or english

    def region(self, name: str) -> str:
        return name if self.language == SOURCE_LANGUAGE else region_name(name, self.language)
