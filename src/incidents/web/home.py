"""The home page."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template

from incidents.web.i18n import N_
from incidents.web.pages import EVERYONE, NavItem, PageGroup
from incidents.web.templating import page


@get("/", name="web-home", include_in_schema=False)
async def home(request: Request[Any, Any, Any]) -> Template:
    return page(request, "home.html")


HOME = PageGroup(
    name="home",
    handlers=[home],
    navigation=[NavItem(N_("Home"), "/", audiences=EVERYONE)],
)
