"""The taxonomy in memory (set lookups, hierarchy, retirements, crosswalks, labels in every
language) and the registry of versions a process knows. Releasing a version into the database
is releases.py; what changed between two, changes.py."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.db import Database, fetch_value
from incidents.errors import NotFound, ServiceUnavailable
from incidents.languages import SOURCE_LANGUAGE
from incidents.languages.catalogs import Translations, load_translations
from incidents.languages.places import region_name
from incidents.paths import taxonomy_dir
from incidents.taxonomy.files import (
    normalize_label,
)
from incidents.taxonomy.geography import Country
from incidents.taxonomy.models import taxonomy_versions
from incidents.taxonomy.schemas import (
    CodeEntry,
    CodeNode,
    CrosswalkFile,
    CrosswalkOut,
    DimensionFile,
    DimensionOut,
    GeographyOut,
    Region,
    TaxonomyDocument,
    TaxonomyOut,
    VersionSummary,
)

_canonical = msgspec.json.Encoder(order="sorted")


def content_hash(document: TaxonomyDocument) -> str:
    return hashlib.sha256(_canonical.encode(document)).hexdigest()


class Dimension:
    """One dimension of one version, indexed for constant-time checks."""

    def __init__(self, source: DimensionFile, translations: Translations | None = None) -> None:
        self.source = source
        self.translations = translations or Translations.empty()
        self.name = source.name
        self.multiple = source.multiple
        self.hierarchical = source.hierarchical
        self.codes: dict[str, CodeEntry] = {entry.code: entry for entry in source.codes}
        self.live: frozenset[str] = frozenset(
            code for code, entry in self.codes.items() if entry.retired_in is None
        )
        children: dict[str | None, list[CodeEntry]] = {}
        for entry in sorted(source.codes, key=lambda item: item.order):
            children.setdefault(entry.parent, []).append(entry)
        self._children = children

    def resolve(self, code: str) -> str:
        """Follow retirements to the live code that carries this code's meaning now."""
        seen = set()
        while code in self.codes and self.codes[code].retired_in is not None and code not in seen:
            seen.add(code)
            code = self.codes[code].replaced_by or code
        return code

    def subtree(self, code: str) -> frozenset[str]:
        """The code and all codes below it (a filter on a domain matches its subdomains)."""
        found = {code}
        pending = [code]
        while pending:
            for child in self._children.get(pending.pop(), []):
                found.add(child.code)
                pending.append(child.code)
        return frozenset(found)

    def root_of(self, code: str) -> str:
        entry = self.codes.get(code)
        while entry is not None and entry.parent is not None:
            entry = self.codes.get(entry.parent)
            code = entry.code if entry else code
        return code

    def label(self, code: str, language: str = SOURCE_LANGUAGE) -> str:
        """The code's label in the language, from the version or its catalog; else English."""
        entry = self.codes.get(code)
        if entry is None:
            return code
        return (
            entry.label.get(language)
            or self.translations.label(self.name, code, language)
            or entry.label[SOURCE_LANGUAGE]
        )

    def _texts(self, own: dict[str, str], translated: str | None, language: str) -> dict[str, str]:
        """English (the reference) and the language asked for, when it has a text."""
        texts = {SOURCE_LANGUAGE: own[SOURCE_LANGUAGE]} if SOURCE_LANGUAGE in own else {}
        found = own.get(language) or translated
        if found:
            texts[language] = found
        return texts

    def ordinal(self, code: str) -> int | None:
        entry = self.codes.get(code)
        return entry.ordinal if entry else None

    def tree(self, language: str = SOURCE_LANGUAGE) -> list[CodeNode]:
        name, translations = self.name, self.translations

        def node(entry: CodeEntry) -> CodeNode:
            return CodeNode(
                code=entry.code,
                label=self._texts(
                    entry.label, translations.label(name, entry.code, language), language
                ),
                definition=self._texts(
                    entry.definition,
                    translations.definition(name, entry.code, language),
                    language,
                ),
                order=entry.order,
                parent=entry.parent,
                ordinal=entry.ordinal,
                retired_in=entry.retired_in,
                replaced_by=entry.replaced_by,
                children=[node(child) for child in self._children.get(entry.code, [])],
            )

        return [node(entry) for entry in self._children.get(None, [])]

    def out(self, language: str = SOURCE_LANGUAGE) -> DimensionOut:
        """The dimension with its texts in English and, where translated, in the language."""
        source, translations = self.source, self.translations
        return DimensionOut(
            name=source.name,
            label=self._texts(
                source.label, translations.dimension_label(source.name, language), language
            ),
            description=self._texts(
                source.description, translations.description(source.name, language), language
            ),
            source=source.source,
            source_url=source.source_url,
            hierarchical=source.hierarchical,
            multiple=source.multiple,
            codes=self.tree(language),
        )


