"""Replaying the audit log into the state it implies (oversight/compare.py names where the live
tables differ).

Pure: events and rows in, expectations and differences out (oversight/verify.py reads the database).
Each report is replayed from its own events plus the incident merges. An attribute that the
events of its time did not record is never guessed: it is counted as not checked, and said so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec

CREATING_ACTIONS = ("report.created", "report.imported")
# Lifecycle steps and what each does to the status reason (None: leaves it as it was).
TRANSITIONS = {
    "report.submit": "clear",
    "report.accept": "clear",
    "report.reject": "reason",
    "report.withdraw": "reason",
    "report.start_review": None,
}
# What a creating event records since integrity checks replay the log; older events lack them.
RECORDED_SINCE_REPLAY = ("organization", "external_ref", "status_reason")
# The reports columns derived from a revision's content (reports.content.derive).
DERIVED_WITHOUT_CONTENT_VALUES = ("reporting_jurisdiction",)


class ReportEvent(msgspec.Struct, array_like=True, frozen=True):
    """One event of a report, as the verification query aggregates them (a JSON array each)."""

    seq: int
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class MemberEvent(msgspec.Struct, array_like=True, frozen=True):
    """One event of an organization or an API key."""

    seq: int
    entity_type: str
    entity_id: str
    action: str
    after: dict[str, Any] | None


class LogProblem(msgspec.Struct, array_like=True, frozen=True):
    """The log contradicting itself at one event."""

    seq: int
    reason: str


@dataclass(slots=True)
class ExpectedRevision:
    number: int
    seq: int
    digest: str | None
    sharing: str | None
    taxonomy_version: int | None
    draft_only: bool | None = False
    """Replaced while the report was a draft (None: the status at the time is not known)."""


@dataclass(slots=True)
class ExpectedReport:
    entity_id: str
    ref: str | None = None
    created_seq: int | None = None
    last_seq: int = 0
    organization: str | None = None
    status: str | None = None
    status_reason: str | None = None
    sharing: str | None = None
    taxonomy_version: int | None = None
    incident: str | None = None
    incident_seq: int = 0
    external_ref: str | None = None
    revisions: list[ExpectedRevision] = field(default_factory=list)
    unknown: set[str] = field(default_factory=set)
    """Attributes the events did not record (older event formats, re-imports before replay)."""
    problems: list[LogProblem] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.ref or f"report {self.entity_id}"


def replay_report(entity_id: str, events: Iterable[ReportEvent]) -> ExpectedReport:
    """The state a report's events (in seq order) leave it in."""
    report = ExpectedReport(entity_id)
    for event in events:
        seq, action, before, after = event.seq, event.action, event.before, event.after or {}
        report.last_seq = seq
        if action in CREATING_ACTIONS:
            _created(report, seq, after)
        elif report.created_seq is None:
            report.problems.append(
                LogProblem(seq, f"{action} is recorded before the report was created")
            )
        elif action == "report.updated":
            _updated(report, seq, before or {}, after)
        elif action in TRANSITIONS:
            report.status = after.get("status")
            report.unknown.discard("status")
            effect = TRANSITIONS[action]
            if effect is not None:
                report.status_reason = after.get("reason") if effect == "reason" else None
                report.unknown.discard("status_reason")
            if "incident" in after:
                # An accepted proposal links the report to the incident its submitter named.
                report.incident, report.incident_seq = after["incident"], seq
        elif action == "report.moved":
            report.incident, report.incident_seq = after.get("incident"), seq
        else:
            report.problems.append(LogProblem(seq, f"{action} is not an action the replay knows"))
    return report


def _created(report: ExpectedReport, seq: int, after: dict[str, Any]) -> None:
    if report.created_seq is not None:
        report.problems.append(
            LogProblem(seq, f"created again (first created by event {report.created_seq})")
        )
        return
    report.created_seq = seq
    report.ref = after.get("ref")
    report.status = after.get("status")
    report.sharing = after.get("sharing")
    report.taxonomy_version = after.get("taxonomy_version")
    report.incident, report.incident_seq = after.get("incident"), seq
    for name in RECORDED_SINCE_REPLAY:
        if name in after:
            setattr(report, name, after[name])
        else:
            report.unknown.add(name)
    report.revisions.append(
        ExpectedRevision(
            1, seq, after.get("content_sha256"), report.sharing, report.taxonomy_version
        )
    )


