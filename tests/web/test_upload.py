"""The regulator's batch upload: a preview stores nothing, confirming stores (as the signed-in
organization, the same services and audit events as the CLI and the API), the good rows alone
with the rejected ones downloadable and re-importable, limits named, roles and owners kept apart."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.audit.models import audit_events
from incidents.reports.models import reports
from incidents.web import upload as upload_pages
from incidents.web import upload_runs
from incidents.web.uploads import web_uploads
from tests.factories import Members, report_payload
from tests.importers.test_reading import _xlsx
from tests.web.helpers import csrf_token, sign_in

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MAPPING = (EXAMPLES / "national-register.toml").read_text()
GOOD = (EXAMPLES / "national-register.csv").read_text()
# Line 3 has a date in the wrong form, line 4 a country nobody knows: both are refused.
MESSY = GOOD.replace("02/04/2026", "2026-04-02").replace("Kenya,MediChat", "Atlantis,MediChat")
_UPLOAD_ID = re.compile(r"^/upload/([0-9a-f-]{36})$")


async def _send(
    client: httpx.AsyncClient,
    content: bytes | str,
    filename: str = "register.csv",
    mapping: str = MAPPING,
    **fields: str,
) -> httpx.Response:
    form = await client.get("/upload")
    data = {"_csrf_token": csrf_token(form.text), "mapping": mapping, **fields}
    raw = content.encode() if isinstance(content, str) else content
    return await client.post("/upload", data=data, files={"file": (filename, raw, "text/csv")})


async def _preview(client: httpx.AsyncClient, content: bytes | str, **kwargs: Any) -> str:
    sent = await _send(client, content, **kwargs)
    assert sent.status_code == 303, sent.text
    found = _UPLOAD_ID.match(sent.headers["location"])
    assert found
    return found.group(1)


async def _confirm(client: httpx.AsyncClient, upload_id: str, mode: str) -> httpx.Response:
    preview = await client.get(f"/upload/{upload_id}")
    return await client.post(
        f"/upload/{upload_id}/import",
        data={"mode": mode, "_csrf_token": csrf_token(preview.text)},
    )


async def _count(connection: AsyncConnection, table: Any) -> int:
    return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())


async def test_preview_stores_nothing_and_confirming_stores_as_the_signed_in_organization(
    client: httpx.AsyncClient, members: Members, connection: AsyncConnection
) -> None:
    await sign_in(client, members.regulator.key)
    events_before = await _count(connection, audit_events)
    upload_id = await _preview(client, GOOD)
    preview = await client.get(f"/upload/{upload_id}")
    assert preview.status_code == 200
    assert "nothing has been stored" in preview.text
    assert "<strong>3</strong> rows read" in preview.text
    assert "<strong>3</strong> would be imported" in preview.text
    assert "Rule coverage" in preview.text
    assert await _count(connection, reports) == 0
    assert await _count(connection, audit_events) == events_before

    done = await _confirm(client, upload_id, "all")
    assert done.status_code == 200, done.text
    assert "3 reports created" in done.text
    rows = (await connection.execute(select(reports))).all()
    assert len(rows) == 3
    # Filed as the signed-in regulator, though the mapping names "Kenya Data Commission".
    assert {row.organization_id for row in rows} == {members.regulator.organization.id}
    assert {row.external_ref for row in rows} == {"KE-2026-001", "KE-2026-002", "KE-2026-003"}
    assert await _count(connection, audit_events) > events_before
    listed = await client.get("/api/v1/reports", headers=members.regulator.headers)
    assert len(listed.json()["items"]) == 3

    # The same file again changes nothing.
    again = await _preview(client, GOOD)
    repeated = await _confirm(client, again, "all")
    assert "0 reports created, 0 updated, 3 unchanged" in repeated.text
    assert await _count(connection, reports) == 3


async def test_good_rows_alone_and_the_rejected_rows_reimport_once_corrected(
    client: httpx.AsyncClient, members: Members, connection: AsyncConnection
) -> None:
    await sign_in(client, members.regulator.key)
    upload_id = await _preview(client, MESSY)
    preview = await client.get(f"/upload/{upload_id}")
    assert "<strong>2</strong> refused" in preview.text
    # Every problem named by the file's line and column.
    assert re.search(r"<tr><td>3</td><td>Opened</td>", preview.text)
    assert re.search(r"<tr><td>4</td><td>Countries</td>", preview.text)
    assert "Import the good rows" in preview.text
    # The same problems in the page's language, the values as given.
    french = await client.get(f"/upload/{upload_id}", headers={"Accept-Language": "fr"})
    assert "&#39;Atlantis&#39; n’a pas de correspondance" in french.text
    assert "&#39;2026-04-02&#39; ne suit pas le format %d/%m/%Y" in french.text

    # All or nothing: nothing.
    refused = await _confirm(client, upload_id, "all")
    assert "Nothing was stored" in refused.text
    assert await _count(connection, reports) == 0

    partial = await _confirm(client, upload_id, "partial")
    assert "1 reports created" in partial.text
    assert await _count(connection, reports) == 1

    download = await client.get(f"/upload/{upload_id}/rejected.csv")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    rejected = list(csv.reader(io.StringIO(download.text)))
    assert rejected[0][-1] == "rejected because"
    assert [row[0] for row in rejected[1:]] == ["KE-2026-002", "KE-2026-003"]
    assert "Opened" in rejected[1][-1]
    assert "Countries" in rejected[2][-1]

    # Corrected (the reasons column is ignored: the mapping does not name it), it re-imports.
    corrected = download.text.replace("2026-04-02", "02/04/2026").replace("Atlantis", "Kenya")
    again = await _preview(client, corrected, filename="register-rejected.csv")
    assert "<strong>0</strong> refused" in (await client.get(f"/upload/{again}")).text
    done = await _confirm(client, again, "all")
    assert "2 reports created" in done.text
    assert await _count(connection, reports) == 3


async def test_reports_as_ndjson_preview_then_import_as_the_api_batch_would(
    client: httpx.AsyncClient, members: Members, connection: AsyncConnection
) -> None:
    import msgspec

    await sign_in(client, members.regulator.key)
    items = [report_payload(external_ref=f"web-{n}", title=f"Upload {n}") for n in range(2)]
    body = b"\n".join(msgspec.json.encode(item) for item in items)
    upload_id = await _preview(client, body, filename="reports.ndjson", mapping="")
    preview = await client.get(f"/upload/{upload_id}")
    assert "<strong>2</strong> would be imported" in preview.text
    assert await _count(connection, reports) == 0
    done = await _confirm(client, upload_id, "all")
    assert "2 reports created" in done.text
    assert await _count(connection, reports) == 2
    # Sent again: the API's own conflict, nothing stored.
    again = await _preview(client, body, filename="reports.ndjson", mapping="")
    repeated = await client.get(f"/upload/{again}")
    assert "already filed a report with external_ref" in repeated.text
    assert await _count(connection, reports) == 2


async def test_limits_and_bad_input_are_named_by_field(
    client: httpx.AsyncClient, members: Members, connection: AsyncConnection, monkeypatch: Any
) -> None:
    await sign_in(client, members.regulator.key)
    monkeypatch.setattr(upload_pages, "MAX_FILE_BYTES", 1_000)
    big = await _send(client, GOOD + "x" * 1_000)
    assert big.status_code == 413
    assert re.search(r'id="error-file-1">At most 1,000 bytes', big.text)
    monkeypatch.setattr(upload_pages, "MAX_FILE_BYTES", 5_000_000)
    monkeypatch.setattr(upload_pages, "MAX_ROWS", 2)
    many = await _send(client, GOOD)
    assert many.status_code == 413
    assert "At most 2 rows; this file has 3" in many.text
    no_mapping = await _send(client, GOOD, mapping="")
    assert no_mapping.status_code == 422
    assert 'id="error-mapping-1">A table needs a mapping' in no_mapping.text
    bad_mapping = await _send(
        client, GOOD, mapping=MAPPING.replace('title = "Headline"', 'colour = "Headline"')
    )
    assert bad_mapping.status_code == 422
    assert "Unknown field &#39;colour&#39;" in bad_mapping.text
    nul = await _send(client, GOOD.replace("GateFace", "Gate\x00Face"))
    assert nul.status_code == 422
    assert 'id="error-file-1">Holds the NUL character' in nul.text
    escaped = await _send(client, b'{"title": "a\\u0000b"}', filename="r.ndjson", mapping="")
    assert escaped.status_code == 422
    wrong_type = await _send(client, b"%PDF", filename="register.pdf")
    assert wrong_type.status_code == 422
    assert await _count(connection, web_uploads) == 0
    assert await _count(connection, reports) == 0


async def test_only_filers_and_only_the_uploading_session(
    client: httpx.AsyncClient, members: Members, connection: AsyncConnection
) -> None:
    signed_out = await client.get("/upload")
    assert signed_out.status_code in {302, 303}
    assert signed_out.headers["location"].startswith("/sign-in")
    await sign_in(client, members.researcher.key)
    assert (await client.get("/upload")).status_code == 403
    await client.post("/sign-out", data={"_csrf_token": csrf_token((await client.get("/")).text)})

    await sign_in(client, members.regulator.key)
    upload_id = await _preview(client, GOOD)
    token = csrf_token((await client.get(f"/upload/{upload_id}")).text)
    # Another organization (a regulator of the same country, too) cannot see or confirm it.
    for other in (members.same_jurisdiction, members.other_regulator):
        async with httpx.AsyncClient(transport=client._transport, base_url=client.base_url) as them:
            await sign_in(them, other.key)
            assert (await them.get(f"/upload/{upload_id}")).status_code == 404
            own = csrf_token((await them.get("/upload")).text)
            answer = await them.post(
                f"/upload/{upload_id}/import", data={"mode": "all", "_csrf_token": own}
            )
            assert answer.status_code == 404
            assert (await them.get(f"/upload/{upload_id}/rejected.csv")).status_code == 404
    # Without its CSRF token, refused: the confirmation and the multipart upload alike.
    no_token = await client.post(f"/upload/{upload_id}/import", data={"mode": "all"})
    assert no_token.status_code == 403
    unsigned = await client.post(
        "/upload", data={"mapping": MAPPING}, files={"file": ("register.csv", GOOD.encode())}
    )
    assert unsigned.status_code == 403
    assert await _count(connection, web_uploads) == 1
    # Signing out ends the upload with the session: signed in again, it is gone.
    await client.post("/sign-out", data={"_csrf_token": token})
    assert await _count(connection, web_uploads) == 0
    await sign_in(client, members.regulator.key)
    assert (await client.get(f"/upload/{upload_id}")).status_code == 404
    assert await _count(connection, reports) == 0


async def test_the_mapping_as_an_uploaded_file_and_without_an_organization_line(
    client: httpx.AsyncClient, members: Members, connection: AsyncConnection
) -> None:
    await sign_in(client, members.regulator.key)
    form = await client.get("/upload")
    # No `organization` line: the signed-in organization files.
    mapping = "\n".join(
        line for line in MAPPING.splitlines() if not line.startswith("organization")
    )
    sent = await client.post(
        "/upload",
        data={"_csrf_token": csrf_token(form.text), "mapping": ""},
        files={
            "file": ("register.csv", GOOD.encode(), "text/csv"),
            "mapping_file": ("register.toml", mapping.encode(), "application/toml"),
        },
    )
    assert sent.status_code == 303, sent.text
    upload_id = sent.headers["location"].removeprefix("/upload/")
    done = await _confirm(client, upload_id, "all")
    assert "3 reports created" in done.text
    owners = (await connection.execute(select(reports.c.organization_id))).scalars().all()
    assert set(owners) == {members.regulator.organization.id}
    # A mapping problem is named by the line of the mapping as the person wrote it.
    bad = mapping.replace('title = "Headline"', 'colour = "Headline"')
    line = bad.splitlines().index('colour = "Headline"') + 1
    refused = await _send(client, GOOD, mapping=bad)
    assert refused.status_code == 422
    assert f"line {line}: Unknown field" in refused.text


async def test_a_body_over_the_routes_limit_is_refused_and_stores_nothing(
    client: httpx.AsyncClient, members: Members, connection: AsyncConnection
) -> None:
    await sign_in(client, members.regulator.key)
    huge = "x" * (upload_runs.MAX_FILE_BYTES + 3 * upload_pages.MAX_MAPPING_BYTES)
    answer = await _send(client, huge)
    assert answer.status_code == 413
    assert "<h1>Too large</h1>" in answer.text  # the error page, before the form is read
    assert await _count(connection, web_uploads) == 0


async def test_a_spreadsheet_with_the_sheet_option(
    client: httpx.AsyncClient, members: Members, connection: AsyncConnection
) -> None:
    await sign_in(client, members.regulator.key)
    rows: list[list[str | int]] = [list(line.split(",")) for line in GOOD.splitlines()]
    workbook = _xlsx({"Notes": [["Read me first"]], "Register": rows})
    wrong = await _send(client, workbook, filename="register.xlsx", sheet="Summary")
    assert wrong.status_code == 422
    assert 'id="error-sheet-1">No sheet &#39;Summary&#39;; sheets: Notes, Register' in wrong.text
    upload_id = await _preview(client, workbook, filename="register.xlsx", sheet="Register")
    assert "<strong>3</strong> would be imported" in (await client.get(f"/upload/{upload_id}")).text
    done = await _confirm(client, upload_id, "all")
    assert "3 reports created" in done.text
    assert await _count(connection, reports) == 3
