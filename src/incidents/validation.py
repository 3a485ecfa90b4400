"""Input decoding that reports every field at fault, not only the first one msgspec meets."""

from __future__ import annotations

import re
import types
from collections.abc import Callable
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

import msgspec
from litestar import Request, Response
from litestar.exceptions import ValidationException
from litestar.utils.scope.state import ScopeState

from incidents.errors import (
    FieldError,
    Problem,
    problem_response,
    problem_type,
    request_id_of,
)

_SEQUENCES = (list, set, frozenset, tuple)

#: JSON nested deeper than this is refused before it is walked (no schema here nests past 6).
MAX_JSON_DEPTH = 64
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")


def too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON ``body`` nests arrays and objects more than ``limit`` levels deep."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    for byte in _STRINGS.sub(b"", body).translate(None, _NOT_BRACKETS):
        depth += 1 if byte in (0x5B, 0x7B) else -1
        if depth > limit:
            return True
    return False


SemanticCheck = Callable[[Any, Any], list[FieldError]]
"""(the decoded value, a context such as the taxonomy registry) -> the rules it breaks."""
_SEMANTIC: dict[type, SemanticCheck] = {}

# What a field at fault is replaced with so that the rest of the body can still be checked;
# the first that the field's type accepts is used.
_PLACEHOLDERS: tuple[Any, ...] = (
    None,
    "x",
    "XX",
    "2000",
    "en",
    "2000-01-01",
    "http://x.example",
    "INC-2000-000001",
    0,
    False,
    [],
)


def semantic_check(target: type) -> Callable[[SemanticCheck], SemanticCheck]:
    """Register the rules a type's values must meet beyond their schema (taxonomy codes,
    dates), so that a body failing its schema is still checked against them: one answer lists
    every field at fault, never a second pass more."""

    def register(check: SemanticCheck) -> SemanticCheck:
        _SEMANTIC[target] = check
        return check

    return register


def every_error(raw: Any, annotation: Any, context: Any) -> list[FieldError]:
    """The schema's errors and, for a type with a registered semantic check, the rules the
    rest of the value breaks (its faulty fields replaced by placeholders, whose own findings are
    dropped)."""
    errors = collect_errors(raw, annotation)
    target, _ = _unwrap(annotation)
    check = _SEMANTIC.get(target) if isinstance(target, type) else None
    if not errors or check is None or not isinstance(raw, dict):
        return errors
    repaired: Any = msgspec.json.decode(msgspec.json.encode(raw))  # a deep copy
    for error in errors:
        if not _repair(repaired, target, _steps(error.field)):
            return errors
    try:
        value = msgspec.convert(repaired, target)
    except msgspec.ValidationError:
        return errors
    faulty = [error.field for error in errors]
    names = {re.split(r"[.\[]", field)[0] for field in faulty}
    return errors + [
        error
        for error in check(value, context)
        if not any(_related(error.field, field) for field in faulty)
        and not any(name in error.message for name in names)
    ]


def _related(one: str, other: str) -> bool:
    """Whether one field path is the other, or inside it, or holds it."""
    shorter, longer = sorted((one, other), key=len)
    return longer == shorter or longer.startswith((shorter + ".", shorter + "["))


def _steps(path: str) -> list[str | int]:
    steps: list[str | int] = []
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        steps.append(int(part[1:-1]) if part.startswith("[") else part)
    return steps


def _repair(raw: Any, annotation: Any, steps: list[str | int]) -> bool:
    """Replace (or, for an unknown field, remove) the value at ``steps`` in place."""
    if not steps:
        return False
    container = raw
    kind = annotation
    for step in steps[:-1]:
        kind = _child_type(kind, step)
        if kind is None:
            return False
        try:
            container = container[step]
        except (KeyError, IndexError, TypeError):
            return False
    last = steps[-1]
    leaf = _child_type(kind, last)
    if isinstance(last, str) and isinstance(container, dict) and leaf is None:
        container.pop(last, None)  # an unknown field
        return True
    if leaf is None:
        return False
    for candidate in _PLACEHOLDERS:
        try:
            msgspec.convert(candidate, leaf)
        except msgspec.ValidationError:
            continue
        try:
            container[last] = candidate
        except (IndexError, TypeError):
            return False
        return True
    return False


def _child_type(annotation: Any, step: str | int) -> Any:
    target, _ = _unwrap(annotation)
    if _is_optional(target):
        inner = [arg for arg in get_args(target) if arg is not type(None)]
        target, _ = _unwrap(inner[0]) if len(inner) == 1 else (target, [])
    if isinstance(step, int):
        return get_args(target)[0] if get_origin(target) in _SEQUENCES else None
    if isinstance(target, type) and issubclass(target, msgspec.Struct):
        hints = get_type_hints(target, include_extras=True)
        for field in msgspec.structs.fields(target):
            if field.encode_name == step:
                return hints[field.name]
    return None


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
    return errors or [FieldError(here, plain_message(_reason(first), target, metas))]


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
    return {
        dict: "an object",
        list: "a list",
        str: "text",
        bool: "true or false",
        int: "a whole number",
        float: "a number",
    }.get(type(value), "null" if value is None else type(value).__name__)


