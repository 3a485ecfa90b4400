"""The web interface mounted at ``/``: every page group's handlers behind the pages' own
middleware (language and session, CSRF on every form, gzip) and HTML error handling, plus the
pages' static files. The API under ``/api/v1`` is untouched by any of it."""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from litestar import Router
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import HTTPException, ValidationException
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.compression import CompressionMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.static_files import create_static_files_router

from incidents.config import Settings
from incidents.errors import IncidentsError
from incidents.web.errors import handle_page_error
from incidents.web.middleware import CSRF_COOKIE, WebSessionMiddleware
from incidents.web.pages import PageGroup, SignInRequired
from incidents.web.templating import STATIC, STATIC_PATH

#: What a page's form may post (the edge refuses any other body media type).
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
CSRF_HEADER = "x-csrftoken"
_SECRET_FILE = "web-secret"  # noqa: S105  # the file name, not the secret


def csrf_secret(settings: Settings) -> str:
    """The setting, or a random secret kept in the data directory (owner-only), so that every
    worker and every restart signs tokens alike."""
    if settings.web_secret:
        return settings.web_secret
    path = Path(settings.data_dir) / _SECRET_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker wrote it first
        return path.read_text().strip()
    with os.fdopen(descriptor, "w") as file:
        file.write(secret)
    return secret


def compression() -> DefineMiddleware:
    return DefineMiddleware(
        CompressionMiddleware, config=CompressionConfig(backend="gzip", minimum_size=500)
    )


def pages_router(settings: Settings, groups: Sequence[PageGroup]) -> Router:
    csrf = CSRFConfig(
        secret=csrf_secret(settings),
        cookie_name=CSRF_COOKIE,
        header_name=CSRF_HEADER,
        cookie_httponly=True,
        cookie_samesite="strict",
        cookie_secure=settings.web_secure_cookies,
    )
    on_error = handle_page_error
    return Router(
        path="/",
        route_handlers=[handler for group in groups for handler in group.handlers],
        middleware=[
            compression(),
            DefineMiddleware(CSRFMiddleware, config=csrf),
            WebSessionMiddleware(),
        ],
        exception_handlers={
            IncidentsError: on_error,
            ValidationException: on_error,
            HTTPException: on_error,
            SignInRequired: on_error,
            Exception: on_error,
        },
        opt={"accepts": FORM_TYPES},
        include_in_schema=False,
        # Pages hold what a visitor may see: never in a shared cache.
        cache_control=CacheControlHeader(no_store=True),
    )


def static_router() -> Router:
    return create_static_files_router(
        path=STATIC_PATH,
        directories=[STATIC],
        include_in_schema=False,
        name="web-static",
        cache_control=CacheControlHeader(max_age=86400, public=True),
        middleware=[compression()],
    )
