"""create_app(settings) -> Litestar: the only place where the service is wired together."""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator
from typing import Any

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.types import Message, Receive, Scope, Send
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents import __version__
from incidents.audit.controllers import AuditController
from incidents.briefs.controllers import BriefController
from incidents.briefs.service import fail_interrupted
from incidents.config import Settings
from incidents.db import Database, create_engine
from incidents.errors import (
    IncidentsError,
    handle_http_exception,
    handle_incidents_error,
    handle_unexpected,
)
from incidents.health import HealthController
from incidents.ids import new_id
from incidents.members.controllers import MemberController
from incidents.members.guards import AuthenticationMiddleware, provide_principal
from incidents.members.service import Authenticator
from incidents.reports.controllers import IncidentController, ReportController
from incidents.taxonomy.controllers import TaxonomyController, provide_taxonomy
from incidents.taxonomy.service import TaxonomyRegistry
from incidents.trends.controllers import TrendController
from incidents.validation import handle_validation_exception

access_log = logging.getLogger("incidents.access")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class App(Litestar):
    """Litestar, plus one access-log line and a request id for every request.

    Done here rather than in a middleware because Litestar runs no middleware for requests that
    match no route (404, 405), and those must be logged and carry a request id too.
    """

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

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await super().__call__(scope, receive, send_with_id)
        finally:
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


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _REQUEST_ID.match(text) else None
    return None


async def provide_db(state: State) -> AsyncIterator[AsyncConnection]:
    """The request's transaction: committed when the handler succeeds, rolled back on error."""
    database: Database = state.database
    async with database.transaction() as connection:
        yield connection


async def startup(app: Litestar) -> None:
    """Connect (unless a Database was handed in) and prepare what requests need in memory."""
    settings: Settings = app.state.settings
    if app.state.database is None:
        if settings.database_url is None:
            raise RuntimeError("create_app needs settings.database_url or a Database")
        app.state.database = Database(
            create_engine(settings.database_url, pool_size=settings.db_pool_size)
        )
    app.state.authenticator = Authenticator(app.state.database, settings.auth_cache_seconds)
    with contextlib.suppress(DBAPIError):  # not migrated yet: /ready says so
        await fail_interrupted(app.state.database)
    try:
        async with app.state.database.transaction() as connection:
            await app.state.taxonomy.refresh(connection, force=True)
    except DBAPIError as error:
        # Not migrated yet: /ready says so, and the taxonomy is read again once it can be.
        logging.getLogger("incidents.app").warning("taxonomy not loaded at startup: %s", error.orig)


async def shutdown(app: Litestar) -> None:
    if app.state.owns_database and app.state.database is not None:
        await app.state.database.dispose()
        app.state.database = None


def create_app(settings: Settings, *, database: Database | None = None) -> App:
    """Build the service. Without ``database``, one is created from ``settings.database_url``."""

    exception_handlers: dict[Any, Any] = {
        IncidentsError: handle_incidents_error,
        ValidationException: handle_validation_exception,
        HTTPException: handle_http_exception,
        Exception: handle_unexpected,
    }
    return App(
        route_handlers=[
            HealthController,
            MemberController,
            TaxonomyController,
            ReportController,
            IncidentController,
            AuditController,
            TrendController,
            BriefController,
        ],
        dependencies={
            "db": Provide(provide_db),
            "principal": Provide(provide_principal),
            "taxonomy": Provide(provide_taxonomy),
        },
        middleware=[AuthenticationMiddleware()],
        exception_handlers=exception_handlers,
        on_startup=[startup],
        on_shutdown=[shutdown],
        state=State(
            {
                "settings": settings,
                "taxonomy": TaxonomyRegistry(),
                "database": database,
                "owns_database": database is None,
            }
        ),
        request_max_body_size=settings.max_body_bytes,
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
            render_plugins=[ScalarRenderPlugin(path="/"), SwaggerRenderPlugin(path="/swagger")],
        ),
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
