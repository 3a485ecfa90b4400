"""The language switch shown on every page: a plain form (one button per language, CSRF token
like every form) that remembers the choice in a cookie and returns to the page it came from."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, post
from litestar.datastructures import Cookie
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect

from incidents.config import Settings
from incidents.languages import LANGUAGES
from incidents.web.account import safe_next
from incidents.web.i18n import LANGUAGE_COOKIE
from incidents.web.pages import PageGroup

REMEMBERED_FOR_SECONDS = 365 * 24 * 3600


def language_cookie(settings: Settings, language: str) -> Cookie:
    return Cookie(
        key=LANGUAGE_COOKIE,
        value=language,
        path="/",
        httponly=True,
        samesite="strict",
        secure=settings.web_secure_cookies,
        max_age=REMEMBERED_FOR_SECONDS,
    )


@post("/language", name="web-language", include_in_schema=False, status_code=303)
async def choose_language(
    request: Request[Any, Any, Any],
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Redirect:
    """Remember a language (one of the six; anything else is ignored) and go back."""
    settings: Settings = request.app.state.settings
    language = str(data.get("lang") or "")
    target = safe_next(str(data.get("next") or ""))
    if language not in LANGUAGES:
        return Redirect(target, status_code=303)
    return Redirect(target, status_code=303, cookies=[language_cookie(settings, language)])


LANGUAGE = PageGroup(name="language", handlers=[choose_language], navigation=[])
