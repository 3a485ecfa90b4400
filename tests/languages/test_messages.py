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


def _marked() -> set[str | tuple[str, str]]:
    """Every message the code marks: a text, or (singular, plural) for a count's words."""
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2)}
    return {
        message if isinstance(message, str) else (message[0], message[1])
        for _, _, message, _, _ in extract_from_dir(
            str(BRIEFS), method_map=[("**.py", "python")], keywords=keywords
        )
    }


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_every_message_is_translated_with_its_placeholders(language: str) -> None:
    marked = _marked()
    assert len(marked) > 50
    with catalog_path(language, "briefs").open("rb") as handle:
        catalog = read_po(handle, locale=language)
    translated = {
        message.id if isinstance(message.id, str) else tuple(message.id): message
        for message in catalog
        if message.id
    }
    assert set(translated) == marked, (
        f"untranslated: {sorted(marked - set(translated))}; "
        f"no longer in the code: {sorted(set(translated) - marked)}"
    )
    for msgid, message in translated.items():
        assert message.string, msgid
        assert not message.fuzzy, msgid
        if isinstance(msgid, str):
            assert sorted(PLACEHOLDER.findall(msgid)) == sorted(
                PLACEHOLDER.findall(str(message.string))
            ), msgid
            continue
        # Plural forms: each form says the count its own way (Arabic's "one" and "two" forms
        # need no figure), but none invents a placeholder, and the general form keeps them all.
        forms = list(message.string)
        assert len(forms) == catalog.num_plurals, msgid
        assert all(form for form in forms), msgid
        allowed = set(PLACEHOLDER.findall(msgid[1]))
        assert all(set(PLACEHOLDER.findall(form)) <= allowed for form in forms), msgid
        assert set(PLACEHOLDER.findall(forms[-1])) == allowed, msgid


def test_english_and_unknown_languages_read_the_code_as_written() -> None:
    assert translations("en").gettext("Charts") == "Charts"
    assert translations("de").gettext("Charts") == "Charts"
    assert translations("ar").gettext("Charts") == "الرسوم البيانية"
    assert translations("zh").gettext("No such message") == "No such message"
