"""Reading a taxonomy directory and finding every defect in it, by file and code."""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from incidents.errors import FieldError, ValidationFailed
from incidents.taxonomy.geography import FILE_NAME as GEOGRAPHY_FILE
from incidents.taxonomy.geography import Country, read_csv
from incidents.taxonomy.schemas import (
    CrosswalkFile,
    DimensionFile,
    FileProblem,
    Manifest,
    TaxonomyDocument,
)

T = TypeVar("T")

MANIFEST_FILE = "manifest.toml"
REQUIRED_LANGUAGE = "en"


class TaxonomyInvalid(ValidationFailed):
    """The taxonomy has defects; ``problems`` lists each one (over the API: 422, one per field)."""

    def __init__(self, problems: list[FileProblem]) -> None:
        super().__init__(
            f"{len(problems)} problem(s) in the taxonomy",
            errors=[
                FieldError(
                    f"{problem.file}#{problem.code}" if problem.code else problem.file,
                    problem.reason,
                )
                for problem in problems
            ],
        )
        self.problems = problems


def dimension_file(name: str) -> str:
    return f"dimensions/{name}.toml"


def crosswalk_file(name: str) -> str:
    return f"crosswalks/{name}.toml"


def normalize_label(label: str) -> str:
    """How crosswalk labels match: case, '&' vs 'and', punctuation and spacing do not matter."""
    folded = label.casefold().replace("&", " and ")
    return re.sub(r"[^0-9a-z]+", " ", folded).strip()


def _parse(path: Path, relative: str, kind: type[T], problems: list[FileProblem]) -> T | None:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(FileProblem(relative, None, "file is missing"))
        return None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        problems.append(FileProblem(relative, None, f"not valid TOML: {error}"))
        return None
    try:
        return msgspec.convert(raw, kind)
    except msgspec.ValidationError as error:
        problems.append(FileProblem(relative, _code_at(raw, str(error)), str(error)))
        return None


def _code_at(raw: dict[str, Any], message: str) -> str | None:
    """Name the code a schema error is about, e.g. '- at `$.codes[3].label`' -> codes[3].code."""
    match = re.search(r"\$\.(codes|entries)\[(\d+)\]", message)
    if not match:
        return None
    items = raw.get(match.group(1), [])
    index = int(match.group(2))
    if index < len(items) and isinstance(items[index], dict):
        value = items[index].get("code", items[index].get("from"))
        return str(value) if value is not None else None
    return None


def read_directory(directory: Path) -> TaxonomyDocument:
    """Parse every file the manifest names and validate the whole; raise with every problem."""
    problems: list[FileProblem] = []
    manifest = _parse(directory / MANIFEST_FILE, MANIFEST_FILE, Manifest, problems)
    if manifest is None:
        raise TaxonomyInvalid(problems)
    dimensions: list[DimensionFile] = []
    for name in manifest.dimensions:
        file = dimension_file(name)
        if (dimension := _parse(directory / file, file, DimensionFile, problems)) is not None:
            if dimension.name != name:
                problems.append(
                    FileProblem(file, None, f"name {dimension.name!r} is not the file's")
                )
            dimensions.append(dimension)
    crosswalks: list[CrosswalkFile] = []
    for name in manifest.crosswalks:
        file = crosswalk_file(name)
        if (crosswalk := _parse(directory / file, file, CrosswalkFile, problems)) is not None:
            if crosswalk.name != name:
                problems.append(
                    FileProblem(file, None, f"name {crosswalk.name!r} is not the file's")
                )
            crosswalks.append(crosswalk)
    for folder, listed in (
        ("dimensions", manifest.dimensions),
        ("crosswalks", manifest.crosswalks),
    ):
        for path in sorted((directory / folder).glob("*.toml")):
            if path.stem not in listed:
                problems.append(
                    FileProblem(f"{folder}/{path.name}", None, "not listed in manifest.toml")
                )
    geography = []
    try:
        geography = read_csv(directory / GEOGRAPHY_FILE)
    except FileNotFoundError:
        problems.append(FileProblem(GEOGRAPHY_FILE, None, "file is missing"))
    except (msgspec.ValidationError, KeyError, ValueError) as error:
        problems.append(FileProblem(GEOGRAPHY_FILE, None, f"malformed: {error}"))
    document = TaxonomyDocument(
        manifest=manifest, dimensions=dimensions, crosswalks=crosswalks, geography=geography
    )
    problems.extend(validate(document, names_checked=False))
    if problems:
        raise TaxonomyInvalid(problems)
    return document


def validate(document: TaxonomyDocument, *, names_checked: bool = True) -> list[FileProblem]:
    """Every semantic defect: duplicates, dangling parents, cycles, bad retirements, crosswalks."""
    problems: list[FileProblem] = []
    manifest = document.manifest
    languages = {REQUIRED_LANGUAGE, *manifest.languages}
    by_name = {dimension.name: dimension for dimension in document.dimensions}
    if names_checked:
        problems.extend(_manifest_lists(document))
    for name in sorted({n for n, count in Counter(manifest.dimensions).items() if count > 1}):
        problems.append(FileProblem(MANIFEST_FILE, None, f"dimension {name} is listed twice"))
    for dimension in document.dimensions:
        problems.extend(_check_dimension(dimension, manifest.version, languages))
    for crosswalk in document.crosswalks:
        problems.extend(_check_crosswalk(crosswalk, by_name))
    problems.extend(_check_geography(document))
    return problems


