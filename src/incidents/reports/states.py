"""A report's states: its statuses and sharing levels, which lifecycle step leads where and who
may take it, and the timestamps the steps set. Pure data and rules (the steps: lifecycle.py)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

import msgspec


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Sharing(StrEnum):
    """The Traffic Light Protocol levels, with the meaning product.md fixes."""

    CLEAR = "TLP:CLEAR"
    GREEN = "TLP:GREEN"
    AMBER = "TLP:AMBER"
    RED = "TLP:RED"


class Action(StrEnum):
    SUBMIT = "submit"
    WITHDRAW = "withdraw"
    START_REVIEW = "start_review"
    ACCEPT = "accept"
    REJECT = "reject"


class Transition(msgspec.Struct, frozen=True, kw_only=True):
    who: Literal["submitter", "secretariat"]
    sources: frozenset[Status]
    target: Status
    reason: Literal["kept", "cleared", "given"]
    """What the step does to the status reason: a rejection or withdrawal gives one."""


TRANSITIONS: dict[Action, Transition] = {
    Action.SUBMIT: Transition(
        who="submitter",
        sources=frozenset({Status.DRAFT, Status.REJECTED}),
        target=Status.SUBMITTED,
        reason="cleared",
    ),
    Action.WITHDRAW: Transition(
        who="submitter",
        sources=frozenset(set(Status) - {Status.WITHDRAWN}),
        target=Status.WITHDRAWN,
        reason="given",
    ),
    Action.START_REVIEW: Transition(
        who="secretariat",
        sources=frozenset({Status.SUBMITTED}),
        target=Status.UNDER_REVIEW,
        reason="kept",
    ),
    Action.ACCEPT: Transition(
        who="secretariat",
        sources=frozenset({Status.SUBMITTED, Status.UNDER_REVIEW}),
        target=Status.ACCEPTED,
        reason="cleared",
    ),
    Action.REJECT: Transition(
        who="secretariat",
        sources=frozenset({Status.SUBMITTED, Status.UNDER_REVIEW}),
        target=Status.REJECTED,
        reason="given",
    ),
}
CORRECTABLE = frozenset(set(Status) - {Status.WITHDRAWN})
"""A correction of an accepted report sends it back to submitted (see filing.update_report)."""
REVIEWED = frozenset({Status.ACCEPTED, Status.REJECTED})


def submitted_at(status: str, at: datetime) -> datetime | None:
    """The one rule for when a report counts as filed: any status but draft, from ``at``."""
    return None if status == Status.DRAFT else at


def reviewed_at(status: str, at: datetime) -> datetime | None:
    return at if status in REVIEWED else None
