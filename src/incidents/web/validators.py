"""Validators for the public's pages: a visitor without a session who asks again for a page of
public reports (search over reports, one report) with the ETag it was given gets 304 Not
Modified after one small read (the `public_reports` generation), without the page's queries.

The ETag is a SHA-256 of only what such a page depends on and the visitor may see: the public
generation (moved by any change to a report public before or after it, reports/public_cache.py),
the address with its query, the page's language, the visitor's own CSRF cookie (the page's forms
carry it), the service's version and its templates and catalogs.
It says nothing about records the public may not see. A tag made up by hand gains nothing: the
304 is decided before the page's records are read, so it is the same for an address that shows a
report and one that would answer 404, and the generation it would confirm counts only changes
the public can see happen. Signed-in visitors never get one (their pages show what only they
may see), nor do error pages.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from litestar import Request, Response
from litestar.datastructures import CacheControlHeader
from litestar.status_codes import HTTP_304_NOT_MODIFIED
from sqlalchemy.ext.asyncio import AsyncConnection

import incidents
from incidents.reports.public_cache import public_generation
from incidents.web.i18n import language_of
from incidents.web.middleware import CSRF_COOKIE

#: For a validated page: a browser keeps it, and asks (If-None-Match) before reuse; never a
#: shared cache. The same handlers answer a signed-in visitor "no-store", as every other page.
VALIDATED = CacheControlHeader(private=True, no_cache=True)


def _build() -> bytes:
    """The version and every template and catalog: a new release's pages never match old tags."""
    package = Path(incidents.__file__).parent
    digest = hashlib.sha256(incidents.__version__.encode())
    for folder in (package / "web" / "templates", package / "locales"):
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                digest.update(path.relative_to(package).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.digest()


_BUILD = _build()


async def public_etag(request: Request[Any, Any, Any], db: AsyncConnection) -> str:
    """The tag of this page for this anonymous visitor at the current public generation."""
    generation = await public_generation(db)
    parts = [
        _BUILD.hex(),
        str(generation),
        request.url.path,
        request.url.query or "",
        language_of(request),
        request.cookies.get(CSRF_COOKIE, ""),
    ]
    digest = hashlib.sha256("\x1f".join(parts).encode())
    return f'W/"{digest.hexdigest()[:32]}"'


def matches(request: Request[Any, Any, Any], etag: str) -> bool:
    """Whether If-None-Match names ``etag`` (weak comparison, as RFC 9110 asks for GET)."""
    wanted = request.headers.get("if-none-match")
    if not wanted:
        return False
    if wanted.strip() == "*":
        return False  # only ever a tag this service issued
    tags = {tag.strip().removeprefix("W/") for tag in wanted.split(",")}
    return etag.removeprefix("W/") in tags


def not_modified(etag: str) -> Response[None]:
    return Response(content=None, status_code=HTTP_304_NOT_MODIFIED, headers={"ETag": etag})


def validated_headers(etag: str | None) -> dict[str, str]:
    """The page's ETag for the public; "no-store" for anyone signed in."""
    if etag is None:
        return {"Cache-Control": "no-store"}
    return {"ETag": etag}
