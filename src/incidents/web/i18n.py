"""Every user-facing string of the web interface goes through gettext, with the catalog chosen
per request: the language the visitor picked with the switch (the ``incidents_lang`` cookie),
else ``Accept-Language`` (`incidents.languages.negotiation`), else English.

One catalog mechanism for the whole registry: ``incidents.languages.messages`` reads
``src/incidents/locales/<language>/LC_MESSAGES/web.po`` (domain ``web``) and compiles it in
memory; there is no build step.

Templates call ``_()``, ``gettext()``, ``ngettext()`` or ``{% trans %}``; Python code calls
`translations_of(request).gettext(...)`, and marks strings translated later (navigation
labels, choices) with `N_` so that extraction finds them.
"""

from __future__ import annotations

import gettext
from contextvars import ContextVar
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from litestar.connection import ASGIConnection

from incidents.languages import LANGUAGES, RIGHT_TO_LEFT, SOURCE_LANGUAGE, language_tag
from incidents.languages.messages import translations
from incidents.languages.negotiation import negotiate

DOMAIN = "web"
LANGUAGE_COOKIE = "incidents_lang"
_STATE_KEY = "web_translations"
_LANGUAGE_KEY = "web_language"

# The switch shows each language in its own name, in the UN order.
ENDONYMS = {
    "ar": "العربية",
    "zh": "中文",
    "en": "English",
    "fr": "Français",
    "ru": "Русский",
    "es": "Español",
}


# The request's catalog for what renders without the page's context: macros imported into a
# template (`{% import "macros/forms.html" as forms %}`) do not see `request`. Set by the pages'
# middleware in the request's own task, so it never leaks to another request.
_CURRENT: ContextVar[gettext.NullTranslations | None] = ContextVar("web_translations", default=None)


def N_(message: str) -> str:  # the conventional name extraction tools look for
    """Mark a string for translation where it is defined; it is translated where shown."""
    return message


def available_languages() -> tuple[str, ...]:
    return LANGUAGES


def catalog(language: str) -> gettext.NullTranslations:
    return translations(language, DOMAIN)


def language_for(cookie: str | None, accept_language: str | None) -> str:
    """The visitor's choice when it names one of the six languages, else negotiation."""
    if cookie in LANGUAGES:
        return cookie
    return negotiate(accept_language)


def choose_translations(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """Pick the request's language and catalog; called once per page request."""
    state = connection.scope.setdefault("state", {})
    language = language_for(
        connection.cookies.get(LANGUAGE_COOKIE), connection.headers.get("accept-language")
    )
    state[_LANGUAGE_KEY] = language
    state[_STATE_KEY] = catalog(language)
    _CURRENT.set(state[_STATE_KEY])


def translations_of(connection: ASGIConnection[Any, Any, Any, Any]) -> gettext.NullTranslations:
    found = connection.scope.get("state", {}).get(_STATE_KEY)
    return found if isinstance(found, gettext.NullTranslations) else catalog(SOURCE_LANGUAGE)


def language_of(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    found = connection.scope.get("state", {}).get(_LANGUAGE_KEY)
    return found if isinstance(found, str) else SOURCE_LANGUAGE


def html_lang(language: str) -> str:
    """A page's `lang`: Chinese is written in simplified characters (which also selects the
    right fonts and line-breaking rules in browsers)."""
    return language_tag(language)


def direction(language: str) -> str:
    return "rtl" if language in RIGHT_TO_LEFT else "ltr"


def _context_translations(context: Context) -> gettext.NullTranslations:
    request = context.get("request")
    if request is not None:
        return translations_of(request)
    return _CURRENT.get() or catalog(SOURCE_LANGUAGE)


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


def context_translations(context: Context) -> gettext.NullTranslations:
    """The catalog of the request a template renders for (for filters)."""
    return _context_translations(context)


TEMPLATE_CALLABLES = {
    "gettext": _gettext,
    "ngettext": _ngettext,
    "pgettext": _pgettext,
    "npgettext": _npgettext,
}
