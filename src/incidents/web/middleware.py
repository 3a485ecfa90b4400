"""Per page request: the visitor's language, and the session its cookie names (if any) as the
request's principal, read with its key and organization every time (revocation ends it)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.datastructures.headers import MutableScopeHeaders
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from incidents.config import Settings
from incidents.db import Database
from incidents.members.guards import PRINCIPAL_KEY
from incidents.web.i18n import choose_translations
from incidents.web.sessions import Lifetimes, resume_session

SESSION_COOKIE = "incidents_session"
CSRF_COOKIE = "incidents_csrf"
SESSION_TOKEN_KEY = "web_session_token"  # noqa: S105  # a scope key, not a secret


def lifetimes(settings: Settings) -> Lifetimes:
    return Lifetimes(
        absolute=timedelta(hours=settings.web_session_hours),
        idle=timedelta(minutes=settings.web_idle_minutes),
    )


def session_cookie(settings: Settings, token: str, *, max_age: int | None = None) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=token,
        path="/",
        httponly=True,
        samesite="strict",
        secure=settings.web_secure_cookies,
        max_age=max_age,
    )


def cleared_session_cookie(settings: Settings) -> Cookie:
    return session_cookie(settings, "", max_age=0)


# Every page: nothing from elsewhere (scripts, styles, fonts, frames), no inline script, forms
# only to this site, never framed.
SECURITY_HEADERS = (
    (
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; object-src 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "DENY"),
)


def with_security_headers(send: Send) -> Send:
    async def sender(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableScopeHeaders.from_message(message)
            for name, value in SECURITY_HEADERS:
                headers[name] = value
        await send(message)

    return sender


class WebSessionMiddleware(ASGIMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        send = with_security_headers(send)
        connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
        choose_translations(connection)
        token = connection.cookies.get(SESSION_COOKIE)
        if not token:
            await next_app(scope, receive, send)
            return
        app = scope["litestar_app"]
        settings: Settings = app.state.settings
        database: Database = app.state.database
        async with database.transaction() as db:
            session = await resume_session(db, token, lifetimes(settings))
        state = scope.setdefault("state", {})
        if session is not None:
            state[PRINCIPAL_KEY] = session.principal
            state[SESSION_TOKEN_KEY] = token
            await next_app(scope, receive, send)
            return
        # The session has ended (expired, idle, key revoked): forget the cookie too.
        state[PRINCIPAL_KEY] = None
        cleared = cleared_session_cookie(settings).to_header(header="")

        async def send_clearing(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                headers.add("set-cookie", cleared)
            await send(message)

        await next_app(scope, receive, send_clearing)
