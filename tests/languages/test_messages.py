"""The briefs' message catalogs: every message the code marks is translated in every language,
with the same placeholders, and nothing is translated that the code no longer says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from incidents.languages import LANGUAGES
from incidents.languages.messages import catalog_path, translations

BRIEFS = Path(__file__).resolve().parents[2] / "src" / "incidents" / "briefs"
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def _marked() -> set[str]:
    return {
        message
        for _, _, message, _, _ in extract_from_dir(
            str(BRIEFS), method_map=[("**.py", "python")], keywords={"_": None, "gettext": None}
        )
        if isinstance(message, str)
    }


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_every_message_is_translated_with_its_placeholders(language: str) -> None:
    marked = _marked()
    assert len(marked) > 50
    with catalog_path(language, "briefs").open("rb") as handle:
        catalog = read_po(handle, locale=language)
    translated = {message.id: message for message in catalog if message.id}
    assert set(translated) == marked, (
        f"untranslated: {sorted(marked - set(translated))}; "
        f"no longer in the code: {sorted(set(translated) - marked)}"
    )
    for msgid, message in translated.items():
        assert message.string, msgid
        assert not message.fuzzy, msgid
        assert sorted(PLACEHOLDER.findall(str(msgid))) == sorted(
            PLACEHOLDER.findall(str(message.string))
        ), msgid


def test_english_and_unknown_languages_read_the_code_as_written() -> None:
    assert translations("en").gettext("Charts") == "Charts"
    assert translations("de").gettext("Charts") == "Charts"
    assert translations("ar").gettext("Charts") == "الرسوم البيانية"
    assert translations("zh").gettext("No such message") == "No such message"
