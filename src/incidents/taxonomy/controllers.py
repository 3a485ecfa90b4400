"""The taxonomy and geography over HTTP: public, cacheable; the secretariat loads new versions."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.languages.negotiation import negotiate
from incidents.members.guards import require_secretariat, seen_of
from incidents.members.schemas import Principal
from incidents.members.service import actor_for
from incidents.openapi import problems
from incidents.responses import cacheable
from incidents.taxonomy import schemas
from incidents.taxonomy.releases import store
from incidents.taxonomy.service import TaxonomyRegistry


async def provide_taxonomy(state: State, request: Request[Any, Any, Any]) -> TaxonomyRegistry:
    """The registry, with any version another worker or host has loaded since the last request
    (checked on every request: one round trip, or none when the request's key check already
    read the newest version)."""
    registry: TaxonomyRegistry = state.taxonomy
    seen = seen_of(request)
    if seen is None:
        await registry.follow(state.database)
    else:
        await registry.saw(seen.taxonomy, state.database)
    return registry


async def provide_known_countries(
    taxonomy: NamedDependency[TaxonomyRegistry],
) -> frozenset[str]:
    """The current taxonomy's country codes: what a jurisdiction may be (members' rule, given
    to them as a plain set so members/ need not know the taxonomy)."""
    return frozenset(taxonomy.current.countries)


class VersionPage(msgspec.Struct, kw_only=True):
    """Every released version, oldest first (one page: versions are few)."""

    items: list[schemas.VersionSummary]
    next: str | None


def _etag(*parts: object) -> str:
    digest = hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()[:32]
    return f'"{digest}"'


def _language(request: Request[Any, Any, Any]) -> str:
    return negotiate(request.headers.get("accept-language"))


def _documented(model: type[Any], *statuses: int) -> dict[int, ResponseSpec]:
    specs = problems(*statuses)
    specs[200] = ResponseSpec(data_container=model, description="OK (with an ETag)")
    specs[304] = ResponseSpec(data_container=None, description="Not modified (If-None-Match)")
    return specs


class TaxonomyController(Controller):
    path = "/api/v1"
    tags = ("Taxonomy",)

    @get(
        "/taxonomy",
        operation_id="GetTaxonomy",
        summary="The current taxonomy, every dimension as a tree",
        responses=_documented(schemas.TaxonomyOut, 503),
    )
    async def current(
        self, request: Request[Any, Any, Any], taxonomy: NamedDependency[TaxonomyRegistry]
    ) -> Response[bytes]:
        current, language = taxonomy.current, _language(request)
        return cacheable(
            request,
            current.encoded(language),
            _etag("taxonomy", current.content_hash, language),
            language=language,
        )

    @get(
        "/taxonomy/versions",
        operation_id="ListTaxonomyVersions",
        summary="Every released version",
        responses=_documented(VersionPage, 503),
    )
    async def versions(
        self, request: Request[Any, Any, Any], taxonomy: NamedDependency[TaxonomyRegistry]
    ) -> Response[bytes]:
        summaries = taxonomy.summaries()
        body = msgspec.json.encode({"items": summaries, "next": None})
        return cacheable(request, body, _etag("versions", *(s.content_hash for s in summaries)))

    @get(
        "/taxonomy/versions/{version:int}",
        operation_id="GetTaxonomyVersion",
        summary="One released version, whole",
        responses=_documented(schemas.TaxonomyOut, 404),
    )
    async def version(
        self,
        request: Request[Any, Any, Any],
        taxonomy: NamedDependency[TaxonomyRegistry],
        version: FromPath[int],
    ) -> Response[bytes]:
        found, language = taxonomy.get(version), _language(request)
        return cacheable(
            request,
            found.encoded(language),
            _etag("taxonomy", found.content_hash, language),
            max_age=3600,
            language=language,
        )

    @get(
        "/taxonomy/dimensions/{name:str}",
        operation_id="GetTaxonomyDimension",
        summary="One dimension's codes as a tree",
        responses=_documented(schemas.DimensionOut, 404, 422),
    )
    async def dimension(
        self,
        request: Request[Any, Any, Any],
        taxonomy: NamedDependency[TaxonomyRegistry],
        name: FromPath[str],
        version: Annotated[
            int | None, QueryParameter(description="A released version; default current")
        ] = None,
    ) -> Response[bytes]:
        chosen = taxonomy.current if version is None else taxonomy.get(version)
        dimension, language = chosen.dimension(name), _language(request)
        body = msgspec.json.encode(dimension.out(language))
        return cacheable(
            request,
            body,
            _etag("dimension", name, chosen.content_hash, language),
            language=language,
        )

    @get(
        "/geography",
        operation_id="GetGeography",
        summary="Countries with UN M49 regions and the development grouping (Global South lens)",
        responses=_documented(schemas.GeographyOut, 503),
    )
    async def geography(
        self, request: Request[Any, Any, Any], taxonomy: NamedDependency[TaxonomyRegistry]
    ) -> Response[bytes]:
        current, language = taxonomy.current, _language(request)
        body = msgspec.json.encode(current.geography(language))
        return cacheable(
            request, body, _etag("geography", current.content_hash, language), language=language
        )

    @post(
        "/taxonomy/versions",
        operation_id="LoadTaxonomyVersion",
        status_code=201,
        summary="Release a new taxonomy version (the same version again changes nothing)",
        guards=[require_secretariat],
        responses=problems(401, 403, 409, 413, 422),
    )
    async def load(
        self,
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal],
        taxonomy: NamedDependency[TaxonomyRegistry],
        data: JSONBody[schemas.TaxonomyDocument],
    ) -> Response[schemas.LoadResult]:
        result = await store(db, actor_for(principal), data)
        if result.created:
            taxonomy.add(data)
        return Response(content=result, status_code=201 if result.created else 200)
