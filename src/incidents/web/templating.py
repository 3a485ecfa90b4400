"""The pages' Jinja2 environment: autoescaped templates from ``web/templates``, gettext per
request (`incidents.web.i18n`), the TLP labels, and `page`, which every handler returns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context
from litestar import Request
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template.config import TemplateConfig
from markupsafe import Markup

from incidents.web.forms import FormErrors
from incidents.web.i18n import (
    ENDONYMS,
    TEMPLATE_CALLABLES,
    catalog,
    context_translations,
    direction,
    html_lang,
    language_of,
)
from incidents.web.labels import in_page_language, value_label
from incidents.web.pages import layout_context
from incidents.web.reasons import reason_in

TEMPLATES = Path(__file__).with_name("templates")
STATIC = Path(__file__).with_name("static")
STATIC_PATH = "/static/web"

# FIRST TLP 2.0: each label is its colour on black (CLEAR white, GREEN #33FF00, AMBER #FFC000,
# RED #FF2B2B); the CSS holds the colours, this the classes and the words.
TLP_LEVELS = ("TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:RED")


def tlp_label(level: str) -> Markup:
    if level not in TLP_LEVELS:
        return Markup("<span class='tlp'>{}</span>").format(level)
    css = level.split(":")[1].lower()
    return Markup("<span class='tlp tlp-{}'>{}</span>").format(css, level)


def _locale_of(context: Context) -> str:
    language = context.get("language")
    return language if isinstance(language, str) else "en"


@pass_context
def number(context: Context, value: float | int | None) -> str:
    """A number as the page's language writes it (``12 345`` in French, ``12,345`` in English)."""
    return "" if value is None else format_decimal(value, locale=_locale_of(context))


@pass_context
def day(context: Context, value: date | datetime | str | None, style: str = "medium") -> str:
    """A date as the page's language writes it (Babel's CLDR patterns); text passes through."""
    if value is None:
        return ""
    if isinstance(value, str):
        try:
            parsed = date.fromisoformat(value[:10])
        except ValueError:
            return value
        return format_date(parsed, style, locale=_locale_of(context))
    if isinstance(value, datetime):
        return format_datetime(value, style, locale=_locale_of(context))
    return format_date(value, style, locale=_locale_of(context))


@pass_context
def coded(context: Context, value: str | None) -> str:
    """A stored code (``under_review``, ``hazard``, ``overdue``...) as words, in the page's
    language."""
    return context_translations(context).gettext(value_label(value)) if value else ""


@pass_context
def reason(context: Context, message: str) -> str:
    """One of the API's (English) reasons in the page's language (`web/reasons.py`)."""
    return reason_in(message, context_translations(context), _locale_of(context))


@pass_context
def language_name(context: Context, code: str | None) -> str:
    """A BCP 47 tag as the language's name in the page's language (``fr`` -> "French")."""
    if not code:
        return ""
    try:
        return Locale.parse(code.replace("-", "_")).get_display_name(_locale_of(context)) or code
    except (ValueError, UnknownLocaleError):
        return code


def environment(extra_directories: Sequence[Path] = ()) -> Environment:
    env = Environment(
        loader=FileSystemLoader([TEMPLATES, *extra_directories]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]  # added by the i18n extension
        **TEMPLATE_CALLABLES, newstyle=True
    )
    env.filters["tlp"] = tlp_label
    env.filters["number"] = number
    env.filters["day"] = day
    env.filters["coded"] = coded
    env.filters["reason"] = reason
    env.filters["language_name"] = language_name
    env.globals["endonyms"] = ENDONYMS
    env.globals["lang_tag"] = html_lang
    env.globals["static"] = lambda name: f"{STATIC_PATH}/{name}"
    env.globals["tlp_levels"] = TLP_LEVELS
    return env


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment()))


def _language_context(request: Request[Any, Any, Any]) -> dict[str, str]:
    language = language_of(request)
    return {
        "language": language,
        "html_lang": html_lang(language),
        "direction": direction(language),
    }


def _reasons_in(context: dict[str, Any], language: str) -> dict[str, Any]:
    """The form errors of a page's context with the API's reasons in the page's language."""
    translations = catalog(language)
    for name, value in context.items():
        if isinstance(value, FormErrors):
            context[name] = value.translated(
                lambda message: reason_in(message, translations, language)
            )
    return context


def page(
    request: Request[Any, Any, Any],
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Template:
    """A rendered page: the template, its context, and what the layout needs (navigation for
    this visitor, the language, the principal); taxonomy labels in the page's language."""
    language = _language_context(request)
    return Template(
        template_name=template,
        context={
            **layout_context(request),
            **language,
            **_reasons_in(
                in_page_language(context or {}, language["language"]), language["language"]
            ),
        },
        status_code=status_code,
        # What the page is written in (zh-Hans for Chinese, whatever Chinese was asked for).
        headers={"Content-Language": language["html_lang"], **(headers or {})},
        media_type="text/html",
    )
