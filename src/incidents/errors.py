"""The error tree and the one handler that renders every error as RFC 9457 problem details."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

logger = logging.getLogger("incidents.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"

#: Seconds a client should wait before retrying while the database is unreachable.
RETRY_AFTER_SECONDS = 5


class FieldError(msgspec.Struct, omit_defaults=True):
    """One field at fault: a path such as ``harms[0].domain`` and why it was refused."""

    field: str
    message: str
    index: int | None = None
    """For batch input, the position of the item at fault."""


class Problem(msgspec.Struct, omit_defaults=True):
    """An RFC 9457 problem details body."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None


class IncidentsError(Exception):
    """Base of every error the service raises on purpose; each subclass carries its status."""

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal server error"

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[FieldError] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors) if errors else None
        self.headers = dict(headers or {})


class BadRequest(IncidentsError):
    status, slug, title = 400, "bad-request", "Bad request"


class Unauthorized(IncidentsError):
    status, slug, title = 401, "unauthorized", "Unauthorized"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="incidents"'})


class Forbidden(IncidentsError):
    status, slug, title = 403, "forbidden", "Forbidden"


class NotFound(IncidentsError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(IncidentsError):
    status, slug, title = 409, "conflict", "Conflict"


class Gone(IncidentsError):
    status, slug, title = 410, "gone", "Gone"


class PreconditionFailed(IncidentsError):
    status, slug, title = 412, "precondition-failed", "Precondition failed"


class PayloadTooLarge(IncidentsError):
    status, slug, title = 413, "payload-too-large", "Payload too large"


class UnsupportedMediaType(IncidentsError):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class ValidationFailed(IncidentsError):
    status, slug, title = 422, "validation", "Validation failed"


class PreconditionRequired(IncidentsError):
    status, slug, title = 428, "precondition-required", "Precondition required"


class ServiceUnavailable(IncidentsError):
    status, slug, title = 503, "service-unavailable", "Service unavailable"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


_HTTP_TITLES = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    429: ("too-many-requests", "Too many requests"),
}


def problem_type(slug: str) -> str:
    return f"urn:incidents:problem:{slug}"


def problem_response(problem: Problem, headers: Mapping[str, str] | None = None) -> Response[bytes]:
    return Response(
        content=msgspec.json.encode(problem),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=dict(headers or {}),
    )


def request_id_of(request: Request[Any, Any, Any]) -> str | None:
    value = request.scope.get("state", {}).get("request_id")
    return value if isinstance(value, str) else None


def handle_incidents_error(request: Request[Any, Any, Any], exc: IncidentsError) -> Response[bytes]:
    return problem_response(
        Problem(
            type=problem_type(exc.slug),
            title=exc.title,
            status=exc.status,
            detail=exc.detail,
            instance=request.url.path,
            request_id=request_id_of(request),
            errors=exc.errors,
        ),
        exc.headers,
    )


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    status = exc.status_code
    slug, title = _HTTP_TITLES.get(status, ("http-error", "HTTP error"))
    detail = exc.detail
    if status == 413:
        detail = "The request body is larger than this endpoint accepts"
    return problem_response(
        Problem(
            type=problem_type(slug),
            title=title,
            status=status,
            detail=detail,
            instance=request.url.path,
            request_id=request_id_of(request),
        ),
        exc.headers,
    )


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) means the database cannot be reached right now: a
    refused or lost connection, a server starting up or shutting down, no connection slot."""
    import asyncpg
    from sqlalchemy.exc import DBAPIError, DisconnectionError

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(
            current,
            OSError
            | TimeoutError
            | DisconnectionError
            | asyncpg.PostgresConnectionError
            | asyncpg.CannotConnectNowError
            | asyncpg.TooManyConnectionsError
            | asyncpg.AdminShutdownError
            | asyncpg.CrashShutdownError
            | asyncpg.ConnectionDoesNotExistError,
        ):
            return True
        if type(current).__module__.startswith("adbc_driver") and type(current).__name__ in {
            "OperationalError",
            "InterfaceError",
        }:
            return True  # the analytics reader (ADBC) could not connect
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__
    return False


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    request_id = request_id_of(request)
    if isinstance(exc, PoolTimeout):
        # Every connection of this worker's pool stayed in use for the pool's whole timeout:
        # the worker is overloaded, not broken. Say so, and when to come back.
        logger.warning("pool exhausted request_id=%s path=%s", request_id, request.url.path)
        return problem_response(
            Problem(
                type=problem_type("service-unavailable"),
                title="Service unavailable",
                status=503,
                detail="The service is busy: every database connection is in use; retry after"
                " a few seconds",
                instance=request.url.path,
                request_id=request_id,
            ),
            {"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if database_unavailable(exc):
        logger.warning(
            "database unavailable request_id=%s path=%s: %s", request_id, request.url.path, exc
        )
        return problem_response(
            Problem(
                type=problem_type("service-unavailable"),
                title="Service unavailable",
                status=503,
                detail="The database cannot be reached just now; retry after a few seconds",
                instance=request.url.path,
                request_id=request_id,
            ),
            {"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, RecursionError):
        # JSON nested deeper than the decoder can follow (thousands of levels): bad input.
        return problem_response(
            Problem(
                type=problem_type("bad-request"),
                title="Bad request",
                status=400,
                detail="The request body is nested too deeply",
                instance=request.url.path,
                request_id=request_id,
                errors=[FieldError("$", "JSON nested too deeply")],
            )
        )
    logger.error(
        "unhandled error request_id=%s method=%s path=%s",
        request_id,
        request.method,
        request.url.path,
        exc_info=exc,
    )
    return problem_response(
        Problem(
            type=problem_type("internal-error"),
            title="Internal server error",
            status=HTTP_500_INTERNAL_SERVER_ERROR,
            detail="An unexpected error occurred; quote the request id when reporting it",
            instance=request.url.path,
            request_id=request_id,
        )
    )
