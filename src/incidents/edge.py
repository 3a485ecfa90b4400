"""The edge: every request's text checked once, before any handler, and the HTTP rules (query
parameters, body media types) that handlers would otherwise each repeat."""

from __future__ import annotations

import codecs
import difflib
import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import unquote_to_bytes

from litestar.handlers import HTTPRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from incidents.errors import BadRequest, FieldError, UnsupportedMediaType, ValidationFailed

logger = logging.getLogger("incidents.edge")

NUL_MESSAGE = "Contains the NUL character (U+0000), which no text field may hold"
UTF8_MESSAGE = "Is not valid UTF-8"

#: Paths whose body may be binary (the web batch upload's .xlsx/.ods files): `BodyGuard` is not
#: applied there; their handler checks each text field (and the file's text) itself.
BINARY_BODY_PATHS = frozenset({"/upload"})

#: Media types a request body may have, unless a handler lists its own in ``opt["accepts"]``.
JSON_TYPES = ("application/json",)
ACCEPTS_KEY = "accepts"

# A JSON escape for NUL: "\u0000" preceded by an even number of backslashes (an odd number
# would make the first backslash of \u0000 itself escaped, i.e. literal text).
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_CARRY = 64  # bytes kept between body chunks, so that an escape split across two is still seen


def text_problems(scope: Scope) -> list[FieldError]:
    """What is wrong with the path, the query string and the headers, as problem fields."""
    errors: list[FieldError] = []
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
    errors.extend(_check_text("path", unquote_to_bytes(raw_path)))
    query = scope.get("query_string", b"")
    if query:
        for pair in query.split(b"&"):
            name, _, value = pair.partition(b"=")
            decoded_name = unquote_to_bytes(name.replace(b"+", b" "))
            label = decoded_name.decode("utf-8", "replace")
            errors.extend(_check_text(f"query.{label}", decoded_name))
            errors.extend(
                _check_text(f"query.{label}", unquote_to_bytes(value.replace(b"+", b" ")))
            )
    for name, value in scope.get("headers", ()):
        if b"\x00" in value:
            errors.append(FieldError(f"header.{name.decode('latin-1')}", NUL_MESSAGE))
    return _unique(errors)


def _check_text(field: str, value: bytes) -> list[FieldError]:
    if b"\x00" in value:
        return [FieldError(field, NUL_MESSAGE)]
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return [FieldError(field, UTF8_MESSAGE)]
    return []


def _unique(errors: Iterable[FieldError]) -> list[FieldError]:
    return list({(error.field, error.message): error for error in errors}.values())