class Crosswalk:
    """Outside labels -> our codes, matched after normalisation."""

    def __init__(self, source: CrosswalkFile) -> None:
        self.source = source
        self.name = source.name
        self.target = source.target
        self._map = {normalize_label(entry.from_): entry.to for entry in source.entries}

    def lookup(self, label: str) -> list[str] | None:
        """The codes for a label; [] for a known label that maps to nothing; None if unknown."""
        return self._map.get(normalize_label(label))

    def split(self, cell: str, separator: str = ",") -> tuple[list[str], list[str]]:
        """Codes of a multi-label cell such as "race, sex", where labels may contain commas
        themselves ("Arts, entertainment and recreation"); returns (codes, unknown parts)."""
        whole = self.lookup(cell)
        if whole is not None:
            return list(whole), []
        parts = [part.strip() for part in cell.split(separator) if part.strip()]
        codes: list[str] = []
        unknown: list[str] = []
        start = 0
        while start < len(parts):
            # Longest run of parts that is a known label wins.
            for end in range(len(parts), start, -1):
                found = self.lookup(f"{separator} ".join(parts[start:end]))
                if found is not None:
                    codes.extend(code for code in found if code not in codes)
                    start = end
                    break
            else:
                unknown.append(parts[start])
                start += 1
        return codes, unknown


class Taxonomy:
    """One whole version in memory."""

    def __init__(
        self,
        document: TaxonomyDocument,
        loaded_at: datetime | None = None,
        translations: Translations | None = None,
    ) -> None:
        self.document = document
        self.version = document.manifest.version
        self.content_hash = content_hash(document)
        self.loaded_at = loaded_at or datetime.now(UTC)
        self.translations = translations or Translations.empty()
        self.dimensions = {
            source.name: Dimension(source, self.translations) for source in document.dimensions
        }
        self.crosswalks = {source.name: Crosswalk(source) for source in document.crosswalks}
        self.countries: dict[str, Country] = {
            country.code: country for country in document.geography
        }
        self._encoded: dict[str, bytes] = {}

    def dimension(self, name: str) -> Dimension:
        found = self.dimensions.get(name)
        if found is None:
            raise NotFound(f"No dimension {name!r} in taxonomy version {self.version}")
        return found

    def out(self, language: str = SOURCE_LANGUAGE) -> TaxonomyOut:
        manifest = self.document.manifest
        return TaxonomyOut(
            version=manifest.version,
            released=manifest.released,
            title=manifest.title,
            languages=manifest.languages,
            dimensions=[self.dimensions[name].out(language) for name in manifest.dimensions],
            crosswalks=[
                CrosswalkOut(name=c.name, source=c.source, target=c.target, entries=c.entries)
                for c in self.document.crosswalks
            ],
        )

    def geography(self, language: str = SOURCE_LANGUAGE) -> GeographyOut:
        regions: dict[str, list[str]] = {}
        for country in self.document.geography:
            if country.region:
                subs = regions.setdefault(country.region, [])
                if country.sub_region not in subs:
                    subs.append(country.sub_region)
        return GeographyOut(
            version=self.version,
            countries=self.document.geography,
            regions=[
                Region(name=name, sub_regions=sorted(subs))
                for name, subs in sorted(regions.items())
            ],
            developments=sorted({c.development for c in self.document.geography if c.development}),
            language=language,
            country_names={
                country.code: self.country_name(country.code, language)
                for country in self.document.geography
            },
            region_names={name: region_name(name, language) for name in _region_names(regions)},
        )

    def encoded(self, language: str = SOURCE_LANGUAGE) -> bytes:
        """The whole version as JSON in a language (computed once per language)."""
        found = self._encoded.get(language)
        if found is None:
            found = self._encoded[language] = msgspec.json.encode(self.out(language))
        return found

    def country_name(self, code: str, language: str = SOURCE_LANGUAGE) -> str:
        """A country's name in the language (CLDR, through Babel); the table's English else."""
        from incidents.languages.places import country_name

        country = self.countries.get(code)
        english = country.name if country else code
        return english if language == SOURCE_LANGUAGE else country_name(code, language, english)


