"""Who may see which report: the sharing levels and roles of product.md, as SQL conditions.

Every read (lists, counts, facets, search, exports, duplicate suggestions, revisions, incidents,
trends) puts ``visible(principal)`` in its WHERE clause; nothing is filtered after the fact.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, FromClause, and_, any_, literal_column, or_, true

from incidents.members.schemas import Principal
from incidents.reports.models import reports

# Who may file (and so own) reports; research organizations and the public own none.
FILERS = ("regulator", "source")

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


def visible(principal: Principal | None, table: FromClause = reports) -> ColumnElement[bool]:
    """The condition a report row must meet to be seen by ``principal`` (None: the public)."""
    if principal is None:
        return visible_to(None, None, table)
    return visible_to(principal.kind, principal.organization_id, table)


def visible_to(
    kind: str | None, organization: Any, table: FromClause = reports
) -> ColumnElement[bool]:
    """`visible` for a kind of viewer and its organization (an id, or a bound parameter for a
    statement built once and run for many viewers of that kind)."""
    columns = table.c
    if kind is None:
        return and_(columns.status == "accepted", columns.sharing == "TLP:CLEAR")
    own = columns.organization_id == organization
    if kind == "secretariat":
        # A draft withdrawn before it was ever submitted stays its submitter's working copy.
        never_filed = and_(columns.status == "withdrawn", columns.submitted_at.is_(None))
        return or_(own, and_(columns.status != "draft", ~never_filed))
    shared = and_(
        _one_of(columns.status, SHARED_STATUSES),
        _one_of(columns.sharing, SHARING_SEEN_BY[kind]),
    )
    # Without the impossible "own" branch, a researcher's condition is exactly the predicate of
    # the partial index ix_reports_shared_with_members: newest-first pages read only rows the
    # researcher may see, however many newer AMBER or unfinished reports there are.
    return or_(own, shared) if kind in FILERS else shared


def _one_of(column: ColumnElement[str], values: tuple[str, ...]) -> ColumnElement[bool]:
    """`column = ANY ('{...}'::text[])`, the constant written into the SQL: the planner can then
    match partial indexes (it cannot with bound parameters), and there is no per-execution
    expansion of an IN list's parameters on this condition that every read carries."""
    if not all(_CODE.fullmatch(value) for value in values):
        raise ValueError(f"not a code: {values}")
    array = "'{" + ",".join(values) + "}'::text[]"
    return column == any_(literal_column(array))


_CODE = re.compile(r"[A-Za-z_:]+")


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
