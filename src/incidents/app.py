"""create_app(settings) -> Litestar: the only place where the service is wired together."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import anyio
import msgspec
from litestar import Litestar, Request
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import OpenAPIConfig
from litestar.types import Message, Receive, Scope, Send
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents import __version__
from incidents.briefs.controllers import BriefController
from incidents.briefs.making import fail_interrupted
from incidents.config import Settings
from incidents.db import Database, create_engine
from incidents.docs import assets_router, render_plugins
from incidents.edge import (
    BINARY_BODY_PATHS,
    BodyGuard,
    RequestShapeMiddleware,
    close_request,
    strip_body,
    text_problems,
    with_header,
)
from incidents.errors import (
    PROBLEM_MEDIA_TYPE,
    FieldError,
    IncidentsError,
    Problem,
    database_unavailable,
    handle_incidents_error,
    handle_unexpected,
    problem_type,
)
from incidents.health import HealthController
from incidents.ids import new_id
from incidents.incidents.controllers import DOWNLOADS as INCIDENT_DOWNLOADS
from incidents.incidents.controllers import IncidentController
from incidents.languages.catalogs import load_translations
from incidents.members.authentication import Authenticator
from incidents.members.controllers import MemberController
from incidents.members.guards import AuthenticationMiddleware, provide_principal
from incidents.members.schemas import Principal
from incidents.oversight.controllers import AuditController
from incidents.reports.controllers import DOWNLOADS as REPORT_DOWNLOADS
from incidents.reports.controllers import ReportController
from incidents.reports.public_cache import PUBLIC_COUNTS
from incidents.taxonomy.controllers import (
    TaxonomyController,
    provide_known_countries,
    provide_taxonomy,
)
from incidents.taxonomy.service import TaxonomyRegistry
from incidents.transactions import after_commit, transaction
from incidents.trends.controllers import TrendController
from incidents.validation import handle_validation_exception
from incidents.web.errors import page_or_problem_http
from incidents.web.pages import GROUPS_STATE_KEY
from incidents.web.router import pages_router, static_router
from incidents.web.site import page_groups
from incidents.web.templating import template_config

access_log = logging.getLogger("incidents.access")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class App(Litestar):
    """Litestar, plus one access-log line and a request id for every request, the edge's text
    checks, HEAD wherever GET, and an Allow header that lists every method.

    Done here rather than in a middleware because Litestar runs no middleware for requests that
    match no route (404, 405), and those must be logged and carry a request id too.
    """

    _allowed_cache: dict[str, list[str]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._allowed_cache = {}

    async def __call__(  # type: ignore[override]  # Litestar declares narrower ASGI types
        self, scope: Scope, receive: Receive, send: Send
    ) -> None:
        if scope["type"] != ScopeType.HTTP:
            await super().__call__(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _incoming_request_id(scope) or new_id().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        method = scope["method"]

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
                if method == "OPTIONS" or status == 405:
                    # Litestar's own Allow can miss methods added by a later controller.
                    allowed = ", ".join(self._methods_for(scope["path"]))
                    message = with_header(message, b"allow", allowed.encode())
            await send(message)

        try:
            problems = text_problems(scope)
            if problems:
                await _reject(scope, send_with_id, problems)
                return
            sender: Send = send_with_id
            if method == "HEAD" and "GET" in self._methods_for(scope["path"]):
                scope["method"] = "GET"
                sender = strip_body(send_with_id)
            checked = method in {"POST", "PUT", "PATCH"} and scope["path"] not in BINARY_BODY_PATHS
            guarded = BodyGuard(receive) if checked else receive
            await super().__call__(scope, guarded, sender)
        finally:
            # Shielded: a client that went away cancels the request, not its clean-up.
            with anyio.CancelScope(shield=True):
                await close_request(scope)
            access_log.info(
                "%s %s %s %d %.1fms",
                request_id,
                scope["method"],
                scope["path"],
                status,
                (time.perf_counter() - started) * 1000,
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )

    def _methods_for(self, path: str) -> list[str]:
        """Every method the path answers (HEAD wherever GET), for Allow and for HEAD."""
        found = self._allowed_cache.get(path)
        if found is None:
            methods = set()
            for candidate in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                try:
                    self.asgi_router.handle_routing(path=path, method=candidate)
                except HTTPException:
                    continue
                methods.add(candidate)
            if "GET" in methods:
                methods.add("HEAD")
            found = sorted(methods | {"OPTIONS"}) if methods else []
            if len(self._allowed_cache) < 10_000:
                self._allowed_cache[path] = found
        return found


async def _reject(scope: Scope, send: Send, problems: list[FieldError]) -> None:
    """Answer a request whose text is unusable before it reaches routing or any handler."""
    body = msgspec.json.encode(
        Problem(
            type=problem_type("bad-request"),
            title="Bad request",
            status=400,
            detail="The request's path, query or headers hold text this service cannot store",
            instance=scope["path"].encode("utf-8", "replace").decode("utf-8", "replace"),
            request_id=scope["state"]["request_id"],
            errors=problems,
        )
    )
    await send(
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [
                (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _REQUEST_ID.match(text) else None
    return None


async def provide_db(
    state: State,
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal | None],
    taxonomy: NamedDependency[TaxonomyRegistry],
) -> AsyncIterator[AsyncConnection]:
    """The request's transaction: committed when the handler succeeds, rolled back on error;
    what the handler's work promised for after the commit (`after_commit`) runs once it is done.

    It takes the other app-wide dependencies (unused) so that Litestar resolves it after them,
    in a step of its own: resolved side by side, when another dependency failed (a filter out
    of bounds, 422) after this one had taken its connection, Litestar dropped the clean-up of
    this generator, and the connection went to the garbage collector ("non-checked-in
    connection", "aclose(): asynchronous generator is already running"). A dependency that
    fails now fails before any connection is taken."""
    del taxonomy
    database: Database = state.database
    async with transaction(database) as connection:
        if principal is not None and request.method not in {"GET", "HEAD"}:
            # The writer's reads stay on the primary until a replica has replayed this.
            after_commit(connection, partial(database.wrote, principal.organization_id))
        yield connection


async def startup(app: Litestar) -> None:
    """Connect (unless a Database was handed in) and prepare what requests need in memory."""
    settings: Settings = app.state.settings
    if app.state.database is None:
        if settings.database_url is None:
            raise RuntimeError("create_app needs settings.database_url or a Database")
        replica = settings.read_database_url
        app.state.database = Database(
            create_engine(settings.database_url, pool_size=settings.db_pool_size),
            replica=create_engine(replica, pool_size=settings.db_pool_size) if replica else None,
            max_lag=settings.read_max_lag_seconds,
        )
    app.state.authenticator = Authenticator(app.state.database, settings.auth_cache_seconds)
    PUBLIC_COUNTS.configure(settings.public_cache_entries)
    log = logging.getLogger("incidents.app")
    try:
        await fail_interrupted(app.state.database)
        async with app.state.database.transaction() as connection:
            await app.state.taxonomy.refresh(connection, force=True)
    except Exception as error:
        # Not migrated yet, or the database is down: /ready says so, requests answer 503, and
        # the taxonomy is read again once it can be.
        if not (isinstance(error, DBAPIError) or database_unavailable(error)):
            raise
        log.warning("taxonomy not loaded at startup: %s", getattr(error, "orig", error))


async def shutdown(app: Litestar) -> None:
    if app.state.owns_database and app.state.database is not None:
        await app.state.database.dispose()
        app.state.database = None


def cors(settings: Settings) -> CORSConfig | None:
    """Browser pages on the allowed origins may call the API (off unless origins are listed).
    Keys travel in the Authorization header, never in cookies: no credentials mode."""
    if not settings.cors_origins:
        return None
    return CORSConfig(
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "HEAD", "POST", "PATCH", "OPTIONS"],
        allow_headers=[
            "Authorization",
            "Content-Type",
            "If-Match",
            "If-None-Match",
            "Idempotency-Key",
            "X-Request-ID",
        ],
        expose_headers=[
            "ETag",
            "Link",
            "Location",
            "Retry-After",
            "X-Request-ID",
            "Idempotent-Replayed",
            "Content-Disposition",
        ],
        allow_credentials=False,
        max_age=600,
    )


def create_app(settings: Settings, *, database: Database | None = None) -> App:
    """Build the service. Without ``database``, one is created from ``settings.database_url``."""

    exception_handlers: dict[Any, Any] = {
        IncidentsError: handle_incidents_error,
        ValidationException: handle_validation_exception,
        # An address no route takes is a page for browsers, problem details under /api.
        HTTPException: page_or_problem_http,
        Exception: handle_unexpected,
    }
    groups = page_groups()
    return App(
        route_handlers=[
            HealthController,
            MemberController,
            TaxonomyController,
            ReportController,
            IncidentController,
            *REPORT_DOWNLOADS,
            *INCIDENT_DOWNLOADS,
            AuditController,
            TrendController,
            BriefController,
            assets_router(),
            static_router(),
            pages_router(settings, groups),
        ],
        dependencies={
            "db": Provide(provide_db),
            "principal": Provide(provide_principal),
            "taxonomy": Provide(provide_taxonomy),
            "known_countries": Provide(provide_known_countries),
        },
        middleware=[RequestShapeMiddleware(), AuthenticationMiddleware()],
        exception_handlers=exception_handlers,
        on_startup=[startup],
        on_shutdown=[shutdown],
        state=State(
            {
                "settings": settings,
                "taxonomy": TaxonomyRegistry(translations=load_translations(settings.taxonomy_dir)),
                "database": database,
                "owns_database": database is None,
                GROUPS_STATE_KEY: groups,
            }
        ),
        request_max_body_size=settings.max_body_bytes,
        cors_config=cors(settings),
        openapi_config=OpenAPIConfig(
            title="AI incident and risk registry",
            version=__version__,
            description=(
                "Member regulators file AI incident reports against a shared taxonomy under TLP "
                "sharing levels; researchers query records and disclosure-controlled trends; the "
                "secretariat reviews, links and publishes risk briefs. Authenticate with "
                "`Authorization: Bearer <api key>`; without a key you are the public."
            ),
            path="/schema",
            render_plugins=render_plugins(),
        ),
        template_config=template_config(),
        logging_config=None,
        debug=False,
    )


def create_app_from_environment() -> App:
    """For worker processes started by uvicorn (``--workers``, ``--reload``)."""
    from incidents.config import settings_from_env
    from incidents.logs import configure_logging

    settings = settings_from_env()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)
