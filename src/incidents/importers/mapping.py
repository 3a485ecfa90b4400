"""The mapping language: a TOML file that says how a register's table becomes reports.

``parse_mapping`` reads it and names every problem at once, each with its line in the file
(unknown keys, impossible rules, codes the taxonomy lacks, values left to fill in). See the
README for the language, with examples.
"""

from __future__ import annotations

import re
import tomllib
from typing import Annotated, Literal

import msgspec

from incidents.errors import FieldError, ValidationFailed
from incidents.importers.dates import Order
from incidents.importers.records import FIELDS, LIST_FIELDS
from incidents.importers.tables import Layout
from incidents.taxonomy.service import Taxonomy

MAX_MAPPING_BYTES = 2_000_000
MAX_RULES = 500
# Rules run on every cell of a file someone uploads: their texts stay short.
Pattern = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
Code = Annotated[str, msgspec.Meta(max_length=100)]
REQUIRED = ("title", "summary", "occurred_on", "event_type", "severity")
DATE_FIELDS = {"occurred_on", "detected_on"}
# Our field -> the taxonomy dimension its codes come from.
DIMENSIONS = {
    "harm_domain": "harm_domain",
    "harm_type": "harm_type",
    "affected_group": "affected_group",
    "ai_task": "ai_task",
    "sector": "sector",
    "causal_entity": "causal_entity",
    "causal_intent": "causal_intent",
    "causal_timing": "causal_timing",
    "autonomy_level": "autonomy_level",
    "lifecycle_stage": "lifecycle_stage",
    "severity": "severity",
    "eu_serious_incident": "eu_serious_incident",
    "system_type": "ai_system_type",
}


