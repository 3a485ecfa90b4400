"""Response helpers shared by controllers: conditional GETs with ETags."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.status_codes import HTTP_304_NOT_MODIFIED

from incidents.languages import language_tag

JSON = "application/json"


def etag_matches(request: Request[Any, Any, Any], etag: str) -> bool:
    header = request.headers.get("if-none-match")
    if not header:
        return False
    offered = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in offered or etag in offered


def language_headers(language: str) -> dict[str, str]:
    """An answer whose words follow `Accept-Language`: which language (as the tag of what is
    served: ``zh-Hans`` for the Chinese catalogs), and that caches must key on the header."""
    return {"Content-Language": language_tag(language), "Vary": "Accept-Language"}


def cacheable(
    request: Request[Any, Any, Any],
    body: bytes,
    etag: str,
    *,
    max_age: int = 60,
    language: str | None = None,
) -> Response[bytes]:
    """A public JSON body with a strong ETag; 304 when the client already has it. With a
    language, the ETag must already differ per language (the caller puts it in)."""
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={max_age}"}
    if language is not None:
        headers |= language_headers(language)
    if etag_matches(request, etag):
        return Response(content=b"", status_code=HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(content=body, media_type=JSON, headers=headers)
