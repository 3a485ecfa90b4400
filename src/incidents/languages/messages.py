"""The interface's words in each language: gettext catalogs (Babel's `.po` files under
`src/incidents/locales/<language>/LC_MESSAGES/<domain>.po`).

The `.po` files are read directly and compiled in memory the first time a language is asked
for (Babel's `read_po` then `write_mo`): there is no build step to forget, and the files in the
wheel are the files in the repository. A message without a translation, or one marked fuzzy,
falls back to English.
"""

from __future__ import annotations

import functools
import gettext
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from incidents.languages import LANGUAGES, SOURCE_LANGUAGE

LOCALES = Path(__file__).resolve().parent.parent / "locales"


def catalog_path(language: str, domain: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / f"{domain}.po"


@functools.cache
def translations(language: str, domain: str = "briefs") -> gettext.NullTranslations:
    """The compiled catalog of a language (English, or a language without one: no-op)."""
    if language == SOURCE_LANGUAGE or language not in LANGUAGES:
        return gettext.NullTranslations()
    path = catalog_path(language, domain)
    if not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=domain)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=domain)
