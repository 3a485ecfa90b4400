"""Each live table against the state the audit log implies: a phase per table.

Reports are streamed through a server-side cursor, each with its events and revisions aggregated
by PostgreSQL, the next batch fetched while this one is compared, so memory stays bounded and
PostgreSQL and Python work at once. Deletions are found by anti-joins, in SQL; an incremental
run finds the rows written since its checkpoint by their transaction ids.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import Select, func, literal_column, or_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.audit.models import audit_events
from incidents.audit.service import (
    ChainProblem,
    event_problems,
    key_fingerprint,
    stream_records,
)
from incidents.incidents.models import incidents
from incidents.members.models import api_keys, organizations
from incidents.oversight.compare import Difference, LiveRevision, ReportCheck, compare_member
from incidents.oversight.replay import (
    CREATING_ACTIONS,
    ExpectedMember,
    MemberEvent,
    Merges,
    ReportEvent,
    replay_members,
    replay_report,
)
from incidents.oversight.statements import (
    CHANGED_REPORTS,
    CHANGED_REPORTS_SQL,
    DROP_CHANGED_REPORTS,
    REPORTS_SQL,
)
from incidents.taxonomy.models import taxonomy_versions
from incidents.taxonomy.schemas import TaxonomyDocument
from incidents.taxonomy.service import Taxonomy, TaxonomyRegistry
from incidents.taxonomy.service import content_hash as taxonomy_hash

Progress = Callable[[str, int, int], None]
"""(phase, done, total): called as each phase advances."""
MAX_DIFFERENCES = 1_000
_BATCH = 1_000
# Anti-joins fetch the first MAX_DIFFERENCES rows and count them all.
_TOTAL = "count(*) OVER () AS found_total"


class StoredCheckpoint(msgspec.Struct, kw_only=True):
    """A recorded clean run, as an incremental one starts from it."""

    id: int
    created_at: datetime
    mode: str
    seq: int
    hash: bytes
    snapshot_xmin: int


class Found:
    """Differences as they are found: the first MAX_DIFFERENCES kept, all counted."""

    def __init__(self) -> None:
        self.kept: list[Difference] = []
        self.count = 0

    def add(self, differences: list[Difference]) -> None:
        self.count += len(differences)
        self.kept.extend(differences[: MAX_DIFFERENCES - len(self.kept)])


_event_decoder = msgspec.json.Decoder(list[ReportEvent] | None)
_revision_decoder = msgspec.json.Decoder(list[LiveRevision] | None)


class TableCheck:
    """The live tables against the log, a phase per table, sharing one connection (in the
    verification's snapshot), the findings and the progress."""

    def __init__(
        self,
        connection: AsyncConnection,
        progress: Progress | None,
        base: StoredCheckpoint | None,
        xmax: int,
    ) -> None:
        self.connection = connection
        self.progress = progress
        self.base = base
        self.xmax = xmax
        self.found = Found()
        self.not_checked: Counter[str] = Counter()
        self.checked: Counter[str] = Counter()
        """Rows checked per table (and older events re-hashed)."""

    def step(self, phase: str) -> Callable[[int, int], None] | None:
        progress = self.progress
        if progress is None:
            return None
        return lambda done, total: progress(phase, done, total)

    def log_problem(self, entity_type: str, entity: str, seq: int, reason: str) -> None:
        self.found.add(
            [
                Difference(
                    entity_type=entity_type,
                    entity=entity,
                    attribute="log",
                    reason=f"event {seq}: {reason}",
                    seq=seq,
                )
            ]
        )

    async def taxonomy(self) -> TaxonomyRegistry:
        """Every released version's document must hash to what its event recorded."""
        events = await self.connection.execute(
            select(audit_events.c.seq, audit_events.c.after)
            .where(
                audit_events.c.entity_type == "taxonomy_version",
                audit_events.c.action == "taxonomy.version_loaded",
            )
            .order_by(audit_events.c.seq)
        )
        recorded = {
            int(row.after["version"]): (row.seq, row.after["content_hash"]) for row in events
        }
        registry = TaxonomyRegistry()
        rows = await self.connection.execute(select(taxonomy_versions))
        for row in rows:
            self.checked["taxonomy_versions"] += 1
            name = f"taxonomy version {row.version}"
            document = msgspec.convert(row.document, TaxonomyDocument, strict=False)
            registry.versions[row.version] = Taxonomy(document)
            seq, wanted = recorded.pop(row.version, (None, None))
            if seq is None:
                self._differ("taxonomy_version", name, "row", f"{name}: released by no audit event")
                continue
            if taxonomy_hash(document) != wanted or row.content_hash != wanted:
                self._differ(
                    "taxonomy_version",
                    name,
                    "document",
                    f"{name}: its document does not hash to what event {seq} recorded "
                    "(edited in the database)",
                    seq,
                )
        for version, (seq, _) in sorted(recorded.items()):
            name = f"taxonomy version {version}"
            self._differ(
                "taxonomy_version",
                name,
                "row",
                f"{name}: released by event {seq} but missing from taxonomy_versions",
                seq,
            )
        return registry

    def _differ(
        self, entity_type: str, entity: str, attribute: str, reason: str, seq: int | None = None
    ) -> None:
        self.found.add(
            [
                Difference(
                    entity_type=entity_type,
                    entity=entity,
                    attribute=attribute,
                    reason=reason,
                    seq=seq,
                )
            ]
        )

    async def members(self) -> dict[str, str | None]:
        """Organizations and keys against their replay; organization id -> jurisdiction."""
        event = audit_events.c
        events = await self.connection.execute(
            select(event.seq, event.entity_type, event.entity_id, event.action, event.after)
            .where(event.entity_type.in_(("organization", "api_key")))
            .order_by(event.seq)
        )
        replayed = replay_members(
            MemberEvent(row.seq, row.entity_type, row.entity_id, row.action, row.after)
            for row in events
        )
        expected = replayed.members
        for problem in replayed.problems:
            self.log_problem("member", "member", problem.seq, problem.reason)
        live: dict[str, dict[str, Any]] = {}
        for row in (await self.connection.execute(select(organizations))).mappings():
            self.checked["organizations"] += 1
            live[str(row["id"])] = {
                **row,
                "entity_type": "organization",
                "table": "organizations",
                "shown_as": f"organization {row['name']} ({row['id']})",
            }
        for row in (await self.connection.execute(select(api_keys))).mappings():
            self.checked["api_keys"] += 1
            live[str(row["id"])] = {
                **row,
                "entity_type": "api_key",
                "table": "api_keys",
                "shown_as": f"key {row['prefix']}",
                "key_hash_sha256": key_fingerprint(bytes(row["key_hash"])),
            }
        for entity_id in sorted(set(expected) | set(live)):
            self.found.add(
                compare_member(expected.get(entity_id), live.get(entity_id), self.not_checked)
            )
        return {
            entity_id: _jurisdiction(member, live.get(entity_id))
            for entity_id, member in expected.items()
            if member.entity_type == "organization"
        }

    async def merges(self) -> Merges:
        event = audit_events.c
        merges = Merges()
        rows = await self.connection.execute(
            select(event.seq, event.before, event.after)
            .where(event.entity_type == "incident", event.action == "incident.merged")
            .order_by(event.seq)
        )
        for row in rows:
            merges.add(row.seq, row.before["ref"], row.after["merged_into"])
        return merges

    async def reports(self, check: ReportCheck) -> None:
        """Every report (or every changed one) replayed from its events, against its rows."""
        if self.base is not None:
            await self.connection.execute(DROP_CHANGED_REPORTS)
            await self.connection.execute(
                CHANGED_REPORTS,
                {
                    "since_seq": self.base.seq,
                    "since_xmin": self.base.snapshot_xmin,
                    "xmax": self.xmax,
                },
            )
            query, total_query = CHANGED_REPORTS_SQL, "SELECT count(*) FROM verify_changed_reports"
        else:
            query, total_query = REPORTS_SQL, "SELECT count(*) FROM reports"
        total = int((await self.connection.execute(text(total_query))).scalar_one())
        step = self.step("reports")
        async for batch in stream_records(self.connection, query, batch=_BATCH):
            for row in batch:
                events = _event_decoder.decode(row["events"]) if row["events"] else None
                revisions = _revision_decoder.decode(row["revisions"]) if row["revisions"] else None
                expected = replay_report(str(row["id"]), events or [])
                self.found.add(check.compare(expected, row, revisions or []))
            self.checked["reports"] += len(batch)
            if step is not None:
                step(self.checked["reports"], total)

    def _counted(self, result: Any) -> list[Any]:
        """The rows of an anti-join limited to MAX_DIFFERENCES, all of them counted."""
        rows = result.all()
        if rows:
            self.found.count += rows[0].found_total - len(rows)
        return list(rows)

    async def missing_reports(self) -> None:
        """Reports the log created that are gone from the table; revisions without a report."""
        creating = ", ".join(f"'{action}'" for action in CREATING_ACTIONS)
        gone = await self.connection.execute(
            text(
                f"""
                SELECT e.seq, e.entity_id, e.after ->> 'ref' AS ref, {_TOTAL}
                  FROM audit_events e
                 WHERE e.entity_type = 'report' AND e.action IN ({creating})
                   AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.id::text = e.entity_id)
                 ORDER BY e.seq LIMIT {MAX_DIFFERENCES}
                """
            )
        )
        for row in self._counted(gone):
            name = row.ref or f"report {row.entity_id}"
            self._differ(
                "report",
                name,
                "row",
                f"{name}: created by event {row.seq} but missing from the reports table",
                row.seq,
            )
        orphans = await self.connection.execute(
            text(
                f"""
                SELECT v.report_id, v.revision, {_TOTAL} FROM report_revisions v
                 WHERE NOT EXISTS (SELECT 1 FROM reports r WHERE r.id = v.report_id)
                 ORDER BY v.report_id, v.revision LIMIT {MAX_DIFFERENCES}
                """
            )
        )
        for row in self._counted(orphans):
            name = f"report {row.report_id}"
            self._differ(
                "report",
                name,
                f"revision {row.revision}",
                f"{name}: revision {row.revision} in report_revisions belongs to no report",
            )

    async def incidents(self, merges: Merges) -> None:
        """Every incident must be one the log opened; every merge as the log recorded it."""
        self.checked["incidents"] = int(
            (
                await self.connection.execute(select(func.count()).select_from(incidents))
            ).scalar_one()
        )
        naming = ", ".join(f"'{action}'" for action in (*CREATING_ACTIONS, "report.moved"))
        unknown = await self.connection.execute(
            text(
                f"""
                SELECT i.ref, {_TOTAL} FROM incidents i
                 WHERE NOT EXISTS (
                    SELECT 1 FROM audit_events e
                     WHERE e.entity_type = 'report' AND e.action IN ({naming})
                       AND e.after ->> 'incident' = i.ref)
                 ORDER BY i.ref LIMIT {MAX_DIFFERENCES}
                """
            )
        )
        for row in self._counted(unknown):
            self._differ(
                "incident",
                row.ref,
                "row",
                f"{row.ref}: in the incidents table but opened by no audit event",
            )
        merged = {
            row.ref: row.into
            for row in await self.connection.execute(
                text(
                    "SELECT i.ref, s.ref AS into FROM incidents i "
                    "LEFT JOIN incidents s ON s.id = i.merged_into "
                    "WHERE i.merged_into IS NOT NULL OR i.ref = ANY(:merged)"
                ),
                {"merged": list(merges.into)},
            )
        }
        for ref in sorted(set(merges.into) | set(merged)):
            seq = merges.into[ref][0] if ref in merges.into else None
            wanted = merges.follow(ref) if ref in merges.into else None
            if ref not in merged:
                self._differ(
                    "incident",
                    ref,
                    "row",
                    f"{ref}: merged by event {seq} but missing from the incidents table",
                    seq,
                )
            elif merged[ref] != wanted:
                table_says = f"merged into {merged[ref]}" if merged[ref] else "not merged"
                log_says = f"merged into {wanted}" if wanted else "never merged"
                self.found.add(
                    [
                        Difference(
                            entity_type="incident",
                            entity=ref,
                            attribute="merged_into",
                            reason=f"{ref}: {table_says} in the incidents table; the audit log "
                            f"says {log_says}",
                            expected=wanted,
                            found=merged[ref],
                            seq=seq,
                        )
                    ]
                )

    async def rehash_older_events(self, head_seq: int) -> list[ChainProblem]:
        """An incremental run re-hashes the older events its re-checked rows were compared
        with (and those of incidents, members and taxonomy): each must match its own hash and
        the next event's link, so editing one would mean rewriting the chain up to its head."""
        if self.base is None:
            return []  # a full run has re-hashed every event already
        event = audit_events
        following = audit_events.alias("next_event")
        changed: Select[Any] = select(literal_column("id::text")).select_from(
            text("verify_changed_reports")
        )
        rows = await self.connection.execute(
            select(event, following.c.prev_hash.label("next_prev_hash"))
            .outerjoin(following, following.c.seq == event.c.seq + 1)
            .where(
                event.c.seq <= self.base.seq,
                or_(event.c.entity_type != "report", event.c.entity_id.in_(changed)),
            )
            .order_by(event.c.seq)
        )
        problems = []
        for row in rows:
            self.checked["events"] += 1
            reasons = event_problems(row._mapping)
            if row.next_prev_hash is None:
                if row.seq < head_seq:
                    reasons.append(f"event {row.seq + 1} is missing: deleted from the log")
            elif bytes(row.next_prev_hash) != bytes(row.hash):
                reasons.append("the next event does not link to it")
            for reason in reasons:
                problems.append(ChainProblem(seq=row.seq, reason=reason))
        return problems


def _jurisdiction(member: ExpectedMember, live: dict[str, Any] | None) -> str | None:
    if "jurisdiction" in member.values:
        found: str | None = member.values["jurisdiction"]
        return found
    return live.get("jurisdiction") if live else None
