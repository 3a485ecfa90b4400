"""Validators for the public's pages: a visitor without a session who asks again for a page of
public reports (search over reports, one report) with the ETag it was given gets 304 Not
Modified after one small read (the `public_reports` generation), without the page's queries.

The ETag is a SHA-256 of only what such a page depends on and the visitor may see: the public
generation (moved by any change to a report public before or after it, reports/public_cache.py),
the newest taxonomy version (its labels), the address with its query, the page's language, the
visitor's own CSRF cookie (the page's forms carry it), the service's version and its templates
and catalogs.

A repeated read is answered before the page's dependencies are resolved (`answer_unchanged`, the
pages' before-request hook): both counters in one round trip outside any transaction, no request
transaction, no taxonomy check. A miss keeps the tag it read for the page, read before the
page's records: a change committed in between gives the page a tag that no longer holds, never
an old page a tag that does.
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

import incidents
from incidents.db import fetch_row
from incidents.members.guards import principal_of
from incidents.reports.public_cache import GENERATION
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


_COUNTERS = (
    "SELECT (SELECT generation FROM cache_generations WHERE name = $1),"
    " (SELECT max(version) FROM taxonomy_versions)"
)
_TAG_KEY = "public_etag"


async def public_etag(request: Request[Any, Any, Any]) -> str:
    """The tag of this page for this anonymous visitor at the current public generation and
    taxonomy version (read once per request)."""
    state = request.scope.setdefault("state", {})
    if (known := state.get(_TAG_KEY)) is not None:
        return str(known)
    generation, taxonomy = await fetch_row(request.app.state.database, _COUNTERS, GENERATION)
    parts = [
        _BUILD.hex(),
        str(generation),
        str(taxonomy),
        request.url.path,
        request.url.query or "",
        language_of(request),
        request.cookies.get(CSRF_COOKIE, ""),
    ]
    digest = hashlib.sha256("\x1f".join(parts).encode())
    state[_TAG_KEY] = tag = f'W/"{digest.hexdigest()[:32]}"'
    return tag


async def answer_unchanged(request: Request[Any, Any, Any]) -> Response[None] | None:
    """304 for an anonymous visitor whose tag still holds, before the page's dependencies; None
    lets the page be made. Only the public's view of search (reports) is validated."""
    if principal_of(request) is not None or not request.headers.get("if-none-match"):
        return None
    if request.query_params.get("view", "reports") != "reports":
        return None
    etag = await public_etag(request)
    return not_modified(etag) if matches(request, etag) else None


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
