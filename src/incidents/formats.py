"""The registry's output formats in one place: their media types, content negotiation, and how
a table becomes CSV (formula-proof, lists joined) or Parquet. Report and incident downloads
stream through reports/exports.py; trend tables and brief data files are written here."""

from __future__ import annotations

import io
from typing import Any, Literal

from litestar import Request

from incidents.errors import IncidentsError

Format = Literal["json", "csv", "ndjson", "parquet"]
MEDIA_TYPES: dict[str, str] = {
    "json": "application/json",
    "csv": "text/csv",  # Litestar adds "; charset=utf-8" to every text/* type, once
    "ndjson": "application/x-ndjson",
    "parquet": "application/vnd.apache.parquet",
    "html": "text/html",
    "pdf": "application/pdf",
    "zip": "application/zip",
}
DOWNLOADS: tuple[Format, ...] = ("csv", "ndjson", "parquet")
LIST_SEPARATOR = ";"
# A spreadsheet reads a cell starting with one of these as a formula (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class NotAcceptable(IncidentsError):
    status, slug, title = 406, "not-acceptable", "Not acceptable"


def negotiate(request: Request[Any, Any, Any]) -> Format:
    """The suffix wins; otherwise the best of Accept; JSON when the client does not say."""
    path = request.url.path
    for name in DOWNLOADS:
        if path.endswith(f".{name}"):
            return name
    accept = request.headers.get("accept")
    if not accept:
        return "json"
    offered: dict[str, Format] = {MEDIA_TYPES[name]: name for name in ("json", *DOWNLOADS)}
    best = request.accept.best_match(list(offered), default=None)
    if best is None:
        raise NotAcceptable(f"Can answer with {', '.join(offered)}; not with {accept}")
    return offered[best]


def csv_value(value: Any) -> Any:
    """One cell as CSV writes it: lists joined, dates in ISO form, text that a spreadsheet
    would take for a formula shown as the text it is."""
    if isinstance(value, list):
        value = LIST_SEPARATOR.join(str(item) for item in value)
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value  # shown as the text it is, never evaluated
    return value


def frame_bytes(frame: Any, fmt: Literal["csv", "parquet"]) -> bytes:
    """A Polars DataFrame as CSV (lists joined, text cells formula-proof, RFC 4180 line ends)
    or Parquet (compressed, no statistics, so that the same frame gives the same bytes)."""
    import polars as pl

    buffer = io.BytesIO()
    if fmt == "parquet":
        frame.write_parquet(buffer, compression="zstd", statistics=False)
        return buffer.getvalue()
    joined = frame.with_columns(
        pl.col(name).cast(pl.List(pl.String)).list.join(LIST_SEPARATOR)
        for name, kind in frame.schema.items()
        if isinstance(kind, pl.List)
    )
    formula = (
        "^[" + "".join("\\" + start if start in "-" else start for start in FORMULA_STARTS) + "]"
    )
    safe = joined.with_columns(
        pl.when(pl.col(name).str.contains(formula))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name, kind in joined.schema.items()
        if kind == pl.String
    )
    safe.write_csv(buffer, line_terminator="\r\n")
    return buffer.getvalue()
