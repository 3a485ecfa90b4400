"""NDJSON in the API's own format: another instance's download, read line by line."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from incidents.importers.records import Problem, Summary
from incidents.reports.schemas import ReportContent


class ExportedReport(ReportContent, kw_only=True):
    """A line of this API's NDJSON download (or a ReportCreate): content plus what travels."""

    sharing: str = "TLP:AMBER"
    status: str = "submitted"
    external_ref: str | None = None
    id: uuid.UUID | None = None
    incident: dict[str, Any] | str | None = None
    organization: dict[str, Any] | None = None
    taxonomy_version: int | None = None


_IGNORED = {
    "ref",
    "reporting_jurisdiction",
    "status_reason",
    "revision",
    "created_at",
    "updated_at",
    "submitted_at",
    "reviewed_at",
    "proposed_incident",  # review state of the source instance, not content
}


def read_ndjson(
    path: Path, summary: Summary
) -> Iterator[tuple[int, ExportedReport | None, Problem | None, str | None]]:
    """(row, report, problem, organization name) per line; the line is the API's own format."""
    decoder = msgspec.json.Decoder()
    with path.open("rb") as handle:
        for row, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            summary.read += 1
            try:
                raw = decoder.decode(line)
                if not isinstance(raw, dict):
                    raise msgspec.ValidationError("Expected an object")
                for key in _IGNORED:
                    raw.pop(key, None)
                report = msgspec.convert(raw, ExportedReport, strict=False)
            except (msgspec.DecodeError, msgspec.ValidationError) as error:
                message, _, where = str(error).partition(" - at `$.")
                yield row, None, Problem(row, where.rstrip("`") or "$", message), None
                continue
            organization = report.organization.get("name") if report.organization else None
            yield row, report, None, organization
