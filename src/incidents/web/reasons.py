"""The API's reasons for refusing a field, in the page's language.

The API answers every refusal in English (``Required field is missing``, ``Must have at most 300
characters``, ``'x' is not a sector code in taxonomy version 1; allowed: ...``), and keeps doing
so: its clients read the field and the English text, which must not change under them. The
reasons are a finite set, each built from a fixed sentence and a few values (a length limit, a
code, a version). Each sentence has a message id here, in the `web` catalog, with its values
as named parameters; a page shows a reason through `reason_in`, which recognises the sentence,
translates it and puts the values back. A reason it does not recognise is shown as the API gave
it (English), never dropped; English pages show the API's own words.
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Callable
from typing import Final

from incidents.edge import NUL_MESSAGE, UTF8_MESSAGE
from incidents.web.i18n import N_
from incidents.web.labels import value_label

#: The words the API uses for JSON's kinds of value (validation.py's `_TYPE_WORDS`, `_kind`).
KIND_WORDS: Final = {
    "text": N_("text"),
    "a whole number": N_("a whole number"),
    "a number": N_("a number"),
    "true or false": N_("true or false"),
    "a list": N_("a list"),
    "an object": N_("an object"),
    "null": N_("null"),
    "a date (YYYY-MM-DD)": N_("a date (YYYY-MM-DD)"),
    "a date and time (RFC 3339)": N_("a date and time (RFC 3339)"),
    "a UUID": N_("a UUID"),
}

_Translate = Callable[[str], str]


def _kinds(value: str, translate: _Translate) -> str:
    """``a whole number or null`` -> each kind translated, joined by the language's "or"."""
    parts = [
        translate(KIND_WORDS[part]) if part in KIND_WORDS else part for part in value.split(" or ")
    ]
    joined = parts[0]
    for part in parts[1:]:
        joined = translate(N_("%(first)s or %(second)s")) % {"first": joined, "second": part}
    return joined


def _status(value: str, translate: _Translate) -> str:
    return translate(value_label(value))


# Parameters whose value is itself words to translate.
_WORDS: Final[dict[str, Callable[[str, _Translate], str]]] = {
    "kind": _kinds,
    "expected": _kinds,
    "got": _kinds,
    "status": _status,
}

_CODE = r"(?P<code>'[^']*'|\"[^\"]*\")"
_REF = r"(?P<ref>\S+)"