class Rule(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Free text -> code(s): one of ``keywords`` (any whole word), ``contains``, ``regex``."""

    keywords: Annotated[list[Pattern], msgspec.Meta(max_length=200)] | None = None
    contains: Pattern | None = None
    regex: Pattern | None = None
    code: Code | Annotated[list[Code], msgspec.Meta(max_length=20)]

    def label(self) -> str:
        if self.keywords is not None:
            return "keywords " + ", ".join(self.keywords)
        if self.contains is not None:
            return f"contains {self.contains!r}"
        return f"regex {self.regex!r}"

    def codes(self) -> list[str]:
        return [self.code] if isinstance(self.code, str) else list(self.code)


class FieldSpec(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    column: str | None = None
    """The source column; absent when the field is a constant (``value``)."""
    value: str | None = None
    values: Annotated[dict[str, Code | list[Code]], msgspec.Meta(max_length=20_000)] | None = None
    """Source value -> our code(s); matched exactly, then ignoring case and accents."""
    rules: Annotated[list[Rule], msgspec.Meta(max_length=MAX_RULES)] = []
    """Tried on what ``values`` does not know: every matching rule adds its codes."""
    crosswalk: str | None = None
    """A crosswalk of the taxonomy (e.g. mit_risk_domain) instead of ``values``."""
    split: str | list[str] | None = None
    """Separator(s) of a multi-valued cell, e.g. ";" or [";", ","]."""
    format: str | None = None
    """strptime format of a date column; its precision is the format's (%Y alone is a year)."""
    dates: Order | None = None
    """How to read slashed dates such as 03/04/2021 when the day could be either."""
    countries: Literal["any", "alpha2", "alpha3", "name"] = "any"
    """Kept for older mappings: codes and names in any form are recognised whatever it says."""
    json_list: bool = False
    """The cell holds a JSON array (e.g. ["youtube", "google"])."""


class Mapping(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    organization: str
    """The filer: the name of an existing member organization."""
    delimiter: str = ","
    encoding: str = "utf-8-sig"
    header_row: int = 1
    header_rows: int = 1
    sheet: str | None = None
    on_unmapped: Literal["error", "unclassified"] = "error"
    """A value no map, rule or crosswalk knows: a problem, or kept unclassified and counted."""
    complete: bool = True
    """Require a harm domain and harm type on every row (as filing over the API does)."""
    defaults: dict[str, str] = {}
    """Constants for fields the file lacks (never for a mapped column's empty cells)."""
    fields: dict[str, str | FieldSpec]

    def specs(self) -> dict[str, FieldSpec]:
        return {
            name: FieldSpec(column=spec) if isinstance(spec, str) else spec
            for name, spec in self.fields.items()
        }

    def layout(self, sheet: str | None = None) -> Layout:
        return Layout(
            header_row=self.header_row,
            header_rows=self.header_rows,
            delimiter=self.delimiter,
            encoding=self.encoding,
            sheet=sheet if sheet is not None else self.sheet,
        )


class MappingProblem(msgspec.Struct):
    line: int
    """The mapping file's line (0 when the problem belongs to no line)."""
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class MappingError(ValidationFailed):
    """Every problem of a mapping, each with its line (a 422 naming each, over HTTP)."""

    def __init__(self, problems: list[MappingProblem]) -> None:
        self.problems = problems
        super().__init__(
            "\n".join(str(problem) for problem in problems),
            errors=[
                FieldError(field=f"mapping line {problem.line}", message=problem.message)
                for problem in problems
            ],
        )


def line_of(text: str, path: list[str | int], hint: str | None = None) -> int:
    """The line defining ``path`` (e.g. ["fields", "sector", "values", "Health"]): each key is
    looked for after the previous one; the last found wins. ``hint``: a text on that line (a
    rule's own words), looked for from the first key's line on."""
    lines = text.splitlines()
    if hint is not None:
        start = line_of(text, path[:2])
        for number in range(max(start - 1, 0), len(lines)):
            if hint in lines[number]:
                return number + 1
    position, found = 0, 0
    for key in path:
        if isinstance(key, int):
            continue
        quoted = re.escape(key)
        pattern = re.compile(
            rf"(^|[\s{{,\[.]){quoted}\s*[=\].]|(^|[\s{{,\[.])[\"']{quoted}[\"']\s*[=\].]"
        )
        for number in range(position, len(lines)):
            if pattern.search(lines[number].split("#")[0] if "#" not in key else lines[number]):
                position, found = number, number + 1
                break
    return found


def _schema_path(message: str) -> tuple[str, list[str | int]]:
    text, _, where = message.partition(" - at `$")
    path: list[str | int] = []
    for part in re.findall(r"\.([^.\[`]+)|\[(\d+)\]", where.rstrip("`")):
        path.append(part[0] if part[0] else int(part[1]))
    return text, path


def _schema_problems(raw: dict[str, object], text: str) -> list[MappingProblem]:
    """Each field's shape checked on its own, since msgspec's paths do not name dict keys."""
    problems: list[MappingProblem] = []

    def convert(value: object, kind: object, prefix: list[str | int]) -> None:
        try:
            msgspec.convert(value, kind)
        except msgspec.ValidationError as error:
            message, path = _schema_path(str(error))
            unknown = re.search(r"unknown field `([^`]+)`", message)
            if unknown:
                path.append(unknown.group(1))
            where = ".".join(str(part) for part in [*prefix, *path]) or "mapping"
            problems.append(MappingProblem(line_of(text, [*prefix, *path]), f"{where}: {message}"))

    fields, defaults = raw.get("fields", {}), raw.get("defaults", {})
    convert({**raw, "fields": {}, "defaults": {}}, Mapping, [])
    for name, spec in fields.items() if isinstance(fields, dict) else []:
        convert(spec, str | FieldSpec, ["fields", str(name)])
    for name, value in defaults.items() if isinstance(defaults, dict) else []:
        convert(value, str, ["defaults", str(name)])
    return sorted(problems, key=lambda problem: problem.line)


def parse_mapping(text: str, taxonomy: Taxonomy | None = None) -> Mapping:
    """The mapping, or MappingError with every problem found (with ``taxonomy``, codes too)."""
    if len(text.encode()) > MAX_MAPPING_BYTES:
        raise MappingError([MappingProblem(0, f"At most {MAX_MAPPING_BYTES:,} bytes")])
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        number = re.search(r"line (\d+)", str(error))
        raise MappingError(
            [MappingProblem(int(number.group(1)) if number else 0, f"Not TOML: {error}")]
        ) from None
    try:
        mapping = msgspec.convert(raw, Mapping)
    except msgspec.ValidationError as error:
        raise MappingError(_schema_problems(raw, text) or [MappingProblem(0, str(error))]) from None
    problems = list(_problems(mapping, text, taxonomy))
    if problems:
        raise MappingError(sorted(problems, key=lambda problem: problem.line))
    return mapping


def _problems(mapping: Mapping, text: str, taxonomy: Taxonomy | None) -> list[MappingProblem]:
    problems: list[MappingProblem] = []

    def fail(path: list[str | int], message: str) -> None:
        problems.append(MappingProblem(line_of(text, path), message))

    known = ", ".join(sorted(FIELDS))
    specs = mapping.specs()
    for name in mapping.fields:
        if name not in FIELDS:
            fail(["fields", name], f"Unknown field {name!r}; known: {known}")
    for name in mapping.defaults:
        if name not in FIELDS:
            fail(["defaults", name], f"Unknown field {name!r}; known: {known}")
        elif name in specs:
            fail(
                ["defaults", name],
                f"{name} is mapped under [fields]: a default would silently fill its empty "
                "cells; remove one of them",
            )
    for name in REQUIRED:
        if name not in specs and name not in mapping.defaults:
            fail([], f"{name}: no column and no default (required on every report)")
    if mapping.header_row < 1 or mapping.header_rows < 1:
        fail(["header_row"], "header_row and header_rows start at 1")
    if len(mapping.delimiter) != 1:
        fail(["delimiter"], "delimiter must be one character")
    for name, spec in specs.items():
        if name in FIELDS:
            problems.extend(_spec_problems(name, spec, text, taxonomy))
    return problems


def _spec_problems(
    name: str, spec: FieldSpec, text: str, taxonomy: Taxonomy | None
) -> list[MappingProblem]:
    problems: list[MappingProblem] = []

    def fail(path: list[str | int], message: str, hint: str | None = None) -> None:
        problems.append(MappingProblem(line_of(text, ["fields", name, *path], hint), message))

    if (spec.column is None) == (spec.value is None):
        fail([], f"{name}: give a column or a value (one of them)")
    if (spec.format or spec.dates) and name not in DATE_FIELDS:
        fail(["format" if spec.format else "dates"], f"{name}: format and dates are for dates")
    if spec.format and "%" not in spec.format:
        fail(["format"], f"{name}: {spec.format!r} is no strptime format (e.g. %d/%m/%Y)")
    if spec.crosswalk is not None and (spec.values or spec.rules):
        fail(["crosswalk"], f"{name}: a crosswalk replaces values and rules; keep one")
    if spec.split is not None and name not in LIST_FIELDS:
        fail(["split"], f"{name} takes one value; split is for lists")
    dimension = None
    if taxonomy is not None and name in DIMENSIONS:
        dimension = taxonomy.dimensions.get(DIMENSIONS[name])
    if taxonomy is not None and spec.crosswalk and spec.crosswalk not in taxonomy.crosswalks:
        fail(
            ["crosswalk"],
            f"{name}: no crosswalk {spec.crosswalk!r}; known: {', '.join(taxonomy.crosswalks)}",
        )

    def check_codes(path: list[str | int], codes: list[str], hint: str | None = None) -> None:
        for code in codes:
            if not code:
                fail(path, f"{name}: {path[-1]!r} has no code yet (fill it in)", hint)
            elif dimension is not None and code not in dimension.codes:
                fail(path, f"{name}: {code!r} is not a {dimension.name} code", hint)

    coded = {"language", "event_type", "sharing", "status", "affected_jurisdiction"}
    if (spec.values or spec.rules) and name not in DIMENSIONS and name not in coded:
        fail(["values"], f"{name} is free text: values and rules are for coded fields")
    for source, codes in (spec.values or {}).items():
        check_codes(["values", source], [codes] if isinstance(codes, str) else codes)
    if spec.value is not None and dimension is not None:
        check_codes(["value"], [spec.value])
    for position, rule in enumerate(spec.rules):
        given = [rule.keywords, rule.contains, rule.regex]
        where: list[str | int] = ["rules"]
        hint = rule.contains or rule.regex or (rule.keywords[0] if rule.keywords else None)
        if sum(item is not None for item in given) != 1:
            fail(where, f"{name}: rule {position + 1} needs one of keywords, contains, regex", hint)
            continue
        if rule.regex is not None:
            try:
                re.compile(rule.regex)
            except re.error as error:
                fail(where, f"{name}: rule {position + 1}: bad regex: {error}", hint)
        if rule.keywords is not None and not any(word.strip() for word in rule.keywords):
            fail(where, f"{name}: rule {position + 1} has no keywords", hint)
        check_codes(where, rule.codes(), hint)
    return problems
