"""A regulator's batch upload: a table (CSV, .xlsx, .ods) with a mapping, or reports as NDJSON or
a JSON array, previewed first (the import's dry run: nothing stored), then imported all or
nothing, or only its good rows, with the rejected rows as a CSV that re-imports once corrected.

The same services as the CLI and the API: `mapped.import_table` for tables, the batch endpoint's
`batch.file_batch` for reports, filed as the signed-in organization. The file waits between
preview and confirmation in `web_uploads` (uploads.py), owned by the session that sent it.
Plain multipart forms: it works without JavaScript."""

from __future__ import annotations

import re
import uuid
from pathlib import PurePath
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Response, Template
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.errors import FieldError, Forbidden, ValidationFailed
from incidents.importers.mapping import MappingError, parse_mapping
from incidents.importers.rejected import rejected_csv
from incidents.importers.tables import TableError, read_table
from incidents.members.schemas import Principal
from incidents.reports.access import FILERS
from incidents.taxonomy.service import TaxonomyRegistry
from incidents.web import uploads
from incidents.web.forms import FormErrors
from incidents.web.i18n import N_
from incidents.web.middleware import SESSION_TOKEN_KEY
from incidents.web.pages import NavItem, PageGroup, require
from incidents.web.templating import page
from incidents.web.upload_runs import (
    MAX_FILE_BYTES,
    REPORTS,
    Outcome,
    mapping_errors,
    outcome_of,
    run_table,
    with_filer,
)

MAX_ROWS = 20_000
"""Rows of one table upload, at most (reports: the API batch's own 5,000)."""
MAX_MAPPING_BYTES = 200_000
"""The mapping, uploaded or pasted, at most."""
ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
"""JSON's escape for NUL (as the edge's BodyGuard looks for it)."""
SPREADSHEETS = {".xlsx", ".ods"}
TABLES = {".csv", ".tsv", ".txt", *SPREADSHEETS}
FIELDS = ["file", "mapping", "sheet"]
MultipartBody = Body(media_type=RequestEncodingType.MULTI_PART)
FILERS_ONLY = [require("member")]


def _may_file(principal: Principal) -> None:
    if principal.kind not in FILERS:
        raise Forbidden("Only regulators (and outside sources) file reports")


def _session_token(request: Request[Any, Any, Any]) -> str:
    token = request.scope.get("state", {}).get(SESSION_TOKEN_KEY)
    if not token:
        raise Forbidden("Sign in again: this page needs a browser session")
    return str(token)


def _form(
    request: Request[Any, Any, Any], errors: FormErrors, values: dict[str, Any], status: int
) -> Template:
    limits = {"file": MAX_FILE_BYTES, "rows": MAX_ROWS, "mapping": MAX_MAPPING_BYTES}
    context = {"errors": errors, "values": values, "limits": limits}
    return page(request, "regulator/upload.html", context, status_code=status)


@get("/upload", name="web-upload", include_in_schema=False, guards=FILERS_ONLY)
async def upload_form(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal]
) -> Template:
    _may_file(principal)
    return _form(request, FormErrors(), {}, 200)


async def _text_of(upload: Any, limit: int, field: str) -> bytes | None:
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise _Refused(413, field, f"At most {limit:,} bytes; this one is larger")
    return data


