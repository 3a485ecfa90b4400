"""Settings: read once from INCIDENTS_* environment variables, validated, then passed in."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

import msgspec
import platformdirs

from incidents import paths
from incidents.db import parse_url

ENV_PREFIX = "INCIDENTS_"

Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]
Origin = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$",
        description="scheme://host[:port], e.g. https://dashboard.example.org",
    ),
]


class Settings(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Every setting of the service; the README's configuration table documents each one."""

    database_url: str | None = None
    """A PostgreSQL URL; when absent an embedded cluster is started in ``data_dir``."""
    read_database_url: str | None = None
    """A streaming replica of ``database_url``: list pages and trend extracts read there while
    it is fresh enough (see ``read_max_lag_seconds``); writes never do."""
    read_max_lag_seconds: Annotated[float, msgspec.Meta(ge=0.1, le=3600)] = 2.0
    """The most a read from the replica may lag the primary; beyond it reads go to the primary,
    as do the reads of an organization that wrote within this many seconds."""
    data_dir: Path = Path(platformdirs.user_data_dir("incidents"))
    host: str = "127.0.0.1"
    port: Port = 8000
    workers: Annotated[int, msgspec.Meta(ge=1, le=64)] = 1
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["text", "json"] = "text"
    max_body_bytes: Annotated[int, msgspec.Meta(ge=1024, le=100_000_000)] = 1_000_000
    batch_max_body_bytes: Annotated[int, msgspec.Meta(ge=1024, le=1_000_000_000)] = 50_000_000
    db_pool_size: Annotated[int, msgspec.Meta(ge=1, le=200)] = 10
    auth_cache_seconds: Annotated[float, msgspec.Meta(ge=0, le=3600)] = 5.0
    public_cache_entries: Annotated[int, msgspec.Meta(ge=0, le=100_000)] = 512
    """Answers over public reports (facet counts) each worker keeps, reused until a public report
    changes (0: none kept)."""
    suppression_k: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 5
    disclosure_noise: Annotated[int, msgspec.Meta(ge=1, le=20)] = 2
    """D: published counts over restricted reports move by at most this much (cell-key noise)."""
    trends_columnar: bool = True
    """Count trends over all accepted reports from the columnar copy of the extract (kept
    current before each use) instead of reading the registry each time."""
    trends_columnar_dir: Path | None = None
    """Where the columnar copy lives; unset: ``trends-columnar`` in ``data_dir``."""
    taxonomy_dir: Path = msgspec.field(default_factory=paths.taxonomy_dir)
    """Where the shipped taxonomy lives; defaults to the copy bundled with the package."""
    cors_origins: tuple[Origin, ...] = ()
    """Web origins whose pages may call the API from a browser (CORS); none by default."""
    web_session_hours: Annotated[float, msgspec.Meta(gt=0, le=720)] = 12.0
    """A web session ends this long after sign-in, however active (absolute timeout)."""
    web_idle_minutes: Annotated[float, msgspec.Meta(gt=0, le=1440)] = 30.0
    """A web session ends after this long without a request (idle timeout)."""
    web_secure_cookies: bool = False
    """Mark the web interface's cookies Secure (sent over HTTPS only): set it behind HTTPS."""
    web_secret: Annotated[str, msgspec.Meta(min_length=32, max_length=256)] | None = None
    """Signs the web forms' CSRF tokens; unset: a random secret kept in ``data_dir``."""


class SettingsError(ValueError):
    """A setting is invalid; the message names the environment variable and the reason."""


_FIELD_TO_ENV = {name: ENV_PREFIX + name.upper() for name in Settings.__struct_fields__}


def settings_from_env(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, object] | None = None
) -> Settings:
    """Read INCIDENTS_* variables (and explicit overrides, e.g. CLI flags) into Settings."""
    environ = os.environ if environ is None else environ
    raw: dict[str, object] = {}
    for field, variable in _FIELD_TO_ENV.items():
        value = environ.get(variable)
        if value is not None and value != "":
            # A list setting is comma-separated: INCIDENTS_CORS_ORIGINS=https://a.org,https://b.org
            is_list = field == "cors_origins"
            raw[field] = (
                [part.strip() for part in value.split(",") if part.strip()] if is_list else value
            )
    raw.update({key: value for key, value in (overrides or {}).items() if value is not None})
    try:
        settings = msgspec.convert(raw, Settings, strict=False, dec_hook=_decode_path)
    except msgspec.ValidationError as error:
        raise SettingsError(_explain(str(error))) from None
    _check_database_url(settings.database_url)
    _check_database_url(settings.read_database_url, "read_database_url")
    if settings.read_database_url is not None and settings.database_url is None:
        raise SettingsError(
            f"{_FIELD_TO_ENV['read_database_url']}: a replica needs its primary in "
            f"{_FIELD_TO_ENV['database_url']} (the embedded cluster has no replicas)"
        )
    return settings


def _check_database_url(url: str | None, field: str = "database_url") -> None:
    if url is None:
        return
    try:
        parse_url(url)
    except ValueError as error:
        raise SettingsError(f"{_FIELD_TO_ENV[field]}: {error}") from None


def _decode_path(kind: type, value: object) -> object:
    if kind is Path and isinstance(value, str):
        return Path(value).expanduser()
    raise NotImplementedError


def _explain(message: str) -> str:
    # msgspec says e.g. "Expected `int` >= 1 - at `$.port`"; name the variable instead.
    reason, _, location = message.partition(" - at `$.")
    field = location.rstrip("`").split(".")[0].split("[")[0]
    variable = _FIELD_TO_ENV.get(field, field)
    if field == "cors_origins":
        reason = "each origin must be scheme://host[:port], e.g. https://dashboard.example.org"
    return f"{variable}: {reason}"
