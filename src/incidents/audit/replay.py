"""Replaying the audit log into the state it implies, and naming where the live tables differ.

Pure: events and rows in, expectations and differences out (audit/verify.py reads the database).
Each report is replayed from its own events plus the incident merges. An attribute that the
events of its time did not record is never guessed: it is counted as not checked, and said so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec

from incidents.reports.content import derive
from incidents.reports.integrity import content_digest
from incidents.reports.schemas import ReportContent
from incidents.taxonomy.service import TaxonomyRegistry

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


class Difference(msgspec.Struct, kw_only=True):
    """One way the live tables differ from what the audit log says they must hold."""

    entity_type: str
    entity: str
    """What a person recognises it by: a reference, a key prefix, an organization's name."""
    attribute: str
    reason: str
    expected: Any = None
    """Shown for metadata (status, sharing, incident...); never for a report's content."""
    found: Any = None
    seq: int | None = None
    """The audit event that recorded the expected value, when one did."""


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


class LiveRevision(msgspec.Struct, array_like=True):
    """A report_revisions row as the verification query returns it."""

    number: int
    sharing: str
    taxonomy_version: int
    draft_only: bool
    salt: str | None
    content: Any


class ReportCheck:
    """Compares replayed reports with their rows; counts what it could not check."""

    def __init__(
        self,
        merges: Merges,
        jurisdiction_of: Callable[[str], str | None],
        taxonomy: TaxonomyRegistry,
    ) -> None:
        self.merges = merges
        self.jurisdiction_of = jurisdiction_of
        self.taxonomy = taxonomy
        self.not_checked: Counter[str] = Counter()
        self.revisions_checked = 0

    def compare(
        self, expected: ExpectedReport, live: Any, revisions: Sequence[LiveRevision]
    ) -> list[Difference]:
        """``live``: the reports row by column name (with ``incident_ref``); ``revisions`` in
        order."""
        found: list[Difference] = []
        name = live["ref"]

        def differ(
            attribute: str, expected_value: Any, found_value: Any, seq: int | None, what: str
        ) -> None:
            found.append(
                Difference(
                    entity_type="report",
                    entity=name,
                    attribute=attribute,
                    reason=f"{name}: {what}",
                    expected=expected_value,
                    found=found_value,
                    seq=seq,
                )
            )

        for problem in expected.problems:
            differ("log", None, None, problem.seq, f"event {problem.seq} {problem.reason}")
        if expected.created_seq is None:
            differ("row", None, None, None, "in the reports table but created by no audit event")
            return found
        for attribute, column in (
            ("ref", "ref"),
            ("organization", "organization_id"),
            ("status", "status"),
            ("status_reason", "status_reason"),
            ("sharing", "sharing"),
            ("taxonomy_version", "taxonomy_version"),
            ("external_ref", "external_ref"),
        ):
            if attribute in expected.unknown:
                self.not_checked[attribute] += 1
                continue
            wanted = getattr(expected, attribute)
            actual = live[column]
            if attribute == "organization":
                actual = str(actual)
            if wanted != actual:
                differ(
                    attribute,
                    wanted,
                    actual,
                    expected.last_seq,
                    f"{attribute} is {actual!r} in the reports table; the audit log says "
                    f"{wanted!r}",
                )
        if expected.incident is not None:
            incident = self.merges.follow(expected.incident, expected.incident_seq)
            if incident != live["incident_ref"]:
                differ(
                    "incident",
                    incident,
                    live["incident_ref"],
                    expected.incident_seq,
                    f"belongs to {live['incident_ref']} in the reports table; the audit log puts "
                    f"it in {incident}",
                )
        if live["revision"] != len(expected.revisions):
            differ(
                "revision",
                len(expected.revisions),
                live["revision"],
                expected.revisions[-1].seq,
                f"is at revision {live['revision']} in the reports table; the audit log records "
                f"{len(expected.revisions)}",
            )
        current = self._revisions(expected, revisions, differ)
        if current is not None:
            self._derived(expected, live, current, differ)
        return found

    def _revisions(
        self,
        expected: ExpectedReport,
        revisions: Sequence[LiveRevision],
        differ: Callable[[str, Any, Any, int | None, str], None],
    ) -> Any:
        """Check every revision row; the content of the current one, if it can be trusted."""
        stored = {revision.number: revision for revision in revisions}
        for number in sorted(set(stored) - {r.number for r in expected.revisions}):
            differ(
                f"revision {number}",
                None,
                None,
                None,
                f"revision {number} in report_revisions was recorded by no audit event",
            )
        current = None
        for wanted in expected.revisions:
            self.revisions_checked += 1
            row = stored.get(wanted.number)
            label = f"revision {wanted.number}"
            if row is None:
                differ(
                    label,
                    None,
                    None,
                    wanted.seq,
                    f"{label} (recorded by event {wanted.seq}) is missing from report_revisions",
                )
                continue
            trusted = True
            if wanted.digest is None:
                self.not_checked["revision content"] += 1
            elif content_digest(row.content, _salt(row.salt)) != wanted.digest:
                trusted = False
                differ(
                    label,
                    None,
                    None,
                    wanted.seq,
                    f"{label}'s content differs from what event {wanted.seq} recorded "
                    "(edited in the database)",
                )
            for attribute, wanted_value, actual in (
                ("sharing", wanted.sharing, row.sharing),
                ("taxonomy_version", wanted.taxonomy_version, row.taxonomy_version),
                ("draft_only", wanted.draft_only, row.draft_only),
            ):
                if wanted_value is None:
                    self.not_checked[f"revision {attribute}"] += 1
                elif wanted_value != actual:
                    differ(
                        f"{label} {attribute}",
                        wanted_value,
                        actual,
                        wanted.seq,
                        f"{label}'s {attribute} is {actual!r} in report_revisions; the audit log "
                        f"says {wanted_value!r}",
                    )
            if wanted is expected.revisions[-1] and trusted:
                current = row
        return current

    def _derived(
        self,
        expected: ExpectedReport,
        live: Any,
        current: LiveRevision,
        differ: Callable[[str, Any, Any, int | None, str], None],
    ) -> None:
        """The reports columns that follow from the current revision's content."""
        version = self.taxonomy.versions.get(current.taxonomy_version)
        organization = expected.organization or str(live["organization_id"])
        try:
            content = msgspec.convert(current.content, ReportContent, strict=False)
            if version is None:
                raise ValueError(f"taxonomy version {current.taxonomy_version} is not loaded")
            derived = derive(content, version, self.jurisdiction_of(organization))
        except (msgspec.ValidationError, ValueError, KeyError) as error:
            differ(
                "content",
                None,
                None,
                current_seq(expected),
                f"the current revision's content cannot be read: {error}",
            )
            return
        for column, wanted in msgspec.structs.asdict(derived).items():
            actual = live[column]
            if actual == wanted:
                continue
            shown = column in DERIVED_WITHOUT_CONTENT_VALUES
            differ(
                column,
                wanted if shown else None,
                actual if shown else None,
                current_seq(expected),
                f"{column} in the reports table differs from the content of revision "
                f"{len(expected.revisions)}",
            )


