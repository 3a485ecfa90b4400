"""Translations of the taxonomy's labels and definitions, kept beside the versioned files.

They live in ``taxonomy/translations/`` and not inside ``dimensions/*.toml`` on purpose: a
version's content hash covers every label of those files, so a translation written there would
make a new taxonomy version. A translation never changes a code's meaning, so it is read beside
whatever version is loaded, keyed by dimension and code, and checked by ``taxonomy check``.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, TypeVar

import msgspec

from incidents.languages import LANGUAGES, SOURCE_LANGUAGE
from incidents.taxonomy.schemas import FileProblem, Language, TaxonomyDocument

StructT = TypeVar("StructT", bound=msgspec.Struct)

FOLDER = "translations"
MANIFEST = f"{FOLDER}/manifest.toml"
AWAITING_REVIEW = "awaiting native review"

Label = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Definition = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class CatalogState(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """What the manifest states about one language's catalog; `taxonomy check` holds it to it."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    """The language's name in itself (Français, العربية, ...)."""
    complete: bool
    reviewed_by_native_speaker: bool
    review: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    """Who reviewed it and when, or "awaiting native review"."""
    source: bool = False
    """The language the taxonomy is written in (its text is in the versioned files)."""


class TranslationManifest(msgspec.Struct, forbid_unknown_fields=True):
    catalogs: dict[Language, CatalogState]


class CatalogFile(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """One language: dimension labels and descriptions, code labels and definitions."""

    language: Language
    dimensions: dict[str, Label] = {}
    descriptions: dict[str, Definition] = {}
    labels: dict[str, dict[str, Label]] = {}
    definitions: dict[str, dict[str, Definition]] = {}


def catalog_file(language: str) -> str:
    return f"{FOLDER}/{language}.toml"


class Translations:
    """Every catalog in memory: look-ups fall back to English (given by the caller)."""

    def __init__(
        self, manifest: TranslationManifest | None, catalogs: dict[str, CatalogFile]
    ) -> None:
        self.manifest = manifest or TranslationManifest(catalogs={})
        self.catalogs = catalogs

    @classmethod
    def empty(cls) -> Translations:
        return cls(None, {})

    def label(self, dimension: str, code: str, language: str) -> str | None:
        catalog = self.catalogs.get(language)
        return catalog.labels.get(dimension, {}).get(code) if catalog else None

    def definition(self, dimension: str, code: str, language: str) -> str | None:
        catalog = self.catalogs.get(language)
        return catalog.definitions.get(dimension, {}).get(code) if catalog else None

    def dimension_label(self, dimension: str, language: str) -> str | None:
        catalog = self.catalogs.get(language)
        return catalog.dimensions.get(dimension) if catalog else None

    def description(self, dimension: str, language: str) -> str | None:
        catalog = self.catalogs.get(language)
        return catalog.descriptions.get(dimension) if catalog else None


def read_translations(directory: Path) -> tuple[Translations, list[FileProblem]]:
    """The catalogs of a taxonomy directory, and every defect of form found reading them."""
    problems: list[FileProblem] = []
    manifest = _load(directory / MANIFEST, MANIFEST, TranslationManifest, problems)
    catalogs: dict[str, CatalogFile] = {}
    if manifest is None:
        return Translations.empty(), problems
    for language in LANGUAGES:
        if language not in manifest.catalogs:
            problems.append(FileProblem(MANIFEST, language, "no catalog stated for this language"))
    for language, state in manifest.catalogs.items():
        if state.source:
            continue
        relative = catalog_file(language)
        catalog = _load(directory / relative, relative, CatalogFile, problems)
        if catalog is None:
            continue
        if catalog.language != language:
            problems.append(
                FileProblem(relative, None, f"language {catalog.language!r} is not the file's")
            )
            continue
        catalogs[language] = catalog
    return Translations(manifest, catalogs), problems


@functools.cache
def load_translations(directory: Path) -> Translations:
    """The catalogs the service answers with; a defective catalog is left out, not fatal
    (`incidents taxonomy check` names its defects)."""
    translations, _ = read_translations(directory)
    return translations


def check_translations(directory: Path, document: TaxonomyDocument) -> list[FileProblem]:
    """Every missing or stray translation, by file, `dimension:code` and reason."""
    translations, problems = read_translations(directory)
    for language, state in translations.manifest.catalogs.items():
        if state.source:
            if language != SOURCE_LANGUAGE:
                problems.append(
                    FileProblem(MANIFEST, language, f"only {SOURCE_LANGUAGE!r} is the source")
                )
            continue
        catalog = translations.catalogs.get(language)
        if catalog is None:
            continue
        missing = list(_missing(catalog, document))
        problems.extend(missing)
        problems.extend(_stray(catalog, document))
        if not missing and not state.complete:
            problems.append(
                FileProblem(MANIFEST, language, "every entry is translated: state complete = true")
            )
        if state.reviewed_by_native_speaker == (state.review == AWAITING_REVIEW):
            problems.append(
                FileProblem(
                    MANIFEST,
                    language,
                    "review must say who reviewed it when reviewed_by_native_speaker is true, "
                    f"and {AWAITING_REVIEW!r} when it is false",
                )
            )
    return problems


def _missing(catalog: CatalogFile, document: TaxonomyDocument) -> Iterable[FileProblem]:
    file = catalog_file(catalog.language)
    language = catalog.language
    for dimension in document.dimensions:
        name = dimension.name
        if name not in catalog.dimensions:
            yield FileProblem(file, name, f"dimension label missing in {language!r}")
        if name not in catalog.descriptions:
            yield FileProblem(file, name, f"dimension description missing in {language!r}")
        labels = catalog.labels.get(name, {})
        definitions = catalog.definitions.get(name, {})
        for entry in dimension.codes:
            if entry.code not in labels:
                yield FileProblem(file, f"{name}:{entry.code}", f"label missing in {language!r}")
            if entry.code not in definitions:
                yield FileProblem(
                    file, f"{name}:{entry.code}", f"definition missing in {language!r}"
                )


def _stray(catalog: CatalogFile, document: TaxonomyDocument) -> Iterable[FileProblem]:
    file = catalog_file(catalog.language)
    codes = {d.name: {entry.code for entry in d.codes} for d in document.dimensions}
    for table in ("dimensions", "descriptions"):
        for name in getattr(catalog, table):
            if name not in codes:
                yield FileProblem(file, name, f"{table}: no such dimension in the taxonomy")
    for table in ("labels", "definitions"):
        for name, entries in getattr(catalog, table).items():
            if name not in codes:
                yield FileProblem(file, name, f"{table}: no such dimension in the taxonomy")
                continue
            for code in entries:
                if code not in codes[name]:
                    yield FileProblem(
                        file, f"{name}:{code}", f"{table}: no such code in the taxonomy"
                    )


def _load(
    path: Path, relative: str, kind: type[StructT], problems: list[FileProblem]
) -> StructT | None:
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
        problems.append(FileProblem(relative, None, str(error)))
        return None
