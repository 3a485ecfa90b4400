"""Every user-facing string of the web interface goes through gettext, with the catalog chosen
per request (``Accept-Language`` among the catalogs shipped in ``web/locale/``; English, the
source language, otherwise).

Templates call ``_()``, ``gettext()``, ``ngettext()`` or ``{% trans %}``; Python code calls
`translations_of(request).gettext(...)`, and marks strings translated later (navigation
labels, choices) with `N_` so that extraction finds them.
Catalogs: ``web/locale/<language>/LC_MESSAGES/incidents.mo`` (domain ``incidents``).
"""

from __future__ import annotations

import functools
import gettext
from pathlib import Path
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from litestar.connection import ASGIConnection

DOMAIN = "incidents"
LOCALE_DIR = Path(__file__).with_name("locale")
SOURCE_LANGUAGE = "en"
_STATE_KEY = "web_translations"
_LANGUAGE_KEY = "web_language"


def N_(message: str) -> str:  # the conventional name extraction tools look for
    """Mark a string for translation where it is defined; it is translated where shown."""
    return message


@functools.cache
def available_languages() -> tuple[str, ...]:
    """The source language and every language with a compiled catalog in ``LOCALE_DIR``."""
    found = {
        path.parent.parent.name
        for path in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo")
        if path.is_file()
    }
    return (SOURCE_LANGUAGE, *sorted(found - {SOURCE_LANGUAGE}))


@functools.cache
def catalog(language: str) -> gettext.NullTranslations:
    if language == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[language], fallback=True)


def negotiate(accept_language: str | None, languages: tuple[str, ...]) -> str:
    """The best of ``languages`` for an Accept-Language header (q-values honoured, a region
    falling back to its language: ``fr-CA`` -> ``fr``)."""
    if not accept_language:
        return SOURCE_LANGUAGE
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")[:32]):
        tag, _, parameters = part.strip().partition(";")
        quality = 1.0
        if parameters.strip().startswith("q="):
            try:
                quality = float(parameters.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag:
            ranked.append((-quality, position, tag.strip().lower()))
    for negative_quality, _, tag in sorted(ranked):
        if negative_quality >= 0:
            break
        for candidate in (tag, tag.split("-")[0]):
            if candidate in languages:
                return candidate
    return SOURCE_LANGUAGE


def choose_translations(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """Pick the request's language and catalog; called once per page request."""
    state = connection.scope.setdefault("state", {})
    language = negotiate(connection.headers.get("accept-language"), available_languages())
    state[_LANGUAGE_KEY] = language
    state[_STATE_KEY] = catalog(language)


def translations_of(connection: ASGIConnection[Any, Any, Any, Any]) -> gettext.NullTranslations:
    found = connection.scope.get("state", {}).get(_STATE_KEY)
    return found if isinstance(found, gettext.NullTranslations) else catalog(SOURCE_LANGUAGE)


def language_of(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    found = connection.scope.get("state", {}).get(_LANGUAGE_KEY)
    return found if isinstance(found, str) else SOURCE_LANGUAGE


def _context_translations(context: Context) -> gettext.NullTranslations:
    request = context.get("request")
    return translations_of(request) if request is not None else catalog(SOURCE_LANGUAGE)


# Jinja's newstyle gettext calls these through Context.call, which hands them the template's
# context: the catalog is the rendering request's, never a process-wide global.
@pass_context
def _gettext(context: Context, message: str) -> str:
    return _context_translations(context).gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, count: int) -> str:
    return _context_translations(context).ngettext(singular, plural, count)


@pass_context
def _pgettext(context: Context, message_context: str, message: str) -> str:
    return _context_translations(context).pgettext(message_context, message)


@pass_context
def _npgettext(
    context: Context, message_context: str, singular: str, plural: str, count: int
) -> str:
    return _context_translations(context).npgettext(message_context, singular, plural, count)


TEMPLATE_CALLABLES = {
    "gettext": _gettext,
    "ngettext": _ngettext,
    "pgettext": _pgettext,
    "npgettext": _npgettext,
}