class BodyGuard:
    """Wraps ``receive``: a body chunk with invalid UTF-8 or a NUL character (raw, or escaped as
    ``\\u0000`` in JSON) ends the request with a 4xx problem the moment it arrives, before any
    text reaches the database (PostgreSQL text cannot hold NUL)."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._tail = b""
        self._offset = 0

    async def __call__(self) -> Any:
        message = await self._receive()
        if message["type"] == "http.request":
            self.check(message.get("body", b""), final=not message.get("more_body", False))
        return message

    def check(self, chunk: bytes, *, final: bool) -> None:
        where = f"body (byte {self._offset})" if self._offset else "body"
        try:
            self._decoder.decode(chunk, final=final)
        except UnicodeDecodeError as error:
            raise ValidationFailed(
                "The request body is not valid UTF-8",
                errors=[FieldError("$", f"{UTF8_MESSAGE} at byte {self._offset + error.start}")],
            ) from None
        window = self._tail + chunk
        if b"\x00" in chunk or (b"\\u0000" in window and _ESCAPED_NUL.search(window)):
            raise ValidationFailed(
                "Text in the request body contains the NUL character (U+0000)",
                errors=[FieldError("$", f"{NUL_MESSAGE}: found in the {where}")],
            )
        self._tail = window[-_CARRY:]
        self._offset += len(chunk)


def media_type_of(scope: Scope) -> tuple[str, dict[str, str]]:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            main, *params = value.decode("latin-1").split(";")
            options = {}
            for param in params:
                key, _, option = param.partition("=")
                options[key.strip().lower()] = option.strip().strip('"').lower()
            return main.strip().lower(), options
    return "", {}


def _has_body(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return value.strip() not in (b"0", b"")
        if name == b"transfer-encoding":
            return True
    return False


def _accepted(media: str, accepts: Iterable[str]) -> bool:
    return any(
        media == wanted
        or (wanted == "application/json" and re.fullmatch(r"application/.+\+json", media))
        for wanted in accepts
    )


class RequestShapeMiddleware(ASGIMiddleware):
    """After routing: unknown query parameters are a 400 naming the valid ones (a misspelt filter
    must not silently widen a researcher's figures), and a body must come as the media type
    its handler reads (415 otherwise)."""

    def __init__(self) -> None:
        self._known: dict[int, frozenset[str]] = {}

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        handler = scope.get("route_handler")
        method = scope.get("method", "")
        if (
            isinstance(handler, HTTPRouteHandler)
            and method != "OPTIONS"
            and not scope["path"].startswith("/schema")
        ):
            self._check_query(scope, handler)
            if method in {"POST", "PUT", "PATCH"} and _has_body(scope):
                _check_media_type(scope, handler)
        await next_app(scope, receive, send)

    def _check_query(self, scope: Scope, handler: HTTPRouteHandler) -> None:
        query = scope.get("query_string", b"")
        if not query:
            return
        known = self._known.get(id(handler))
        if known is None:
            known = _query_parameters(scope, handler)
            self._known[id(handler)] = known
        given = {
            unquote_to_bytes(pair.partition(b"=")[0].replace(b"+", b" ")).decode("utf-8", "replace")
            for pair in query.split(b"&")
            if pair
        }
        unknown = sorted(given - known)
        if not unknown:
            return
        valid = ", ".join(sorted(known)) if known else "none"
        errors = []
        for name in unknown:
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.7)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            errors.append(FieldError(name, f"Not a query parameter of this endpoint{hint}"))
        raise BadRequest(
            f"Unknown query parameter{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(repr(name) for name in unknown)}; this endpoint takes: {valid}",
            errors=errors,
        )


def _query_parameters(scope: Scope, handler: HTTPRouteHandler) -> frozenset[str]:
    """The query parameters a handler reads, its dependencies' included (as Litestar resolves
    them for the route the request matched)."""
    router = scope["litestar_app"].asgi_router
    names: set[str] = set()
    for route in router.route_mapping.get(handler.name or str(handler), []):
        model = handler.create_kwargs_model(path_parameters=route.path_parameters)
        names.update(param.field_alias for param in model.expected_query_params)
    return frozenset(names)


def _check_media_type(scope: Scope, handler: HTTPRouteHandler) -> None:
    accepts = tuple(str(media) for media in handler.opt.get(ACCEPTS_KEY, JSON_TYPES))
    media, options = media_type_of(scope)
    charset = options.get("charset", "utf-8")
    if _accepted(media, accepts) and charset in {"utf-8", "utf8"}:
        return
    sent = f"{media}; charset={charset}" if "charset" in options else (media or "no Content-Type")
    raise UnsupportedMediaType(
        f"This endpoint reads {' or '.join(accepts)} (UTF-8); the request sent {sent}"
    )


_CLOSERS = "incidents.closers"


def after_request(scope: Scope, closer: Callable[[], Awaitable[Any]]) -> None:
    """Run ``closer`` when the request is over, however it ended (streamed to the end, failed,
    or the client went away mid-download), most recently registered first."""
    scope.setdefault("state", {}).setdefault(_CLOSERS, []).append(closer)


async def close_request(scope: Scope) -> None:
    """Run what ``after_request`` registered; called once by the app when a request ends."""
    closers = scope.get("state", {}).pop(_CLOSERS, [])
    for closer in reversed(closers):
        try:
            await closer()
        except Exception:
            logger.exception("closing a finished request's resources failed")


def strip_body(send: Send) -> Send:
    """For HEAD: the GET answer's status and headers, without its body."""

    async def sender(message: Message) -> None:
        if message["type"] == "http.response.body":
            if message.get("more_body", False):
                return
            message = {"type": "http.response.body", "body": b"", "more_body": False}
        await send(message)

    return sender


def with_header(message: Message, name: bytes, value: bytes) -> Any:
    """A response start message with one header set (any earlier value of it dropped)."""
    existing: list[tuple[bytes, bytes]] = list(message.get("headers", []))  # type: ignore[call-overload]  # only start messages carry headers
    headers = [(key, old) for key, old in existing if key.lower() != name]
    return {**message, "headers": [*headers, (name, value)]}
