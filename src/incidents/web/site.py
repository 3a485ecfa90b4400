"""Which page groups make up the web interface, in the order their navigation is shown.
A new group of pages is one module with a `PageGroup` and one line here."""

from __future__ import annotations

from incidents.web.account import ACCOUNT
from incidents.web.editorial import EDITORIAL
from incidents.web.language_switch import LANGUAGE
from incidents.web.members_pages import MEMBERS
from incidents.web.oversight import OVERSIGHT
from incidents.web.pages import PageGroup
from incidents.web.public import PUBLIC
from incidents.web.regulator import REGULATOR
from incidents.web.research import RESEARCH
from incidents.web.review import REVIEW
from incidents.web.upload import UPLOAD


def page_groups() -> tuple[PageGroup, ...]:
    return (
        PUBLIC,
        RESEARCH,
        REGULATOR,
        UPLOAD,
        REVIEW,
        MEMBERS,
        OVERSIGHT,
        EDITORIAL,
        ACCOUNT,
        LANGUAGE,
    )
