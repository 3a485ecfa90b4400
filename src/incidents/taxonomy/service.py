"""The taxonomy in memory (set lookups, hierarchy, retirements, crosswalks), versions in the
database, and what changed between two versions."""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Literal

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.audit.service import Actor, EventDraft, append
from incidents.db import Database, fetch_value
from incidents.errors import Conflict, NotFound, ServiceUnavailable
from incidents.taxonomy.files import (
    TaxonomyInvalid,
    dimension_file,
    normalize_label,
    validate,
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
    FileProblem,
    GeographyOut,
    LoadResult,
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

    def __init__(self, source: DimensionFile) -> None:
        self.source = source
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

    def label(self, code: str, language: str = "en") -> str:
        entry = self.codes.get(code)
        if entry is None:
            return code
        return entry.label.get(language) or entry.label["en"]

    def ordinal(self, code: str) -> int | None:
        entry = self.codes.get(code)
        return entry.ordinal if entry else None

    def tree(self) -> list[CodeNode]:
        def node(entry: CodeEntry) -> CodeNode:
            return CodeNode(
                code=entry.code,
                label=entry.label,
                definition=entry.definition,
                order=entry.order,
                parent=entry.parent,
                ordinal=entry.ordinal,
                retired_in=entry.retired_in,
                replaced_by=entry.replaced_by,
                children=[node(child) for child in self._children.get(entry.code, [])],
            )

        return [node(entry) for entry in self._children.get(None, [])]

    def out(self) -> DimensionOut:
        source = self.source
        return DimensionOut(
            name=source.name,
            label=source.label,
            description=source.description,
            source=source.source,
            source_url=source.source_url,
            hierarchical=source.hierarchical,
            multiple=source.multiple,
            codes=self.tree(),
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

    def __init__(self, document: TaxonomyDocument, loaded_at: datetime | None = None) -> None:
        self.document = document
        self.version = document.manifest.version
        self.content_hash = content_hash(document)
        self.loaded_at = loaded_at or datetime.now(UTC)
        self.dimensions = {source.name: Dimension(source) for source in document.dimensions}
        self.crosswalks = {source.name: Crosswalk(source) for source in document.crosswalks}
        self.countries: dict[str, Country] = {
            country.code: country for country in document.geography
        }

    def dimension(self, name: str) -> Dimension:
        found = self.dimensions.get(name)
        if found is None:
            raise NotFound(f"No dimension {name!r} in taxonomy version {self.version}")
        return found

    def out(self) -> TaxonomyOut:
        manifest = self.document.manifest
        return TaxonomyOut(
            version=manifest.version,
            released=manifest.released,
            title=manifest.title,
            languages=manifest.languages,
            dimensions=[self.dimensions[name].out() for name in manifest.dimensions],
            crosswalks=[
                CrosswalkOut(name=c.name, source=c.source, target=c.target, entries=c.entries)
                for c in self.document.crosswalks
            ],
        )

    def geography(self) -> GeographyOut:
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
        )

    @functools.cached_property
    def encoded(self) -> bytes:
        return msgspec.json.encode(self.out())


class TaxonomyRegistry:
    """Every loaded version, the current (highest) one first in mind, refreshed from the DB."""

    def __init__(self, check_every: float = 10.0) -> None:
        self.versions: dict[int, Taxonomy] = {}
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
        self.versions[document.manifest.version] = Taxonomy(document)

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
            self.versions[document.manifest.version] = Taxonomy(document, row.loaded_at)

    async def follow(self, database: Database) -> None:
        """Load a version another worker or host has stored, if any: one round trip (the
        newest version number; versions are immutable, so a number seen is a version known)."""
        latest = await fetch_value(database, "SELECT max(version) FROM taxonomy_versions")
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


async def store(
    connection: AsyncConnection, actor: Actor, document: TaxonomyDocument
) -> LoadResult:
    """Record a released version. Loading the same version again changes nothing; a version
    number may not be reused for other content, nor may a new version drop a released code."""
    problems = validate(document)
    if problems:
        raise TaxonomyInvalid(problems)
    digest = content_hash(document)
    version = document.manifest.version
    existing = (
        await connection.execute(
            select(taxonomy_versions.c.content_hash).where(taxonomy_versions.c.version == version)
        )
    ).scalar()
    if existing is not None:
        if existing != digest:
            raise Conflict(
                f"Taxonomy version {version} is already released with other content; "
                "give the changed taxonomy a new version number"
            )
        return LoadResult(version=version, created=False, content_hash=digest)
    latest_row = (
        await connection.execute(
            select(taxonomy_versions.c.version, taxonomy_versions.c.document)
            .order_by(taxonomy_versions.c.version.desc())
            .limit(1)
        )
    ).first()
    if latest_row is not None:
        if version < latest_row.version:
            raise Conflict(
                f"Version {version} is older than the current version {latest_row.version}"
            )
        previous = msgspec.convert(latest_row.document, TaxonomyDocument, strict=False)
        compatibility = list(_compatibility(previous, document))
        if compatibility:
            raise TaxonomyInvalid(compatibility)
    await connection.execute(
        taxonomy_versions.insert().values(
            version=version,
            released=document.manifest.released,
            title=document.manifest.title,
            content_hash=digest,
            document=msgspec.to_builtins(document),
        )
    )
    await append(
        connection,
        actor,
        [
            EventDraft(
                "taxonomy.version_loaded",
                "taxonomy_version",
                str(version),
                None,
                {"version": version, "content_hash": digest},
            )
        ],
    )
    return LoadResult(version=version, created=True, content_hash=digest)


def _compatibility(previous: TaxonomyDocument, new: TaxonomyDocument) -> Iterable[FileProblem]:
    """Released codes are forever: each must still be there (live, or retired with a successor)."""
    new_dimensions = {dimension.name: dimension for dimension in new.dimensions}
    for old in previous.dimensions:
        file = dimension_file(old.name)
        current = new_dimensions.get(old.name)
        if current is None:
            yield FileProblem(
                file, None, f"dimension released in version {previous.manifest.version} was removed"
            )
            continue
        kept = {entry.code: entry for entry in current.codes}
        for entry in old.codes:
            successor = kept.get(entry.code)
            if successor is None:
                yield FileProblem(
                    file, entry.code, "a released code was removed; retire it instead"
                )
            elif entry.retired_in is not None and successor.retired_in is None:
                yield FileProblem(file, entry.code, "a retired code cannot come back to life")


class Change(msgspec.Struct):
    kind: Literal["added", "retired", "relabelled", "redefined", "moved", "crosswalk"]
    dimension: str
    code: str
    detail: str


def diff(old: TaxonomyDocument, new: TaxonomyDocument) -> list[Change]:
    """What a reviewer needs to see between two versions."""
    changes: list[Change] = []
    old_dimensions = {dimension.name: dimension for dimension in old.dimensions}
    for dimension in new.dimensions:
        previous = old_dimensions.get(dimension.name)
        before = {entry.code: entry for entry in previous.codes} if previous else {}
        for entry in dimension.codes:
            was = before.get(entry.code)
            if was is None:
                changes.append(
                    Change("added", dimension.name, entry.code, entry.label.get("en", ""))
                )
                continue
            if entry.retired_in is not None and was.retired_in is None:
                changes.append(
                    Change(
                        "retired", dimension.name, entry.code, f"replaced by {entry.replaced_by}"
                    )
                )
            for language in sorted(set(entry.label) | set(was.label)):
                if entry.label.get(language) != was.label.get(language):
                    changes.append(
                        Change(
                            "relabelled",
                            dimension.name,
                            entry.code,
                            f"[{language}] {was.label.get(language)!r} -> "
                            f"{entry.label.get(language)!r}",
                        )
                    )
            if entry.definition != was.definition:
                changes.append(
                    Change("redefined", dimension.name, entry.code, "definition changed")
                )
            if entry.parent != was.parent:
                changes.append(
                    Change(
                        "moved",
                        dimension.name,
                        entry.code,
                        f"parent {was.parent} -> {entry.parent}",
                    )
                )
    return changes


async def versions_in_database(connection: AsyncConnection) -> list[int]:
    rows = await connection.execute(
        select(taxonomy_versions.c.version).order_by(taxonomy_versions.c.version)
    )
    return [int(version) for version in rows.scalars()]


async def document_of(connection: AsyncConnection, version: int) -> TaxonomyDocument:
    raw = (
        await connection.execute(
            select(taxonomy_versions.c.document).where(taxonomy_versions.c.version == version)
        )
    ).scalar()
    if raw is None:
        raise NotFound(f"No taxonomy version {version} in the database")
    return msgspec.convert(raw, TaxonomyDocument, strict=False)
