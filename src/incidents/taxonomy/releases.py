"""Releasing taxonomy versions into the database: a released version is kept whole and forever
(its number never reused for other content, its codes never dropped, only retired), each
release written to the audit log."""

from __future__ import annotations

from collections.abc import Iterable

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.audit.service import Actor, EventDraft, append
from incidents.errors import Conflict, NotFound
from incidents.taxonomy.files import TaxonomyInvalid, dimension_file, validate
from incidents.taxonomy.models import taxonomy_versions
from incidents.taxonomy.schemas import FileProblem, LoadResult, TaxonomyDocument
from incidents.taxonomy.service import content_hash


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