def _manifest_lists(document: TaxonomyDocument) -> Iterable[FileProblem]:
    manifest = document.manifest
    present = [dimension.name for dimension in document.dimensions]
    if sorted(present) != sorted(manifest.dimensions):
        yield FileProblem(MANIFEST_FILE, None, "the dimensions listed differ from those given")
    if sorted(c.name for c in document.crosswalks) != sorted(manifest.crosswalks):
        yield FileProblem(MANIFEST_FILE, None, "the crosswalks listed differ from those given")


def _check_dimension(
    dimension: DimensionFile, version: int, languages: set[str]
) -> Iterable[FileProblem]:
    file = dimension_file(dimension.name)
    codes = {entry.code: entry for entry in dimension.codes}
    for code, count in Counter(entry.code for entry in dimension.codes).items():
        if count > 1:
            yield FileProblem(file, code, f"code appears {count} times; codes must be unique")
    for language in sorted(languages - set(dimension.label)):
        yield FileProblem(file, None, f"dimension label missing in '{language}'")
    has_ordinals = [entry.ordinal is not None for entry in dimension.codes]
    if any(has_ordinals) and not all(has_ordinals):
        yield FileProblem(file, None, "either every code has an ordinal or none does")
    ordinals = Counter(entry.ordinal for entry in dimension.codes if entry.ordinal is not None)
    for ordinal, count in ordinals.items():
        if count > 1:
            yield FileProblem(file, None, f"ordinal {ordinal} is used {count} times")
    for entry in dimension.codes:
        for language in sorted(languages - set(entry.label)):
            yield FileProblem(file, entry.code, f"label missing in '{language}'")
        if REQUIRED_LANGUAGE not in entry.definition:
            yield FileProblem(file, entry.code, "definition missing in 'en'")
        if entry.parent is not None:
            if not dimension.hierarchical:
                yield FileProblem(file, entry.code, "has a parent but the dimension is flat")
            elif entry.parent not in codes:
                yield FileProblem(file, entry.code, f"parent {entry.parent!r} does not exist")
        yield from _check_retirement(file, entry, codes, version)
    yield from _check_cycles(file, codes)


def _check_retirement(
    file: str, entry: Any, codes: dict[str, Any], version: int
) -> Iterable[FileProblem]:
    if entry.retired_in is None:
        if entry.replaced_by is not None:
            yield FileProblem(file, entry.code, "replaced_by is set but retired_in is not")
        return
    if entry.retired_in > version:
        yield FileProblem(
            file, entry.code, f"retired_in {entry.retired_in} is after this version ({version})"
        )
    if entry.replaced_by is None:
        yield FileProblem(file, entry.code, "a retired code must name its replacement")
        return
    replacement = codes.get(entry.replaced_by)
    if replacement is None:
        yield FileProblem(file, entry.code, f"replacement {entry.replaced_by!r} does not exist")
    elif replacement.retired_in is not None:
        yield FileProblem(
            file,
            entry.code,
            f"replacement {entry.replaced_by!r} is itself retired; name a live code",
        )


def _check_cycles(file: str, codes: dict[str, Any]) -> Iterable[FileProblem]:
    reported: set[str] = set()
    for start in codes:
        seen: list[str] = []
        current: str | None = start
        while current is not None and current in codes:
            if current in seen:
                cycle = seen[seen.index(current) :]
                key = min(cycle)
                if key not in reported:
                    reported.add(key)
                    yield FileProblem(
                        file, key, "parents form a cycle: " + " -> ".join([*cycle, current])
                    )
                break
            seen.append(current)
            current = codes[current].parent


def _check_crosswalk(
    crosswalk: CrosswalkFile, dimensions: dict[str, DimensionFile]
) -> Iterable[FileProblem]:
    file = crosswalk_file(crosswalk.name)
    target = dimensions.get(crosswalk.target)
    if target is None:
        yield FileProblem(file, None, f"target dimension {crosswalk.target!r} does not exist")
        return
    codes = {entry.code: entry for entry in target.codes}
    seen: dict[str, tuple[str, list[str]]] = {}
    for entry in crosswalk.entries:
        key = normalize_label(entry.from_)
        if key in seen and sorted(seen[key][1]) != sorted(entry.to):
            yield FileProblem(
                file,
                entry.from_,
                f"same label as {seen[key][0]!r} after normalisation but mapped elsewhere",
            )
        seen.setdefault(key, (entry.from_, entry.to))
        for code in entry.to:
            if code not in codes:
                yield FileProblem(
                    file, entry.from_, f"target code {code!r} does not exist in {target.name}"
                )
            elif codes[code].retired_in is not None:
                yield FileProblem(
                    file,
                    entry.from_,
                    f"target code {code!r} is retired; map to {codes[code].replaced_by!r}",
                )


def _check_geography(document: TaxonomyDocument) -> Iterable[FileProblem]:
    counts = Counter(country.code for country in document.geography)
    for code, count in counts.items():
        if count > 1:
            yield FileProblem(GEOGRAPHY_FILE, code, f"country appears {count} times")
    for country in document.geography:
        if not re.fullmatch(r"[A-Z]{2}", country.code):
            yield FileProblem(GEOGRAPHY_FILE, country.code, "not an ISO 3166-1 alpha-2 code")
        yield from (
            FileProblem(GEOGRAPHY_FILE, country.code, reason)
            for reason in _country_inconsistencies(country)
        )


def _country_inconsistencies(country: Country) -> Iterable[str]:
    if country.global_south != (country.development == "developing"):
        yield "global_south must be true exactly when development is developing"
    if country.inhabited != (bool(country.region) and bool(country.population)):
        yield "inhabited must be true exactly for an M49 area with a population above 0"
    for flag in ("un_member", "oecd_member", "g20_member", "eu_member"):
        if getattr(country, flag) and not country.inhabited:
            yield f"{flag} is true for an area marked uninhabited"
