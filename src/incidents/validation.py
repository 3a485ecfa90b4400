"""Input decoding that reports every field at fault, not only the first one msgspec meets."""

from __future__ import annotations

import types
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin, get_type_hints

import msgspec
from litestar import Request, Response
from litestar.exceptions import ValidationException
from litestar.utils.scope.state import ScopeState

from incidents.errors import (
    FieldError,
    Problem,
    ValidationFailed,
    problem_response,
    problem_type,
    request_id_of,
)

T = TypeVar("T")

_SEQUENCES = (list, set, frozenset, tuple)


def decode_json(body: bytes, target: type[T]) -> T:
    """Decode a JSON body into ``target``; on failure raise 422 listing every bad field."""
    try:
        return msgspec.json.decode(body, type=target)
    except msgspec.ValidationError:
        pass
    except msgspec.DecodeError as error:
        raise ValidationFailed(
            "The body is not valid JSON", errors=[FieldError("$", _reason(error))]
        ) from None
    raw = msgspec.json.decode(body)
    errors = collect_errors(raw, target)
    raise ValidationFailed(f"{len(errors)} field(s) are invalid", errors=errors)


def convert(raw: Any, target: type[T]) -> T:
    """Convert an already-parsed value, raising 422 with every bad field."""
    try:
        return msgspec.convert(raw, target)
    except msgspec.ValidationError:
        errors = collect_errors(raw, target)
        raise ValidationFailed(f"{len(errors)} field(s) are invalid", errors=errors) from None


def collect_errors(raw: Any, annotation: Any, path: str = "") -> list[FieldError]:
    """Walk ``annotation`` beside ``raw`` and return one error per offending leaf field."""
    try:
        msgspec.convert(raw, annotation)
    except msgspec.ValidationError as error:
        first = error
    else:
        return []
    target, metas = _unwrap(annotation)
    here = path or "$"

    if isinstance(target, type) and issubclass(target, msgspec.Struct):
        if not isinstance(raw, dict):
            return [FieldError(here, f"Expected an object, got {_kind(raw)}")]
        errors = _struct_errors(raw, target, path)
    elif get_origin(target) in _SEQUENCES and isinstance(raw, list):
        errors = _sequence_errors(raw, target, metas, path)
    elif _is_optional(target) and raw is not None:
        inner = [arg for arg in get_args(target) if arg is not type(None)]
        errors = collect_errors(raw, inner[0], path) if len(inner) == 1 else []
    else:
        errors = []
    return errors or [FieldError(here, _reason(first))]


def _struct_errors(
    raw: dict[str, Any], target: type[msgspec.Struct], path: str
) -> list[FieldError]:
    hints = get_type_hints(target, include_extras=True)
    fields = msgspec.structs.fields(target)
    errors: list[FieldError] = []
    if target.__struct_config__.forbid_unknown_fields:
        known = {field.encode_name for field in fields}
        errors.extend(
            FieldError(_join(path, key), "Unknown field") for key in raw if key not in known
        )
    for field in fields:
        where = _join(path, field.encode_name)
        if field.encode_name not in raw:
            if field.required:
                errors.append(FieldError(where, "Required field is missing"))
            continue
        errors.extend(collect_errors(raw[field.encode_name], hints[field.name], where))
    return errors


def _sequence_errors(raw: list[Any], target: Any, metas: list[Any], path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for meta in metas:
        if meta.max_length is not None and len(raw) > meta.max_length:
            errors.append(FieldError(path or "$", f"At most {meta.max_length} items allowed"))
        if meta.min_length is not None and len(raw) < meta.min_length:
            errors.append(FieldError(path or "$", f"At least {meta.min_length} item(s) required"))
    args = get_args(target)
    if (args and args[-1] is not Ellipsis) or len(args) == 2:
        item_type = args[0]
    else:
        return errors
    for position, item in enumerate(raw):
        errors.extend(collect_errors(item, item_type, f"{path}[{position}]"))
    return errors


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    metas: list[Any] = []
    while get_origin(annotation) is Annotated:
        args = get_args(annotation)
        annotation = args[0]
        metas.extend(arg for arg in args[1:] if isinstance(arg, msgspec.Meta))
    return annotation, metas


def _is_optional(target: Any) -> bool:
    return get_origin(target) in (Union, types.UnionType) and type(None) in get_args(target)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _reason(error: Exception) -> str:
    message = str(error)
    return message.split(" - at `$", 1)[0]


def _kind(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean"}.get(
        type(value), type(value).__name__ if value is not None else "null"
    )


def handle_validation_exception(
    request: Request[Any, Any, Any], exc: ValidationException
) -> Response[bytes]:
    """Litestar's own body/parameter validation, re-rendered with every field at fault."""
    errors: list[FieldError] = []
    handler = request.scope.get("route_handler")
    data_field = getattr(handler, "parsed_data_field", None)
    annotation = getattr(data_field, "annotation", None)
    # Exception handlers are synchronous; the body was already read (and cached) to fail here.
    body = ScopeState.from_scope(request.scope).body
    if annotation is not None and isinstance(body, bytes) and body:
        try:
            errors = collect_errors(msgspec.json.decode(body), annotation)
        except msgspec.DecodeError as error:
            errors = [FieldError("$", f"The body is not valid JSON: {_reason(error)}")]
    if not errors and isinstance(exc.extra, list):
        for item in exc.extra:
            if isinstance(item, dict):
                key = str(item.get("key") or "$")
                errors.append(FieldError(key, str(item.get("message", "Invalid value"))))
    return problem_response(
        Problem(
            type=problem_type("validation"),
            title="Validation failed",
            status=422,
            detail=f"{len(errors)} field(s) are invalid" if errors else str(exc.detail),
            instance=request.url.path,
            request_id=request_id_of(request),
            errors=errors or None,
        )
    )
