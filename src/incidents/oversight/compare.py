"""Where the live tables differ from what the replayed log implies: a report's row and revisions,
a member's key, each difference named.

Pure, like the replay (oversight/replay.py): expectations and live rows in, differences out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import msgspec

from incidents.oversight.replay import (
    DERIVED_WITHOUT_CONTENT_VALUES,
    ExpectedMember,
    ExpectedReport,
    Merges,
)
from incidents.reports.content import derive
from incidents.reports.integrity import content_digest
from incidents.reports.schemas import ReportContent
from incidents.taxonomy.service import TaxonomyRegistry


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
