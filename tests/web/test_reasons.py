"""The API's reasons for refusing a field, recognised and worded in the page's language."""

from __future__ import annotations

import pytest

from incidents.edge import NUL_MESSAGE
from incidents.reports.content import unknown_code
from incidents.validation import plain_message
from incidents.web.i18n import catalog
from incidents.web.reasons import REASONS, reason_in


def _in(language: str, message: str) -> str:
    return reason_in(message, catalog(language), language)


def test_english_pages_show_the_apis_own_words() -> None:
    for message in ("Required field is missing", "'x' is not a sector code in taxonomy version 1"):
        assert _in("en", message) == message


def test_a_reason_not_known_is_shown_as_given_never_dropped() -> None:
    assert _in("fr", "Something the API will say one day") == "Something the API will say one day"


@pytest.mark.parametrize(
    ("message", "french"),
    [
        ("Must have at most 300 characters", "Au plus 300 caractères"),
        (
            "Expected a whole number or null, got text",
            "Attendu : un nombre entier ou null ; reçu : du texte",
        ),
        (
            "'9.9' is not a harm_domain code in taxonomy version 3; allowed: 1.1, 1.2",
            "'9.9' n’est pas un code de harm_domain dans la version 3 de la taxonomie ; "
            "codes admis : 1.1, 1.2",
        ),
        (
            "A submitted report cannot be corrected",
            "Un signalement à l’état « soumis » ne peut pas être corrigé",
        ),
        (
            "No incident INC-2026-000007 that you can see",
            "Aucun incident INC-2026-000007 que vous puissiez voir",
        ),
        (
            NUL_MESSAGE,
            "Contient le caractère NUL (U+0000), qu’aucun champ de texte ne peut contenir",
        ),
    ],
)
def test_a_reason_is_translated_with_its_values_kept(message: str, french: str) -> None:
    assert _in("fr", message) == french


def test_the_sentences_recognised_are_the_ones_the_api_writes() -> None:
    """The patterns follow the code that writes the reasons: each of these, written by the
    API's own functions, is recognised (and so translated) in every language."""
    written = [
        plain_message("Expected `str` of length <= 300"),
        plain_message("Expected `str` of length >= 1"),
        plain_message("Expected `array` of length <= 20"),
        plain_message("Expected `int` >= 0"),
        plain_message("Expected `int`, got `str`"),
        plain_message("Invalid enum value 'x'"),
        unknown_code("sector", "'ZZ'", None, " in taxonomy version 1"),
    ]
    for message in written:
        assert any(pattern.fullmatch(message) for pattern, _ in REASONS), message
        for language in ("ar", "zh", "fr", "ru", "es"):
            assert _in(language, message) != message, (language, message)
