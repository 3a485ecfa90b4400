"""Cells to our values by a mapping's field specs: value maps, rules, crosswalks, countries and
dates, with a coverage report (rows each rule matched; values nothing matched, most frequent
first) so that a mapping can be completed from what it missed."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Any

import msgspec

from incidents.importers.countries import Countries, normalized
from incidents.importers.dates import DateError, parse_date
from incidents.importers.mapping import DATE_FIELDS, FieldSpec, Mapping, Rule
from incidents.importers.records import LIST_FIELDS, Problem, Record, Summary, count_unmapped
from incidents.taxonomy.service import Taxonomy

UNMATCHED_SHOWN = 50


class Coverage(msgspec.Struct):
    field: str
    column: str
    rows: int = 0
    """Rows with a value in the column."""
    by_rule: dict[str, int] = msgspec.field(default_factory=dict)
    """Rule (or "values", "crosswalk") -> rows it matched."""
    unmatched: list[tuple[str, int]] = msgspec.field(default_factory=list)
    """Values nothing matched, most frequent first (at most 50)."""


class _Compiled:
    def __init__(self, rule: Rule) -> None:
        self.label = rule.label()
        self.codes = rule.codes()
        if rule.keywords is not None:
            words = "|".join(re.escape(word.strip()) for word in rule.keywords if word.strip())
            self.pattern = re.compile(rf"\b(?:{words})\b", re.IGNORECASE)
        elif rule.contains is not None:
            self.pattern = re.compile(re.escape(rule.contains), re.IGNORECASE)
        else:
            self.pattern = re.compile(str(rule.regex), re.IGNORECASE)


class Translator:
    """Turns source cells into our values, by the mapping, the taxonomy and its crosswalks."""

    def __init__(self, mapping: Mapping, taxonomy: Taxonomy, summary: Summary) -> None:
        self.mapping = mapping
        self.taxonomy = taxonomy
        self.summary = summary
        self.specs = mapping.specs()
        self._countries: Countries | None = None
        self._rules = {
            name: [_Compiled(rule) for rule in spec.rules] for name, spec in self.specs.items()
        }
        self._values = {
            name: {normalized(key): value for key, value in (spec.values or {}).items()}
            for name, spec in self.specs.items()
        }
        self._hits: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self._misses: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self._rows: Counter[str] = Counter()
        self._last: dict[tuple[str, str], int] = {}

    @property
    def countries(self) -> Countries:
        if self._countries is None:
            self._countries = Countries(self.taxonomy)
        return self._countries

    def record(self, line: int, cells: dict[str, str]) -> tuple[Record, list[Problem]]:
        """One row: our values, the column each came from, and every problem of the row."""
        values: dict[str, Any] = {}
        columns: dict[str, str] = {}
        problems: list[Problem] = []
        for name, spec in self.specs.items():
            if spec.value is not None:
                values[name] = [spec.value] if name in LIST_FIELDS else spec.value
                continue
            if spec.column is None or spec.column not in cells:
                continue
            columns[name] = spec.column
            translated = self.cell(line, name, spec, cells[spec.column], problems)
            if translated not in (None, [], ""):
                values[name] = translated
        for name, value in self.mapping.defaults.items():
            if name not in self.specs:
                values[name] = [value] if name in LIST_FIELDS else value
                columns[name] = f"(default {name})"
        return Record(row=line, values=values, columns=columns), problems

    def cell(self, row: int, name: str, spec: FieldSpec, raw: str, problems: list[Problem]) -> Any:
        raw = (raw or "").strip()
        if not raw:
            return None
        self._rows[name] += 1
        column = str(spec.column)
        if spec.json_list:
            try:
                items = [str(item) for item in msgspec.json.decode(raw)]
            except (msgspec.DecodeError, TypeError):
                problems.append(Problem(row, column, "Not a JSON array"))
                return None
        elif spec.split is not None and spec.crosswalk is None:
            separators = [spec.split] if isinstance(spec.split, str) else spec.split
            pattern = "|".join(re.escape(separator) for separator in separators)
            items = [part.strip() for part in re.split(pattern, raw) if part.strip()]
        else:
            items = [raw]
        if spec.crosswalk is not None:
            items = self._crosswalked(row, name, spec, raw, problems)
        elif spec.values is not None or spec.rules:
            items = [
                code for item in items for code in self._coded(row, name, spec, item, problems)
            ]
        if name == "affected_jurisdiction":
            found, unknown = self.countries.codes(items)
            if found:
                self._hit(name, "countries recognised", row)
            for item in unknown:
                self._unmapped(row, name, spec, item, problems)
            items = found
        if name in DATE_FIELDS and items:
            try:
                items = [parse_date(items[0], order=spec.dates, pattern=spec.format)]
            except DateError as error:
                problems.append(Problem(row, column, str(error)))
                return None
        if name in LIST_FIELDS:
            return list(dict.fromkeys(items))
        return items[0] if items else None

    def _coded(
        self, row: int, name: str, spec: FieldSpec, item: str, problems: list[Problem]
    ) -> list[str]:
        if spec.values is not None:
            found = spec.values.get(item)
            if found is None:
                found = self._values.get(name, {}).get(normalized(item))
            if found is not None:
                self._hit(name, "values", row)
                return [found] if isinstance(found, str) else list(found)
        codes: list[str] = []
        for rule in self._rules.get(name, []):
            if rule.pattern.search(item):
                self._hit(name, rule.label, row)
                codes.extend(code for code in rule.codes if code not in codes)
                if name not in LIST_FIELDS:
                    break
        if not codes:
            return self._unmapped(row, name, spec, item, problems)
        return codes

    def _crosswalked(
        self, row: int, name: str, spec: FieldSpec, raw: str, problems: list[Problem]
    ) -> list[str]:
        crosswalk = self.taxonomy.crosswalks.get(str(spec.crosswalk))
        if crosswalk is None:
            problems.append(
                Problem(row, str(spec.column), f"No crosswalk {spec.crosswalk!r} in the taxonomy")
            )
            return []
        separator = spec.split if isinstance(spec.split, str) else None
        if separator is not None:
            codes, unknown = crosswalk.split(raw, separator)
        else:
            found = crosswalk.lookup(raw)
            codes, unknown = (found, []) if found is not None else ([], [raw])
        if codes:
            self._hit(name, "crosswalk", row)
        for item in unknown:
            self._unmapped(row, name, spec, item, problems)
        return codes

    def _unmapped(
        self, row: int, name: str, spec: FieldSpec, item: str, problems: list[Problem]
    ) -> list[str]:
        self._misses[name][item] += 1
        if self.mapping.on_unmapped == "unclassified":
            count_unmapped(self.summary, name)
        else:
            problems.append(Problem(row, str(spec.column), f"{item!r} has no mapping"))
        return []

    def _hit(self, name: str, label: str, row: int) -> None:
        """Count a row once per rule, however many of its items the rule matched."""
        if self._last.get((name, label)) != row:
            self._last[name, label] = row
            self._hits[name][label] += 1

    def coverage(self) -> list[Coverage]:
        """Per translated field: rows per rule and what nothing matched, most frequent first."""
        found = []
        for name, spec in self.specs.items():
            if (
                not (spec.values or spec.rules or spec.crosswalk)
                and name != "affected_jurisdiction"
            ):
                continue
            if spec.column is None:
                continue
            found.append(
                Coverage(
                    field=name,
                    column=spec.column,
                    rows=self._rows[name],
                    by_rule=dict(self._hits[name].most_common()),
                    unmatched=self._misses[name].most_common(UNMATCHED_SHOWN),
                )
            )
        return found
