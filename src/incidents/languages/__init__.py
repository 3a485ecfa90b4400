"""The six languages of the registry (the UN's official ones): which, their direction, and the
English every other language falls back to."""

from __future__ import annotations

from typing import Final

# The UN order (alphabetical in English): Arabic, Chinese, English, French, Russian, Spanish.
LANGUAGES: Final = ("ar", "zh", "en", "fr", "ru", "es")
SOURCE_LANGUAGE: Final = "en"
RIGHT_TO_LEFT: Final = frozenset({"ar"})

# What each catalog is written in, as a BCP 47 tag (`Content-Language`, `lang`): the Chinese
# catalogs are Simplified Chinese, the UN's official written Chinese. A reader asking for
# Traditional Chinese (zh-Hant, zh-TW, zh-HK) is served them too, labelled as what they are.
TAGS: Final = {"zh": "zh-Hans"}


def language_tag(language: str) -> str:
    """The BCP 47 tag of the text served in one of the six languages (``zh`` -> ``zh-Hans``)."""
    return TAGS.get(language, language)
