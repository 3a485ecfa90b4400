"""Signing in with an API key (exchanged for a session; the browser never keeps the key) and
signing out."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.config import Settings
from incidents.errors import FieldError, Unauthorized
from incidents.members.authentication import Authenticator
from incidents.web.forms import FormErrors
from incidents.web.i18n import N_
from incidents.web.middleware import (
    SESSION_TOKEN_KEY,
    cleared_session_cookie,
    lifetimes,
    session_cookie,
)
from incidents.web.pages import SIGNED_OUT, NavItem, PageGroup
from incidents.web.sessions import end_session, open_session
from incidents.web.templating import page

FormBody = Body(media_type=RequestEncodingType.URL_ENCODED)
MAX_NEXT_LENGTH = 2000


def safe_next(target: str | None) -> str:
    """Only a path of this site: an address elsewhere (``//evil.example``, ``https://...``)
    would make the sign-in form an open redirect."""
    if (
        not target
        or len(target) > MAX_NEXT_LENGTH
        or not target.startswith("/")
        or target.startswith(("//", "/\\"))
    ):
        return "/"
    return target


@get("/sign-in", name="web-sign-in-form", include_in_schema=False)
async def sign_in_form(
    request: Request[Any, Any, Any],
    next_page: Annotated[
        str | None, QueryParameter(name="next", max_length=MAX_NEXT_LENGTH)
    ] = None,
) -> Template:
    return page(request, "sign_in.html", {"next": safe_next(next_page), "errors": FormErrors()})


@post("/sign-in", name="web-sign-in", include_in_schema=False, status_code=303)
async def sign_in(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncConnection],
    data: Annotated[dict[str, Any], FormBody],
) -> Template | Redirect:
    settings: Settings = request.app.state.settings
    authenticator: Authenticator = request.app.state.authenticator
    key = str(data.get("api_key") or "").strip()
    target = safe_next(str(data.get("next") or ""))
    translations = request.scope["state"]["web_translations"]
    try:
        if not key:
            raise Unauthorized(translations.gettext("Enter your API key"))
        principal = await authenticator.authenticate(f"Bearer {key}")
    except Unauthorized as error:
        message = (
            error.detail
            if key == ""
            else translations.gettext("This API key is unknown, revoked or malformed")
        )
        errors = FormErrors([FieldError("api_key", message)], fields=["api_key"])
        return page(request, "sign_in.html", {"next": target, "errors": errors}, status_code=422)
    previous = request.scope.get("state", {}).get(SESSION_TOKEN_KEY)
    if isinstance(previous, str):
        # Signing in again (perhaps with another key) ends the session it replaces.
        await end_session(db, previous)
    token = await open_session(db, principal, lifetimes(settings))
    redirect = Redirect(target, status_code=303)
    redirect.cookies.append(session_cookie(settings, token))
    return redirect


@post("/sign-out", name="web-sign-out", include_in_schema=False, status_code=303)
async def sign_out(
    request: Request[Any, Any, Any], db: NamedDependency[AsyncConnection]
) -> Redirect:
    settings: Settings = request.app.state.settings
    token = request.scope.get("state", {}).get(SESSION_TOKEN_KEY)
    if isinstance(token, str):
        await end_session(db, token)
    redirect = Redirect("/", status_code=303)
    redirect.cookies.append(cleared_session_cookie(settings))
    return redirect


ACCOUNT = PageGroup(
    name="account",
    handlers=[sign_in_form, sign_in, sign_out],
    navigation=[NavItem(N_("Sign in"), "/sign-in", audiences=SIGNED_OUT)],
)
