"""Mapped imports: any incident list (another observatory's export, a national register) as
CSV, brought in through a TOML mapping file without code; and NDJSON in the API's own format.

See the README for the mapping format, with a complete example.
"""

from __future__ import annotations

import csv
import tomllib
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import msgspec

from incidents.importers.records import (
    FIELDS,
    LIST_FIELDS,
    Problem,
    Record,
    Summary,
    count_unmapped,
)
from incidents.reports.schemas import ReportContent
from incidents.taxonomy.service import Taxonomy

MAX_ROWS = 10_000_000


class FieldSpec(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    column: str | None = None
    """The source column; absent when the field is a constant (``value``)."""
    value: str | None = None
    values: dict[str, str | list[str]] | None = None
    """Source value -> our code(s); matched exactly, then case-insensitively."""
    crosswalk: str | None = None
    """A crosswalk of the taxonomy (e.g. mit_risk_domain) instead of ``values``."""
    split: str | None = None
    """Separator of a multi-valued cell."""
    format: str | None = None
    """strptime format of a date column (default: ISO YYYY[-MM[-DD]])."""
    countries: Literal["alpha2", "alpha3", "name"] = "alpha2"
    json_list: bool = False
    """The cell holds a JSON array (e.g. ["youtube", "google"])."""


class Mapping(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    organization: str
    """The filer: the name of an existing member organization."""
    delimiter: str = ","
    encoding: str = "utf-8"
    on_unmapped: Literal["error", "unclassified"] = "error"
    """A value no map or crosswalk knows: a problem, or kept as unclassified and counted."""
    complete: bool = True
    """Require a harm domain and harm type on every row (as filing over the API does)."""
    defaults: dict[str, str] = {}
    fields: dict[str, str | FieldSpec]


def read_mapping(path: Path) -> Mapping:
    try:
        mapping = msgspec.convert(tomllib.loads(path.read_text(encoding="utf-8")), Mapping)
    except (tomllib.TOMLDecodeError, msgspec.ValidationError) as error:
        raise ValueError(f"{path}: {error}") from None
    unknown = sorted((set(mapping.fields) | set(mapping.defaults)) - FIELDS)
    if unknown:
        raise ValueError(
            f"{path}: unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(FIELDS))}"
        )
    return mapping


class Translator:
    """Turns source cells into our values, by the mapping, the taxonomy and its crosswalks."""

    def __init__(self, mapping: Mapping, taxonomy: Taxonomy, summary: Summary) -> None:
        self.mapping = mapping
        self.taxonomy = taxonomy
        self.summary = summary
        self.specs = {
            name: FieldSpec(column=spec) if isinstance(spec, str) else spec
            for name, spec in mapping.fields.items()
        }
        countries = taxonomy.countries.values()
        self.by_alpha3 = {country.alpha3: country.code for country in countries}
        self.by_name = {
            name.casefold(): country.code
            for country in countries
            for name in (country.name, country.official_name)
        }

    def record(self, row: int, cells: dict[str, str]) -> tuple[Record, list[Problem]]:
        values: dict[str, Any] = dict(self.mapping.defaults)
        columns: dict[str, str] = {}
        problems: list[Problem] = []
        for name, spec in self.specs.items():
            if spec.value is not None:
                values[name] = [spec.value] if name in LIST_FIELDS else spec.value
                continue
            if spec.column is None:
                continue
            columns[name] = spec.column
            if spec.column not in cells:
                problems.append(Problem(row, spec.column, "No such column in the file"))
                continue
            translated = self.cell(row, name, spec, cells[spec.column], problems)
            if translated not in (None, [], ""):
                values[name] = translated
        return Record(row=row, values=values, columns=columns), problems

    def cell(self, row: int, name: str, spec: FieldSpec, raw: str, problems: list[Problem]) -> Any:
        raw = (raw or "").strip()
        if not raw:
            return None
        if spec.json_list:
            try:
                items = [str(item) for item in msgspec.json.decode(raw)]
            except (msgspec.DecodeError, TypeError):
                problems.append(Problem(row, str(spec.column), "Not a JSON array"))
                return None
        elif spec.split is not None and spec.crosswalk is None:
            items = [part.strip() for part in raw.split(spec.split) if part.strip()]
        else:
            items = [raw]
        if spec.crosswalk is not None:
            items = self._crosswalked(row, name, spec, raw, problems)
        elif spec.values is not None:
            items = [
                code for item in items for code in self._mapped(row, name, spec, item, problems)
            ]
        if name in {"affected_jurisdiction"}:
            items = [code for item in items if (code := self._country(row, spec, item, problems))]
        if name in {"occurred_on", "detected_on"} and spec.format and items:
            try:
                parsed = datetime.strptime(items[0], spec.format).date()
            except ValueError:
                problems.append(
                    Problem(row, str(spec.column), f"{items[0]!r} does not match {spec.format}")
                )
                return None
            items = [parsed.isoformat()]
        if name in LIST_FIELDS:
            return list(dict.fromkeys(items))
        return items[0] if items else None

    def _mapped(
        self, row: int, name: str, spec: FieldSpec, item: str, problems: list[Problem]
    ) -> list[str]:
        assert spec.values is not None
        found = spec.values.get(item)
        if found is None:
            lowered = {key.casefold(): value for key, value in spec.values.items()}
            found = lowered.get(item.casefold())
        if found is None:
            return self._unmapped(row, name, spec, item, problems)
        return [found] if isinstance(found, str) else list(found)

    def _crosswalked(
        self, row: int, name: str, spec: FieldSpec, raw: str, problems: list[Problem]
    ) -> list[str]:
        crosswalk = self.taxonomy.crosswalks.get(str(spec.crosswalk))
        if crosswalk is None:
            problems.append(
                Problem(row, str(spec.column), f"No crosswalk {spec.crosswalk!r} in the taxonomy")
            )
            return []
        if spec.split is not None:
            codes, unknown = crosswalk.split(raw, spec.split)
        else:
            found = crosswalk.lookup(raw)
            codes, unknown = (found, []) if found is not None else ([], [raw])
        for item in unknown:
            self._unmapped(row, name, spec, item, problems)
        return codes

    def _unmapped(
        self, row: int, name: str, spec: FieldSpec, item: str, problems: list[Problem]
    ) -> list[str]:
        if self.mapping.on_unmapped == "unclassified":
            count_unmapped(self.summary, name)
        else:
            problems.append(Problem(row, str(spec.column), f"{item!r} has no mapping"))
        return []

    def _country(self, row: int, spec: FieldSpec, item: str, problems: list[Problem]) -> str | None:
        text = item.strip()
        if spec.countries == "alpha3":
            code = self.by_alpha3.get(text.upper())
        elif spec.countries == "name":
            code = self.by_name.get(text.casefold())
        else:
            code = text.upper() if len(text) == 2 else self.by_name.get(text.casefold())
        if code is None or code not in self.taxonomy.countries:
            self._unmapped(row, "affected_jurisdiction", spec, text, problems)
            return None
        return code


def read_csv(
    path: Path, mapping: Mapping, taxonomy: Taxonomy, summary: Summary
) -> Iterator[tuple[Record, list[Problem]]]:
    translator = Translator(mapping, taxonomy, summary)
    with path.open(encoding=mapping.encoding, newline="") as handle:
        for row, cells in enumerate(csv.DictReader(handle, delimiter=mapping.delimiter), start=1):
            if row > MAX_ROWS:
                raise ValueError(f"At most {MAX_ROWS:,} rows per import")
            summary.read += 1
            yield translator.record(row, cells)


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