def _text(data: bytes, field: str) -> str:
    """A text file's content; the edge does not check this route's body (it may be binary)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _Refused(422, field, f"Not valid UTF-8 at byte {error.start}") from None
    if "\x00" in text:
        raise _Refused(422, field, "Holds the NUL character (U+0000)")
    return text


class _Refused(Exception):
    def __init__(self, status: int, field: str, message: str) -> None:
        self.status, self.error = status, FieldError(field, message)


@post(
    "/upload",
    name="web-upload-send",
    include_in_schema=False,
    guards=FILERS_ONLY,
    request_max_body_size=MAX_FILE_BYTES + 2 * MAX_MAPPING_BYTES + 100_000,
)
async def upload_send(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncConnection],
    principal: NamedDependency[Principal],
    taxonomy: NamedDependency[TaxonomyRegistry],
    data: Annotated[dict[str, Any], MultipartBody],
) -> Template | Redirect:
    _may_file(principal)
    pasted = str(data.get("mapping") or "")
    sheet = str(data.get("sheet") or "").strip()[:200] or None
    values = {"mapping": pasted, "sheet": sheet or ""}
    try:
        upload = data.get("file")
        content = await _text_of(upload, MAX_FILE_BYTES, "file")
        if content is None or not content:
            raise _Refused(422, "file", "Choose a file to upload")
        assert isinstance(upload, UploadFile)
        filename = PurePath(upload.filename).name
        suffix = PurePath(filename).suffix.casefold()
        if suffix not in TABLES and suffix not in REPORTS:
            known = ", ".join(sorted(TABLES | set(REPORTS)))
            raise _Refused(422, "file", f"Send a file ending in one of {known}")
        mapping_file = await _text_of(data.get("mapping_file"), MAX_MAPPING_BYTES, "mapping")
        mapping = _text(mapping_file, "mapping") if mapping_file else pasted
        for field, value in (("mapping", mapping), ("sheet", sheet or "")):
            if "\x00" in value or "\ufffd" in value:
                raise _Refused(422, field, "Not valid UTF-8 text (or holds the NUL character)")
        # Text files keep their own encoding (the mapping's `encoding`), but never a NUL.
        if suffix not in SPREADSHEETS and (b"\x00" in content or ESCAPED_NUL.search(content)):
            raise _Refused(422, "file", "Holds the NUL character (U+0000)")
        if len(mapping.encode()) > MAX_MAPPING_BYTES:
            raise _Refused(413, "mapping", f"At most {MAX_MAPPING_BYTES:,} bytes")
        if suffix in TABLES:
            if not mapping.strip():
                raise _Refused(422, "mapping", "A table needs a mapping (TOML): upload or paste it")
            text, shift = with_filer(mapping, principal.organization_name)
            try:
                layout = parse_mapping(text, taxonomy.current).layout(sheet)
            except MappingError as error:
                errors = mapping_errors(error, shift)
                return _form(request, FormErrors(errors, fields=FIELDS), values, 422)
            try:
                table = read_table(content, filename, layout)
            except TableError as error:
                field = "sheet" if str(error).startswith("No sheet") else "file"
                raise _Refused(422, field, str(error)) from None
            if any("\x00" in cell for _, cells in table.rows for cell in cells):
                raise _Refused(422, "file", "A cell holds the NUL character (U+0000)")
            rows = len(table.rows)
            if rows > MAX_ROWS:
                raise _Refused(413, "file", f"At most {MAX_ROWS:,} rows; this file has {rows:,}")
        kind: uploads.Kind = "table" if suffix in TABLES else "reports"
    except _Refused as refused:
        return _form(request, FormErrors([refused.error], fields=FIELDS), values, refused.status)
    upload_id = await uploads.keep(
        db,
        principal,
        _session_token(request),
        filename=filename,
        kind=kind,
        data=content,
        mapping=mapping if kind == "table" else None,
        sheet=sheet,
    )
    return Redirect(f"/upload/{upload_id}", status_code=303)


def _result_page(
    request: Request[Any, Any, Any], upload: uploads.Upload, outcome: Outcome, *, done: bool
) -> Template:
    context = {"upload": upload, "outcome": outcome, "done": done, "max_rows": MAX_ROWS}
    return page(request, "regulator/upload_preview.html", context)


@get(
    "/upload/{upload_id:uuid}",
    name="web-upload-preview",
    include_in_schema=False,
    guards=FILERS_ONLY,
)
async def upload_preview(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncConnection],
    principal: NamedDependency[Principal],
    taxonomy: NamedDependency[TaxonomyRegistry],
    upload_id: FromPath[uuid.UUID],
) -> Template:
    _may_file(principal)
    upload = await uploads.find(db, principal, _session_token(request), upload_id)
    outcome = await outcome_of(
        request.app.state.database, db, principal, taxonomy, upload, dry_run=True
    )
    return _result_page(request, upload, outcome, done=False)


@post(
    "/upload/{upload_id:uuid}/import",
    name="web-upload-import",
    include_in_schema=False,
    guards=FILERS_ONLY,
)
async def upload_import(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncConnection],
    principal: NamedDependency[Principal],
    taxonomy: NamedDependency[TaxonomyRegistry],
    upload_id: FromPath[uuid.UUID],
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template:
    _may_file(principal)
    upload = await uploads.find(db, principal, _session_token(request), upload_id)
    partial = data.get("mode") == "partial" and upload.kind == "table"
    outcome = await outcome_of(
        request.app.state.database, db, principal, taxonomy, upload, dry_run=False, partial=partial
    )
    return _result_page(request, upload, outcome, done=True)


@get(
    "/upload/{upload_id:uuid}/rejected.csv",
    name="web-upload-rejected",
    include_in_schema=False,
    guards=FILERS_ONLY,
)
async def upload_rejected(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncConnection],
    principal: NamedDependency[Principal],
    taxonomy: NamedDependency[TaxonomyRegistry],
    upload_id: FromPath[uuid.UUID],
) -> Response[bytes]:
    """The rows the import refuses, in the file's own layout with a column of reasons: the
    same CSV the CLI's partial import writes; corrected, it re-imports with the same mapping."""
    _may_file(principal)
    upload = await uploads.find(db, principal, _session_token(request), upload_id)
    if upload.kind != "table":
        raise ValidationFailed(
            "Only a table has rejected rows",
            errors=[FieldError("file", "Reports are filed all or nothing: correct and resend")],
        )
    result, _ = await run_table(
        request.app.state.database, principal, taxonomy, upload, dry_run=True
    )
    text, _ = with_filer(upload.mapping or "", principal.organization_name)
    mapping = parse_mapping(text, taxonomy.current)
    table = read_table(upload.data, upload.filename, mapping.layout(upload.sheet))
    lines = sorted({problem.row for problem in result.problems if problem.row})
    body = rejected_csv(table, lines, result.problems, mapping.delimiter)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", PurePath(upload.filename).stem)[:80] or "upload"
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{stem}-rejected.csv"'},
    )


UPLOAD = PageGroup(
    name="upload",
    handlers=[upload_form, upload_send, upload_preview, upload_import, upload_rejected],
    navigation=[NavItem(N_("Batch upload"), "/upload", frozenset({"regulator"}))],
)