def current_seq(expected: ExpectedReport) -> int | None:
    return expected.revisions[-1].seq if expected.revisions else None


def _salt(text: str | None) -> bytes | None:
    return bytes.fromhex(text) if text else None


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


def compare_member(
    expected: ExpectedMember | None, live: Mapping[str, Any] | None, not_checked: Counter[str]
) -> list[Difference]:
    """An organization or key row against its replay (either may be missing)."""
    if expected is None:
        assert live is not None
        return [
            Difference(
                entity_type=live["entity_type"],
                entity=live["shown_as"],
                attribute="row",
                reason=f"{live['shown_as']}: in the {live['table']} table but created by no audit "
                "event",
            )
        ]
    if live is None:
        entity = expected.values.get("name") or expected.values.get("prefix") or expected.entity_id
        return [
            Difference(
                entity_type=expected.entity_type,
                entity=str(entity),
                attribute="row",
                reason=f"{entity}: created by event {expected.seq} but missing from its table",
                seq=expected.seq,
            )
        ]
    found = []
    for name, wanted in expected.values.items():
        actual = live.get(name)
        if name == "revoked_at" and wanted is not None:
            wanted = msgspec.convert(wanted, datetime, strict=False)
        if name in ("organization_id",) and actual is not None:
            actual = str(actual)
        if actual != wanted:
            shown = name != "key_hash_sha256"
            found.append(
                Difference(
                    entity_type=expected.entity_type,
                    entity=live["shown_as"],
                    attribute=name,
                    reason=f"{live['shown_as']}: {name} "
                    + (
                        f"is {actual!r} in the {live['table']} table; the audit log says {wanted!r}"
                        if shown
                        else f"in the {live['table']} table is not the one the audit log recorded"
                    ),
                    expected=_plain(wanted) if shown else None,
                    found=_plain(actual) if shown else None,
                    seq=expected.seq,
                )
            )
    for name in expected.unknown:
        not_checked[f"{expected.entity_type} {name}"] += 1
    return found


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