_TYPE_WORDS = {
    "str": "text",
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "array": "a list",
    "object": "an object",
    "null": "null",
    "date": "a date (YYYY-MM-DD)",
    "datetime": "a date and time (RFC 3339)",
    "uuid": "a UUID",
}


def _words(types_text: str) -> str:
    names = [name.strip() for name in types_text.split("|")]
    return " or ".join(_TYPE_WORDS.get(name, name) for name in names)


def _described(metas: list[Any]) -> str | None:
    for meta in metas:
        if meta.description:
            text: str = meta.description
            return text[0].lower() + text[1:]
    return None


def plain_message(message: str, target: Any = None, metas: list[Any] | None = None) -> str:
    """msgspec's (or Litestar's) terse reason in plain words: no regular expressions, the
    allowed values listed."""
    metas = metas or []
    if (
        target is not None
        and "enum value" in message
        and (
            get_origin(target) is Literal or (isinstance(target, type) and issubclass(target, Enum))
        )
    ):
        values = get_args(target) if get_origin(target) is Literal else [m.value for m in target]
        allowed = ", ".join(str(value) for value in values)
        found = re.search(r"enum value (.+)$", message)
        given = found.group(1) if found else "This value"
        return f"{given} is not one of: {allowed}"
    if match := re.fullmatch(r"Expected `([^`]+)` matching regex .*", message, re.DOTALL):
        described = _described(metas)
        return f"Expected {described}" if described else "Not in the expected format"
    if match := re.fullmatch(r"Expected `([^`]+)` of length ([<>]=) (\d+)", message):
        kind, operator, number = match.groups()
        unit = "character" if kind == "str" else "item"
        bound = int(number)
        if operator == ">=" and bound == 1:
            return "Must not be empty"
        plural = "s" if bound != 1 else ""
        side = "at least" if operator == ">=" else "at most"
        return f"Must have {side} {bound} {unit}{plural}"
    if match := re.fullmatch(r"Expected `([^`]+)` ([<>]=?) (-?[\d.]+)", message):
        kind, operator, number = match.groups()
        words = {">=": "or more", "<=": "or less", ">": "exclusive, or more", "<": "or less"}
        return f"Must be {_words(kind)}, {number} {words[operator]}"
    if match := re.fullmatch(r"Expected `([^`]+)`, got `([^`]+)`", message):
        return f"Expected {_words(match.group(1))}, got {_words(match.group(2))}"
    if message.startswith("Invalid enum value"):
        return message.replace("Invalid enum value", "Not an allowed value:")
    if "RFC3339" in message or "ISO 8601" in message:
        return "Expected a date as YYYY-MM-DD" if "date" in message else message
    if message == "Invalid UUID":
        return "Expected a UUID"
    return message


def a_or_an(word: str) -> str:
    """The indefinite article a word takes ("an affected_group code", "a sector code")."""
    return "an" if word[:1].lower() in "aeiou" else "a"


def _is_struct(annotation: Any) -> bool:
    target, _ = _unwrap(annotation)
    if _is_optional(target):
        return False
    return isinstance(target, type) and issubclass(target, msgspec.Struct)


def _parameter_type(request: Request[Any, Any, Any], key: str) -> tuple[Any, list[Any]]:
    """The annotation of a query or header parameter, to name its allowed values."""
    handler = request.scope.get("route_handler")
    signature = getattr(handler, "parsed_fn_signature", None)
    candidates = [signature] if signature is not None else []
    for provider in (getattr(handler, "resolve_dependencies", dict)() or {}).values():
        found = getattr(provider, "signature_model", None)
        parsed = getattr(provider, "parsed_fn_signature", None)
        candidates.extend(item for item in (parsed, found) if item is not None)
    for candidate in candidates:
        parameters = getattr(candidate, "parameters", {})
        for name, field in parameters.items():
            alias = getattr(getattr(field, "kwarg_definition", None), "query", None) or name
            if key in {name, alias}:
                annotation = getattr(field, "annotation", None)
                target, metas = _unwrap(annotation)
                if _is_optional(target):
                    inner = [arg for arg in get_args(target) if arg is not type(None)]
                    target = inner[0] if len(inner) == 1 else target
                return target, metas
    return None, []


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
    if annotation is not None and isinstance(body, bytes):
        if not body.strip():
            # No body at all: name every field the body needs, as for an empty object.
            errors = collect_errors({}, annotation) if _is_struct(annotation) else []
            errors = errors or [FieldError("$", "A JSON body is required")]
        elif too_deep(body):
            errors = [FieldError("$", f"JSON may nest at most {MAX_JSON_DEPTH} levels deep")]
        else:
            try:
                decoded = msgspec.json.decode(body)
                errors = every_error(decoded, annotation, request.app.state.taxonomy)
            except msgspec.DecodeError as error:
                errors = [FieldError("$", f"The body is not valid JSON: {_reason(error)}")]
    if not errors and isinstance(exc.extra, list):
        for item in exc.extra:
            if isinstance(item, dict):
                key = str(item.get("key") or "$")
                message = str(item.get("message", "Invalid value"))
                kind, metas = _parameter_type(request, key)
                errors.append(FieldError(key, plain_message(message, kind, metas)))
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