#: (the API's sentence as a pattern, its message id). The first that matches the whole reason
#: wins: the specific sentences come before the general ones.
REASONS: Final[tuple[tuple[re.Pattern[str], str], ...]] = tuple(
    (re.compile(pattern, re.DOTALL), message)
    for pattern, message in (
        # The schema's checks (validation.py).
        (r"Required field is missing", N_("Required field is missing")),
        (r"Required", N_("Required")),
        (r"Unknown field", N_("Unknown field")),
        (r"Must not be empty", N_("Must not be empty")),
        (r"Must not be blank", N_("Must not be blank")),
        (r"Must have at least (?P<count>\d+) characters?", N_("At least %(count)s characters")),
        (r"Must have at most (?P<count>\d+) characters?", N_("At most %(count)s characters")),
        (r"Must have at least (?P<count>\d+) items?", N_("At least %(count)s items")),
        (r"Must have at most (?P<count>\d+) items?", N_("At most %(count)s items")),
        (r"At most (?P<count>\d+) items allowed", N_("At most %(count)s items")),
        (r"At least (?P<count>\d+) item\(s\) required", N_("At least %(count)s items")),
        (
            r"Must be (?P<kind>.+), (?P<number>-?[\d.]+) or more",
            N_("Must be %(kind)s, %(number)s or more"),
        ),
        (
            r"Must be (?P<kind>.+), (?P<number>-?[\d.]+) or less",
            N_("Must be %(kind)s, %(number)s or less"),
        ),
        (
            r"Must be (?P<kind>.+), (?P<number>-?[\d.]+) exclusive, or more",
            N_("Must be %(kind)s, more than %(number)s"),
        ),
        (r"Expected a date as YYYY-MM-DD", N_("Expected a date as YYYY-MM-DD")),
        (r"Expected a UUID", N_("Expected a UUID")),
        (
            r"Expected a taxonomy code: .*",
            N_(
                "Expected a taxonomy code: a letter or digit, then letters, digits, '.', '_' or "
                "'-' (at most 64 characters)"
            ),
        ),
        (
            r"Expected an ISO 3166-1 alpha-2 country code in capitals, such as KE",
            N_("Expected an ISO 3166-1 alpha-2 country code in capitals, such as KE"),
        ),
        (
            r"Expected a date as YYYY-MM-DD, or YYYY-MM / YYYY when only the month or year is "
            r"known",
            N_(
                "Expected a date as YYYY-MM-DD, or YYYY-MM / YYYY when only the month or year "
                "is known"
            ),
        ),
        (
            r"Expected a language tag \(BCP 47\) such as en, pt or pt-BR",
            N_("Expected a language tag (BCP 47) such as en, pt or pt-BR"),
        ),
        (
            r"Expected an http:// or https:// address, without spaces",
            N_("Expected an http:// or https:// address, without spaces"),
        ),
        (r"Not in the expected format", N_("Not in the expected format")),
        (r"Expected an object, got (?P<got>.+)", N_("Expected an object, got %(got)s")),
        (r"Expected (?P<expected>.+), got (?P<got>.+)", N_("Expected %(expected)s, got %(got)s")),
        (
            r"(?P<given>.+) is not one of: (?P<allowed>.+)",
            N_("%(given)s is not one of: %(allowed)s"),
        ),
        (r"Not an allowed value: (?P<given>.*)", N_("Not an allowed value: %(given)s")),
        (
            re.escape(NUL_MESSAGE),
            N_("Contains the NUL character (U+0000), which no text field may hold"),
        ),
        (re.escape(UTF8_MESSAGE), N_("Is not valid UTF-8")),
        # The content's checks (reports/content.py).
        (
            _CODE + r" is not an? (?P<dimension>\w+) code in taxonomy version (?P<version>\d+); "
            r"allowed: (?P<allowed>.+)",
            N_(
                "%(code)s is not a code of %(dimension)s in taxonomy version %(version)s; "
                "allowed: %(allowed)s"
            ),
        ),
        (
            _CODE + r" is not an? (?P<dimension>\w+) code in taxonomy version (?P<version>\d+); "
            r"see GET (?P<address>\S+) for the codes",
            N_(
                "%(code)s is not a code of %(dimension)s in taxonomy version %(version)s; "
                "see %(address)s for the codes"
            ),
        ),
        (
            _CODE + r" is not an? (?P<dimension>\w+) code in taxonomy version (?P<version>\d+)",
            N_("%(code)s is not a code of %(dimension)s in taxonomy version %(version)s"),
        ),
        (
            r"taxonomy version (?P<version>\d+) has no (?P<dimension>\w+)",
            N_("Taxonomy version %(version)s has no %(dimension)s"),
        ),
        (
            _CODE + r" is retired in taxonomy version (?P<version>\d+); use (?P<replacement>.+)",
            N_("%(code)s is retired in taxonomy version %(version)s; use %(replacement)s"),
        ),
        (r"At least one harm is required", N_("At least one harm is required")),
        (
            r"Serious-incident categories apply to incidents, not hazards",
            N_("Serious-incident categories apply to incidents, not hazards"),
        ),
        (
            r"A hazard is an event where no harm occurred; leave it empty or 0",
            N_("A hazard is an event where no harm occurred; leave it empty or 0"),
        ),
        (_CODE + r" is not an ISO 3166-1 country", N_("%(code)s is not an ISO 3166-1 country")),
        (r"Give a url or a document reference", N_("Give a url or a document reference")),
        (_CODE + r" is not a real date", N_("%(code)s is not a real date")),
        (r"Must not be in the future", N_("Must not be in the future")),
        (r"Must not be before occurred_on", N_("Must not be before the date it occurred")),
        (r"No released taxonomy version (?P<version>\d+)", N_("No released version %(version)s")),
        (r"No released version (?P<version>\d+)", N_("No released version %(version)s")),
        (r"No such released version", N_("No such released version")),
        (r"Choose a version", N_("Choose a version")),
        # Conflicts with what is stored (filing, linking, moving, merging).
        (r"No incident " + _REF + r" that you can see", N_("No incident %(ref)s that you can see")),
        (
            _REF + r" was already merged into (?P<survivor>\S+)",
            N_("%(ref)s was already merged into %(survivor)s"),
        ),
        (_REF + r" was already merged", N_("%(ref)s was already merged")),
        (r"Name a different incident", N_("Name a different incident")),
        (
            r"You already filed a report with external_ref (?P<given>.+)",
            N_("You already filed a report with the external reference %(given)s"),
        ),
        (
            r"A (?P<status>\w+) report cannot be corrected",
            N_("A report that is %(status)s cannot be corrected"),
        ),
        (
            r"Reports are filed all or nothing: correct and resend",
            N_("Reports are filed all or nothing: correct and resend"),
        ),
        # A batch upload's rows (importers/records.py, translate.py, dates.py).
        (_CODE + r" is not a whole number", N_("%(code)s is not a whole number")),
        (r"Must not be negative", N_("Must not be negative")),
        (r"No value \(and no default\)", N_("No value (and no default)")),
        (r"Not a YYYY-MM-DD date", N_("Not a YYYY-MM-DD date")),
        (
            r"A harm type without a harm domain would be lost: give the domain",
            N_("A harm type without a harm domain would be lost: give the domain"),
        ),
        (_CODE + r" is not a TLP level", N_("%(code)s is not a TLP level")),
        (_CODE + r" is not a status", N_("%(code)s is not a status")),
        (_CODE + r" is also row (?P<row>\d+)", N_("%(code)s is also row %(row)s")),
        (_CODE + r" has no mapping", N_("%(code)s has no mapping")),
        (_CODE + r" does not match (?P<pattern>.+)", N_("%(code)s does not match %(pattern)s")),
        (
            _CODE + r" is not a date \(a year, a month and year, or a full date\)",
            N_("%(code)s is not a date (a year, a month and year, or a full date)"),
        ),
        (r"Not a JSON array", N_("Not a JSON array")),
        (r"Unreadable line", N_("Unreadable line")),
    )
)


def reason_in(message: str, translations: gettext.NullTranslations, language: str) -> str:
    """The reason in the page's language; English (and an unknown reason) as the API gave it."""
    if language == "en":
        return message
    translate = translations.gettext
    for pattern, message_id in REASONS:
        found = pattern.fullmatch(message)
        if found is None:
            continue
        values = {
            name: _WORDS[name](value, translate) if name in _WORDS else value
            for name, value in found.groupdict().items()
        }
        return translate(message_id) % values if values else translate(message_id)
    return message