def _region_names(regions: dict[str, list[str]]) -> list[str]:
    names = {*regions, *(sub for subs in regions.values() for sub in subs if sub)}
    return sorted(names)


class TaxonomyRegistry:
    """Every loaded version, the current (highest) one first in mind, refreshed from the DB."""

    def __init__(self, check_every: float = 10.0, translations: Translations | None = None) -> None:
        self.versions: dict[int, Taxonomy] = {}
        # Translations are not part of any version: one set of catalogs serves every version.
        self.translations = (
            translations if translations is not None else load_translations(taxonomy_dir())
        )
        self._check_every = check_every
        self._checked_at = float("-inf")

    @property
    def current(self) -> Taxonomy:
        if not self.versions:
            raise ServiceUnavailable("No taxonomy is loaded; run `incidents taxonomy load`")
        return self.versions[max(self.versions)]

    @property
    def due(self) -> bool:
        return time.monotonic() - self._checked_at >= self._check_every

    def add(self, document: TaxonomyDocument) -> None:
        """A version this process just stored: in use at once, without waiting for a refresh."""
        self.versions[document.manifest.version] = Taxonomy(
            document, translations=self.translations
        )

    def get(self, version: int) -> Taxonomy:
        found = self.versions.get(version)
        if found is None:
            raise NotFound(f"No taxonomy version {version}")
        return found

    def resolve(self, dimension: str, code: str) -> str:
        """A code of any version -> the live code of the current version."""
        return self.current.dimension(dimension).resolve(code)

    async def refresh(self, connection: AsyncConnection, *, force: bool = False) -> None:
        """Load versions this process has not seen; cheap when nothing changed."""
        now = time.monotonic()
        if not force and now - self._checked_at < self._check_every:
            return
        latest = (await connection.execute(select(func.max(taxonomy_versions.c.version)))).scalar()
        self._checked_at = now
        if latest is None or latest in self.versions:
            return
        rows = await connection.execute(
            select(taxonomy_versions.c.document, taxonomy_versions.c.loaded_at).where(
                taxonomy_versions.c.version.not_in(list(self.versions) or [0])
            )
        )
        for row in rows:
            document = msgspec.convert(row.document, TaxonomyDocument, strict=False)
            self.versions[document.manifest.version] = Taxonomy(
                document, row.loaded_at, self.translations
            )

    async def follow(self, database: Database) -> None:
        """Load a version another worker or host has stored, if any: one round trip (the
        newest version number; versions are immutable, so a number seen is a version known)."""
        await self.saw(
            await fetch_value(database, "SELECT max(version) FROM taxonomy_versions"), database
        )

    async def saw(self, latest: int | None, database: Database) -> None:
        """``latest`` is the newest version number just read from the database: load it if
        this process does not know it yet."""
        self._checked_at = time.monotonic()
        if latest is None or latest in self.versions:
            return
        async with database.connect() as connection:
            await self.refresh(connection, force=True)

    def summaries(self) -> list[VersionSummary]:
        current = max(self.versions) if self.versions else None
        return [
            VersionSummary(
                version=taxonomy.version,
                released=taxonomy.document.manifest.released,
                title=taxonomy.document.manifest.title,
                loaded_at=taxonomy.loaded_at,
                content_hash=taxonomy.content_hash,
                current=taxonomy.version == current,
            )
            for taxonomy in sorted(self.versions.values(), key=lambda item: item.version)
        ]
