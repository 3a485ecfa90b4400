"""`incidents import suggest FILE`: a starting mapping from a file's header and values.

It finds the banner rows and a two-row header, guesses the delimiter, maps the columns whose
names it recognises, detects the country and date columns by their values, and lists each coded
column's values with their counts, each with an empty code for the user to fill in.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Callable
from pathlib import PurePath

import msgspec

from incidents.importers.countries import Countries, normalized
from incidents.importers.dates import DateError, parse_date
from incidents.importers.mapping import DIMENSIONS
from incidents.importers.records import LIST_FIELDS
from incidents.importers.tables import SPREADSHEETS, Layout, read_rows, read_table
from incidents.taxonomy.service import Taxonomy

LISTED_VALUES = 200
"""A coded column's values listed for filling in, most frequent first."""
SAMPLE_ROWS = 30

# Words in a column's name -> our field; the first field whose word matches wins, in this order.
NAMES: list[tuple[str, tuple[str, ...]]] = [
    ("external_ref", ("id", "ref", "reference", "case", "identifier", "number", "no")),
    ("detected_on", ("detected", "discovered", "reported")),
    ("occurred_on", ("date", "occurred", "year", "when", "fecha", "période", "period")),
    ("affected_jurisdiction", ("country", "countries", "location", "pays", "país", "where")),
    ("summary", ("description", "summary", "details", "résumé", "resumen", "happened")),
    ("title", ("title", "headline", "titre", "título", "name", "incident")),
    ("harm_type", ("harm type", "type of harm", "harms", "harm")),
    ("harm_domain", ("risk", "issue", "issues", "domain", "category", "categories")),
    ("sector", ("sector", "sectors", "industry", "secteur")),
    ("ai_task", ("technology", "technologies", "task", "application")),
    ("severity", ("severity", "gravity")),
    ("deaths", ("deaths", "fatalities", "killed", "dead")),
    ("injuries", ("injuries", "injured")),
    ("developer", ("developer", "vendor", "provider")),
    ("deployer", ("deployer", "operator", "user")),
    ("ai_system_name", ("system", "product")),
    ("source_url", ("url", "link", "source", "sources")),
    ("affected_group", ("groups", "group", "affected")),
]


def _quote(text: str) -> str:
    return msgspec.json.encode(text).decode()


def _field_of(name: str, taken: set[str]) -> str | None:
    last = name.split(" / ")[-1].casefold()
    whole = name.casefold()
    for field, words in NAMES:
        if field in taken:
            continue
        for word in words:
            if re.search(rf"(^|\W){re.escape(word)}($|\W)", last) or (
                " " in word and word in whole
            ):
                return field
    return None


def _layout(data: bytes, filename: str, sheet: str | None) -> Layout:
    delimiter = ","
    if PurePath(filename).suffix.casefold() not in SPREADSHEETS:
        sample = data[:8192].decode("utf-8-sig", errors="replace")
        try:
            delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    rows = read_rows(data, filename, Layout(delimiter=delimiter, sheet=sheet))[:SAMPLE_ROWS]
    filled = [sum(1 for cell in cells if cell.strip()) for _, cells in rows]
    width = max(filled, default=0)
    header = next(
        (position for position, count in enumerate(filled) if count >= max(2, width / 2)), 0
    )
    header_rows = 1
    if header + 1 < len(rows):
        top, below = rows[header][1], rows[header + 1][1]
        gaps = filled[header] < filled[header + 1]
        textual = all(not _looks_like_data(cell) for cell in below if cell.strip())
        if gaps and textual and top:
            header_rows = 2
    return Layout(header_row=header + 1, header_rows=header_rows, delimiter=delimiter, sheet=sheet)


def _looks_like_data(cell: str) -> bool:
    if re.fullmatch(r"[\d.,/ -]+", cell.strip()):
        return True
    try:
        parse_date(cell)
    except DateError:
        return False
    return True


def _items(values: list[str], split: list[str] | None) -> list[str]:
    if not split:
        return values
    pattern = "|".join(re.escape(separator) for separator in split)
    return [part.strip() for value in values for part in re.split(pattern, value) if part.strip()]


def _separators(values: list[str]) -> list[str] | None:
    found = [sep for sep in (";", "|") if sum(sep in value for value in values) * 10 >= len(values)]
    return found or None


def suggest(data: bytes, filename: str, taxonomy: Taxonomy, *, sheet: str | None = None) -> str:
    """A mapping to start from, as TOML text."""
    layout = _layout(data, filename, sheet)
    table = read_table(data, filename, layout)
    countries = Countries(taxonomy)
    lines = [
        f"# A starting mapping for {PurePath(filename).name}, written by `incidents import "
        "suggest`.",
        '# Check every line, fill in each "" code, then `incidents import csv FILE --mapping '
        "THIS --check-mapping`.",
        'organization = ""   # the filer: the name of an existing member organization',
        f"header_row = {layout.header_row}   # the first header line (lines above: banners)",
        f"header_rows = {layout.header_rows}",
    ]
    if PurePath(filename).suffix.casefold() not in SPREADSHEETS:
        lines.append(f"delimiter = {_quote(layout.delimiter)}")
    if sheet:
        lines.append(f"sheet = {_quote(sheet)}")
    fields: dict[str, str] = {}
    tables: list[str] = []
    unmapped: list[str] = []
    for position, column in enumerate(table.columns):
        values = [cells[position] for _, cells in table.rows if cells[position].strip()]
        field = _detect(column, values, countries, set(fields))
        if field is None:
            unmapped.append(f"#   {_quote(column)}: {len(set(values))} distinct values")
            continue
        fields[field] = column
        tables.extend(_spec(field, column, values, taxonomy))
    defaults = {
        "sharing": '"TLP:AMBER"',
        "status": '"submitted"',
        "language": '"en"',
        "event_type": '"incident"',
        "severity": '"incident"',
    }
    lines += ["", "[defaults]   # constants for the fields the file lacks"]
    lines += [f"{name} = {value}" for name, value in defaults.items() if name not in fields]
    lines += ["", "[fields]"]
    simple = [name for name in fields if not any(t == f"[fields.{name}]" for t in tables)]
    lines += [f"{name} = {_quote(fields[name])}" for name in simple]
    if unmapped:
        lines += ["", "# Columns not mapped (add them under [fields] if they hold a field):"]
        lines += unmapped
    lines += ["", *tables]
    return "\n".join(lines).rstrip() + "\n"


