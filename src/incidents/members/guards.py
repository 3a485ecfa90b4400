"""Who may call what: the principal resolved from the bearer key, and role guards.

The guards are coroutines although they never wait: Litestar hands a plain-function guard to a
worker thread, a round trip that costs more than the check itself on every request.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from incidents.db import Seen
from incidents.errors import Forbidden, Unauthorized
from incidents.members.authentication import Authenticator
from incidents.members.schemas import Principal

PRINCIPAL_KEY = "principal"
# What the key check of this request read (`incidents.db.Seen`), when it read anything.
SEEN_KEY = "seen"


class AuthenticationMiddleware(ASGIMiddleware):
    """A request with a key acts for its organization; a bad key is 401; no key is the public."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        state = scope.setdefault("state", {})
        state[PRINCIPAL_KEY] = None
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                authenticator: Authenticator = scope["litestar_app"].state.authenticator
                principal, seen = await authenticator.check(value.decode("latin-1"))
                state[PRINCIPAL_KEY] = principal
                if seen is not None:
                    state[SEEN_KEY] = seen
                break
        await next_app(scope, receive, send)


def seen_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Seen | None:
    """What this request's key check read, if its key came from the cache."""
    found = connection.scope.get("state", {}).get(SEEN_KEY)
    return found if isinstance(found, Seen) else None


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    principal = connection.scope.get("state", {}).get(PRINCIPAL_KEY)
    return principal if isinstance(principal, Principal) else None


async def provide_principal(request: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    return principal_of(request)


async def provide_authenticator(state: State) -> Authenticator:
    """The process's key cache, for the services that must drop keys from it."""
    authenticator: Authenticator = state.authenticator
    return authenticator


async def require_member(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    if principal_of(connection) is None:
        raise Unauthorized("This needs an API key: `Authorization: Bearer <key>`")


async def require_secretariat(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    _require_kind(connection, "secretariat")


def _require_kind(connection: ASGIConnection[Any, Any, Any, Any], kind: str) -> None:
    principal = principal_of(connection)
    if principal is None:
        raise Unauthorized("This needs an API key: `Authorization: Bearer <key>`")
    if principal.kind != kind:
        raise Forbidden(f"Only a {kind} may do this; this key belongs to a {principal.kind}")
