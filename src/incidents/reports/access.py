"""Who may see which report: the sharing levels and roles of product.md, as SQL conditions.

Every read (lists, counts, facets, search, exports, duplicate suggestions, revisions, incidents,
trends) puts ``visible(principal)`` in its WHERE clause; nothing is filtered after the fact.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Table, and_, or_, true

from incidents.members.schemas import Principal
from incidents.reports.models import reports

# Others see a report once it is filed and until it is rejected or withdrawn; drafts are the
# submitter's own working copies, even for the secretariat.
SHARED_STATUSES = ("submitted", "under_review", "accepted")

# TLP:CLEAR public; GREEN every member; AMBER regulators and the secretariat; RED the submitter
# and the secretariat only.
SHARING_SEEN_BY = {
    "regulator": ("TLP:CLEAR", "TLP:GREEN", "TLP:AMBER"),
    "research": ("TLP:CLEAR", "TLP:GREEN"),
    "source": ("TLP:CLEAR", "TLP:GREEN"),
}


def visible(principal: Principal | None, table: Table = reports) -> ColumnElement[bool]:
    """The condition a report row must meet to be seen by ``principal`` (None: the public)."""
    columns = table.c
    if principal is None:
        return and_(columns.status == "accepted", columns.sharing == "TLP:CLEAR")
    own = columns.organization_id == principal.organization_id
    if principal.kind == "secretariat":
        return or_(own, columns.status != "draft")
    return or_(
        own,
        and_(
            columns.status.in_(SHARED_STATUSES),
            columns.sharing.in_(SHARING_SEEN_BY[principal.kind]),
        ),
    )


def sharing_visible(principal: Principal | None, sharing: str, own: bool) -> bool:
    """Whether a past revision's sharing level lets ``principal`` read that revision's content."""
    if principal is None:
        return sharing == "TLP:CLEAR"
    if own or principal.kind == "secretariat":
        return True
    return sharing in SHARING_SEEN_BY[principal.kind]


def everything() -> ColumnElement[bool]:
    """For the secretariat's exact aggregates and for jobs; never for records shown to others."""
    return true()
