"""The six languages of the registry (the UN's official ones): which, their direction, and the
English every other language falls back to."""

from __future__ import annotations

from typing import Final

# The UN order (alphabetical in English): Arabic, Chinese, English, French, Russian, Spanish.
LANGUAGES: Final = ("ar", "zh", "en", "fr", "ru", "es")
SOURCE_LANGUAGE: Final = "en"
RIGHT_TO_LEFT: Final = frozenset({"ar"})
