"""What binds a report revision to its audit event: a SHA-256 of its content, salted for drafts.

`audit verify` (oversight/verify.py) recomputes it from the stored revision and compares it with the
hash the event recorded, so content edited by hand in report_revisions is found and located.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from typing import Any

import msgspec

from incidents.audit.service import EventDraft

_canonical = msgspec.json.Encoder(order="sorted")
SALT_BYTES = 16


def content_digest(content: Any, salt: bytes | None = None) -> str:
    """SHA-256 of a revision's content in canonical JSON (sorted keys), after its salt if any.

    A draft's revision is salted: its event then proves the content without letting whoever
    reads the log confirm a guess of it (say, the submitted version with one figure changed).
    """
    digest = hashlib.sha256(salt or b"")
    digest.update(_canonical.encode(content))
    return digest.hexdigest()


def new_salt() -> bytes:
    return secrets.token_bytes(SALT_BYTES)


def salt_for(status: str) -> bytes | None:
    """The salt a revision gets when its report will be in ``status`` after it is written."""
    return new_salt() if status == "draft" else None


# What an audit event about a draft may say: that it changed and where it stands, not what it
# says. Everything else in a report event's before/after is the draft's content.
DRAFT_EVENT_KEYS = frozenset(
    {
        "ref",
        "incident",
        "organization",
        "status",
        "status_reason",
        "reason",
        "sharing",
        "taxonomy_version",
        "external_ref",
        "revision",
        "source",
        "fields",
    }
)


def without_draft_content(
    before: dict[str, Any] | None, after: dict[str, Any] | None, *, keep_digest: bool
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """A draft's event with its content left out; ``fields`` names what a correction changed.

    Written events keep the (salted) content hash that binds the revision to the chain; events
    shown to anyone drop it, since older events hashed drafts unsalted.
    """
    kept = DRAFT_EVENT_KEYS | {"content_sha256"} if keep_digest else DRAFT_EVENT_KEYS
    # A correction's before/after hold what it changed; a creation's after holds the title.
    changed = (
        sorted({*before, *(after or {})} - DRAFT_EVENT_KEYS - {"content_sha256"})
        if before is not None
        else []
    )
    shown_before = None if before is None else {k: v for k, v in before.items() if k in kept}
    shown_after = None if after is None else {k: v for k, v in after.items() if k in kept}
    if changed and shown_after is not None and "fields" not in shown_after:
        shown_after["fields"] = changed
    return shown_before, shown_after


def report_event(
    action: str,
    report_id: uuid.UUID,
    before: dict[str, Any] | None,
    after: dict[str, Any],
    *,
    draft: bool,
) -> EventDraft:
    """A report's audit event; about a draft, it records that it changed, not what it says."""
    if draft:
        return EventDraft(
            action,
            "report",
            str(report_id),
            *without_draft_content(before, after, keep_digest=True),
        )
    return EventDraft(action, "report", str(report_id), before, after)
