"""Response helpers shared by controllers: conditional GETs with ETags."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.status_codes import HTTP_304_NOT_MODIFIED

JSON = "application/json"


def etag_matches(request: Request[Any, Any, Any], etag: str) -> bool:
    header = request.headers.get("if-none-match")
    if not header:
        return False
    offered = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in offered or etag in offered


def cacheable(
    request: Request[Any, Any, Any], body: bytes, etag: str, *, max_age: int = 60
) -> Response[bytes]:
    """A public JSON body with a strong ETag; 304 when the client already has it."""
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={max_age}"}
    if etag_matches(request, etag):
        return Response(content=b"", status_code=HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(content=body, media_type=JSON, headers=headers)