def _detect(column: str, values: list[str], countries: Countries, taken: set[str]) -> str | None:
    sample = values[:500]
    if "affected_jurisdiction" not in taken and sample:
        items = _items(sample, [";", ","])
        known = sum(countries.code(item) is not None for item in items)
        if known * 10 >= len(items) * 6:
            return "affected_jurisdiction"
    named = _field_of(column, taken)
    if named is None and "occurred_on" not in taken and sample:
        dated = 0
        for value in sample:
            try:
                parse_date(value, order="day-first")
                dated += 1
            except DateError:
                pass
        if dated * 10 >= len(sample) * 6:
            return "occurred_on"
    return named


def _known_labels(taxonomy: Taxonomy, name: str) -> Callable[[str], list[str]]:
    """A value -> the codes the taxonomy gives it: a code itself, a code's label, or a label of
    a crosswalk into this dimension ([] when none does)."""
    dimension = taxonomy.dimensions.get(name)
    labels: dict[str, list[str]] = {}
    if dimension is not None:
        for code in dimension.live:
            labels[normalized(code)] = [code]
            labels.setdefault(normalized(dimension.label(code)), [code])
    crosswalks = [
        crosswalk for crosswalk in taxonomy.crosswalks.values() if crosswalk.target == name
    ]

    def known(value: str) -> list[str]:
        found = labels.get(normalized(value))
        if found:
            return found
        for crosswalk in crosswalks:
            codes = crosswalk.lookup(value)
            if codes:
                return list(codes)
        return []

    return known


def _codes(taxonomy: Taxonomy, name: str) -> list[str]:
    """The dimension's live codes with their English labels, as comments to fill in from."""
    dimension = taxonomy.dimensions.get(name)
    if dimension is None:
        return []
    entries = [f"{code} {dimension.label(code)}" for code in sorted(dimension.live)]
    lines, line = [], "# codes:"
    for entry in entries:
        if len(line) + len(entry) > 98:
            lines.append(line.rstrip(";"))
            line = "#"
        line += f" {entry};"
    return [*lines, line.rstrip(";")]


def _spec(field: str, column: str, values: list[str], taxonomy: Taxonomy) -> list[str]:
    """The [fields.X] table of a field that needs more than its column, else nothing."""
    if field == "affected_jurisdiction":
        return [f"[fields.{field}]", f"column = {_quote(column)}", 'split = [";", ","]', ""]
    if field in {"occurred_on", "detected_on"}:
        month_first = any(
            re.fullmatch(r"\d{1,2}[/.]\d{1,2}[/.]\d{4}", value)
            and int(re.split(r"[/.]", value)[1]) > 12
            for value in values
        )
        order = "month-first" if month_first else "day-first"
        return [
            f"[fields.{field}]",
            f"column = {_quote(column)}",
            f'dates = "{order}"   # how to read 03/04/2021; years, months and ranges need nothing',
            "",
        ]
    if field not in DIMENSIONS:
        return []
    split = _separators(values) if field in LIST_FIELDS else None
    counts = Counter(_items(values, split))
    found = [
        f"[fields.{field}]",
        f"column = {_quote(column)}",
    ]
    if split:
        found.append(f"split = [{', '.join(_quote(separator) for separator in split)}]")
    found += [
        "# Free text? Rules match what the values below do not, e.g.",
        '# rules = [{ keywords = ["facial", "biometric"], code = "" }, { contains = "bias", '
        'code = "" }]',
        "",
        f"[fields.{field}.values]   # {len(counts)} distinct values: fill in {field} codes",
        *_codes(taxonomy, DIMENSIONS[field]),
    ]
    known = _known_labels(taxonomy, DIMENSIONS[field])
    for value, count in counts.most_common(LISTED_VALUES):
        rows = f"{count} row{'s' if count != 1 else ''}"
        codes = known(value)
        if codes:
            listed = _quote(codes[0]) if len(codes) == 1 else f"[{', '.join(map(_quote, codes))}]"
            found.append(f"{_quote(value)} = {listed}   # {rows}; a label the taxonomy knows")
        else:
            found.append(f'{_quote(value)} = ""   # {rows}')
    if len(counts) > LISTED_VALUES:
        found.append(f"# ... and {len(counts) - LISTED_VALUES} rarer values: write rules for them")
    return [*found, ""]
