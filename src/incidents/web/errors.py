"""The pages' errors as HTML: one not-found page for what does not exist and what the visitor
may not see (the same bytes for both), the sign-in form for a members' page, and an error page
naming what went wrong. The API's errors stay problem details."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.exceptions import HTTPException, PermissionDeniedException
from litestar.response import Redirect

from incidents.errors import (
    IncidentsError,
    database_unavailable,
    handle_http_exception,
)
from incidents.web.i18n import choose_translations
from incidents.web.pages import SignInRequired
from incidents.web.templating import page

logger = logging.getLogger("incidents.web")

# Paths that belong to the API or its machinery: their errors stay problem details.
_MACHINE_PREFIXES = ("/api/", "/schema", "/health", "/ready", "/static/docs")


def is_page_path(path: str) -> bool:
    return not path.startswith(_MACHINE_PREFIXES)


def not_found_page(request: Request[Any, Any, Any]) -> Response[Any]:
    # Nothing about the request (not even the address) is echoed: a record that does not exist
    # and one the visitor may not see answer byte for byte alike.
    return page(request, "not_found.html", status_code=404)


def error_page(
    request: Request[Any, Any, Any], status: int, detail: str, headers: dict[str, str] | None = None
) -> Response[Any]:
    return page(
        request,
        "error.html",
        {"status": status, "detail": detail},
        status_code=status,
        headers=headers,
    )


def sign_in_redirect(request: Request[Any, Any, Any]) -> Response[Any]:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    return Redirect(f"/sign-in?next={quote(target, safe='')}", status_code=303)


def handle_page_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Every error raised while serving a page (or in the pages' middleware) -> HTML."""
    if "web_translations" not in request.scope.get("state", {}):
        choose_translations(request)
    if isinstance(exc, SignInRequired):
        return sign_in_redirect(request)
    if isinstance(exc, IncidentsError):
        if exc.status == 404:
            return not_found_page(request)
        if exc.status == 401:
            return sign_in_redirect(request)
        return error_page(request, exc.status, exc.detail, exc.headers)
    if isinstance(exc, PermissionDeniedException) and "CSRF" in str(exc.detail):
        return error_page(request, 403, "csrf")
    if isinstance(exc, HTTPException):
        if exc.status_code == 404:
            return not_found_page(request)
        return error_page(request, exc.status_code, exc.detail)
    if database_unavailable(exc):
        return error_page(request, 503, "database", {"Retry-After": "5"})
    logger.error("unhandled error on a page path=%s", request.url.path, exc_info=exc)
    return error_page(request, 500, "internal")


def page_or_problem_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """The app-wide handler for requests no route took (an unknown address, a wrong method):
    a page for page paths, problem details for the API's."""
    if is_page_path(request.url.path) and exc.status_code in {404, 405}:
        return handle_page_error(request, exc)
    return handle_http_exception(request, exc)
