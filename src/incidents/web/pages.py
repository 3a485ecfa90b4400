"""The extension point of the web interface: a page group brings its route handlers and its
navigation items, each item shown to the audiences it names.

    PUBLIC = PageGroup(
        name="public",
        handlers=[home, search],
        navigation=[NavItem(N_("Search"), "/search", audiences=EVERYONE)],
    )

``incidents.web.router.pages_router(settings, groups)`` mounts every group at ``/`` behind the
pages' session, CSRF and HTML error handling; `require` guards a handler (or a whole group's
handlers) by audience.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

import msgspec
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ControllerRouterHandler, Guard

from incidents.errors import Forbidden
from incidents.members.guards import principal_of
from incidents.members.schemas import Principal

Audience = Literal["public", "signed_out", "member", "regulator", "research", "secretariat"]
"""``public``: everyone, signed in or not; ``signed_out``: only those not signed in;
``member``: any signed-in organization; the others: signed in as that kind of organization."""

EVERYONE: frozenset[Audience] = frozenset({"public"})
SIGNED_OUT: frozenset[Audience] = frozenset({"signed_out"})
MEMBERS: frozenset[Audience] = frozenset({"member"})


class NavItem(msgspec.Struct, frozen=True):
    label: str
    """The English text, marked with `N_`; translated when the page is rendered."""
    href: str
    audiences: frozenset[Audience] = EVERYONE


class PageGroup(msgspec.Struct, frozen=True):
    name: str
    handlers: Sequence[ControllerRouterHandler]
    navigation: Sequence[NavItem] = ()


def audiences_of(principal: Principal | None) -> frozenset[Audience]:
    if principal is None:
        return frozenset({"public", "signed_out"})
    kinds: dict[str, Audience] = {
        "regulator": "regulator",
        "research": "research",
        "secretariat": "secretariat",
    }
    found: set[Audience] = {"public", "member"}
    if principal.kind in kinds:
        found.add(kinds[principal.kind])
    return frozenset(found)


def navigation_for(groups: Iterable[PageGroup], principal: Principal | None) -> list[NavItem]:
    audiences = audiences_of(principal)
    return [item for group in groups for item in group.navigation if item.audiences & audiences]


class SignInRequired(Exception):
    """A page for members, asked for without a session: the pages answer with the sign-in form
    (a redirect that brings the person back afterwards)."""


def require(*audiences: Audience) -> Guard:
    """A guard letting through the given audiences: not signed in -> the sign-in page; signed
    in as another kind -> 403 page."""
    wanted = frozenset(audiences)

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = principal_of(connection)
        if wanted & audiences_of(principal):
            return
        if principal is None:
            raise SignInRequired
        raise Forbidden("This page is not for your organization's role")

    return guard


GROUPS_STATE_KEY = "web_page_groups"


def layout_context(connection: ASGIConnection[Any, Any, Any, Any]) -> dict[str, Any]:
    """What the base layout shows whoever asks: who is signed in and their navigation."""
    principal = principal_of(connection)
    groups: Sequence[PageGroup] = connection.app.state.get(GROUPS_STATE_KEY, ())
    return {
        "principal": principal,
        "navigation": navigation_for(groups, principal),
        "current_path": connection.url.path,
    }