def _updated(
    report: ExpectedReport, seq: int, before: dict[str, Any], after: dict[str, Any]
) -> None:
    number = after.get("revision")
    if number != len(report.revisions) + 1 or before.get("revision") != len(report.revisions):
        report.problems.append(
            LogProblem(
                seq,
                f"records revision {before.get('revision')} -> {number}, but the events before "
                f"it leave the report at revision {len(report.revisions)}",
            )
        )
    if report.revisions:
        report.revisions[-1].draft_only = (
            None if "status" in report.unknown else report.status == "draft"
        )
    # An API correction records the metadata it changed; a re-import written before the replay
    # existed recorded none of it, so after one the metadata is unknown until set again.
    re_import = after.get("source") == "re-import"
    for name in ("sharing", "status", "taxonomy_version"):
        if name in after:
            setattr(report, name, after[name])
            report.unknown.discard(name)
        elif re_import:
            report.unknown.add(name)
    report.revisions.append(
        ExpectedRevision(
            len(report.revisions) + 1,
            seq,
            after.get("content_sha256"),
            None if "sharing" in report.unknown else report.sharing,
            None if "taxonomy_version" in report.unknown else report.taxonomy_version,
        )
    )


class Merges:
    """Every incident merge: a merged reference, when, and into which incident."""

    def __init__(self) -> None:
        self.into: dict[str, tuple[int, str]] = {}

    def add(self, seq: int, merged: str, survivor: str) -> None:
        self.into[merged] = (seq, survivor)

    def follow(self, ref: str, since: int = 0) -> str:
        """Where a report placed in ``ref`` by event ``since`` is now, after later merges."""
        seen = set()
        while ref in self.into and self.into[ref][0] > since and ref not in seen:
            seen.add(ref)
            since, ref = self.into[ref]
        return ref


# -- reports against their live rows ---------------------------------------------------------


# -- organizations and keys ------------------------------------------------------------------


@dataclass(slots=True)
class ExpectedMember:
    """An organization or an API key as its events leave it (attribute -> value)."""

    entity_type: str
    entity_id: str
    seq: int
    values: dict[str, Any] = field(default_factory=dict)
    unknown: set[str] = field(default_factory=set)


ORGANIZATION_ATTRIBUTES = ("name", "kind", "jurisdiction", "active")
KEY_ATTRIBUTES = ("organization_id", "prefix", "label", "revoked_at", "key_hash_sha256")


class ExpectedMembers(msgspec.Struct, kw_only=True):
    """Organizations and keys as the log leaves them (by id), and where the log contradicts
    itself."""

    members: dict[str, ExpectedMember]
    problems: list[LogProblem]


def replay_members(events: Iterable[MemberEvent]) -> ExpectedMembers:
    """Organizations and keys from their events, in seq order."""
    members: dict[str, ExpectedMember] = {}
    problems: list[LogProblem] = []
    for event in events:
        seq, entity_type, entity_id, action = (
            event.seq,
            event.entity_type,
            event.entity_id,
            event.action,
        )
        after = event.after or {}
        member = members.get(entity_id)
        if action in ("organization.created", "api_key.issued"):
            member = members[entity_id] = ExpectedMember(entity_type, entity_id, seq)
            names = ORGANIZATION_ATTRIBUTES if entity_type == "organization" else KEY_ATTRIBUTES
            for name in names:
                if name in after:
                    member.values[name] = after[name]
                elif name == "revoked_at":
                    member.values[name] = None
                else:
                    member.unknown.add(name)
        elif member is None:
            problems.append(
                LogProblem(seq, f"{action} of {entity_type} {entity_id}, which was never created")
            )
        elif action in ("organization.updated", "api_key.revoked"):
            member.seq = seq
            member.values.update(after)
        else:
            problems.append(LogProblem(seq, f"{action} is not an action the replay knows"))
    return ExpectedMembers(members=members, problems=problems)
