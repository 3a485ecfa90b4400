"""No input reaches a 5xx: unusable text, deep JSON and forged cursors are 4xx problems at the
edge, unknown query parameters are named, bodies come as JSON, HEAD and OPTIONS work."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from incidents.app import create_app
from incidents.config import Settings
from incidents.db import Database, create_engine
from tests.conftest import serve_in_process
from tests.factories import Members, report_payload
from tests.reports.helpers import file, file_accepted
from tests.test_app import assert_problem

JSON = {"content-type": "application/json"}


def _cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/reports?q=a%00b",
        "/api/v1/reports.csv?q=a%00b",
        "/api/v1/incidents.ndjson?q=%00",
        "/api/v1/reports?harm_domain=1.1%00",
        "/api/v1/reports/RPT%00",
        "/api/v1/incidents/INC-2026-000001%00/similar",
        "/api/v1/reports?q=%ff%fe",
        "/api/v1/reports/%ff",
        "/api/v1/reports?%00=1",
    ],
)
async def test_nul_or_invalid_utf8_in_the_url_is_a_400_naming_where(
    client: httpx.AsyncClient, members: Members, path: str
) -> None:
    for headers in ({}, members.secretariat.headers):
        body = assert_problem(await client.get(path, headers=headers), 400)
        assert body["errors"], body
        assert body["errors"][0]["field"].split(".")[0] in {"path", "query"}


async def test_nul_in_a_header_is_a_400(client: httpx.AsyncClient, members: Members) -> None:
    response = await client.post(
        "/api/v1/reports",
        json=report_payload(),
        headers={**members.regulator.headers, "Idempotency-Key": "abc\x00def"},
    )
    body = assert_problem(response, 400)
    assert body["errors"][0]["field"] == "header.idempotency-key"


@pytest.mark.parametrize(
    ("path", "who", "payload"),
    [
        ("/api/v1/organizations", "secretariat", b'{"name": "a\\u0000b", "kind": "research"}'),
        ("/api/v1/reports", "regulator", None),
        ("/api/v1/reports/batch", "regulator", None),
        ("/api/v1/briefs", "secretariat", b'{"period": "2026-Q1", "scope": {"q": "x\\u0000"}}'),
    ],
)
async def test_nul_anywhere_in_a_json_body_is_a_422_and_stores_nothing(
    client: httpx.AsyncClient, members: Members, path: str, who: str, payload: bytes | None
) -> None:
    if payload is None:
        report = json.dumps(report_payload(title="Gate\u0000face")).encode()
        payload = b"[" + report + b"]" if path.endswith("batch") else report
    member = getattr(members, who)
    response = await client.post(path, content=payload, headers={**member.headers, **JSON})
    body = assert_problem(response, 422)
    assert "NUL" in body["errors"][0]["message"]
    listed = await client.get("/api/v1/reports", headers=members.secretariat.headers)
    assert listed.json()["items"] == []


async def test_an_escaped_backslash_before_u0000_is_ordinary_text(
    client: httpx.AsyncClient, members: Members
) -> None:
    # "a\\u0000b" is the six characters \u0000 written literally, not a NUL.
    response = await client.post(
        "/api/v1/organizations",
        content=b'{"name": "a\\\\u0000b", "kind": "research"}',
        headers={**members.secretariat.headers, **JSON},
    )
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "a\\u0000b"


async def test_invalid_utf8_in_a_body_is_a_422(client: httpx.AsyncClient, members: Members) -> None:
    response = await client.post(
        "/api/v1/organizations",
        content=b'{"name": "a\xff\xfeb", "kind": "research"}',
        headers={**members.secretariat.headers, **JSON},
    )
    body = assert_problem(response, 422)
    assert "UTF-8" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    ("path", "who"),
    [
        ("/api/v1/organizations", "secretariat"),
        ("/api/v1/reports", "regulator"),
        ("/api/v1/reports/batch", "regulator"),
        ("/api/v1/taxonomy/versions", "secretariat"),
        ("/api/v1/briefs", "secretariat"),
    ],
)
async def test_json_nested_50000_deep_is_a_4xx(
    client: httpx.AsyncClient, members: Members, path: str, who: str
) -> None:
    deep = b"[" * 50_000 + b"]" * 50_000
    for payload in (deep, b'{"a": ' + deep + b"}"):
        response = await client.post(
            path, content=payload, headers={**getattr(members, who).headers, **JSON}
        )
        assert response.status_code in {400, 422}, response.text
        assert_problem(response, response.status_code)


@pytest.mark.parametrize(
    ("sort", "values"),
    [
        ("newest", ["x"]),
        ("newest", [1.5]),
        ("newest", [10**30]),
        ("oldest", [-1]),
        ("occurred", ["x", 1]),
        ("occurred", ["2026-01-01", "y"]),
        ("occurred", [1]),
        ("relevance", ["x", "y"]),
        ("relevance", [1, 2, 3]),
        ("relevance", [{"a": 1}, 1]),
    ],
)
async def test_a_cursor_of_the_wrong_shape_is_a_422_for_every_sort(
    client: httpx.AsyncClient, members: Members, sort: str, values: list[Any]
) -> None:
    await file_accepted(client, members, title="Facial recognition at gates")
    query = f"sort={sort}&cursor={_cursor(values)}" + ("&q=facial" if sort == "relevance" else "")
    for path in ("/api/v1/reports", "/api/v1/incidents"):
        if path.endswith("incidents") and sort not in {"newest", "oldest"}:
            continue  # incidents sort newest or oldest only
        response = await client.get(f"{path}?{query}", headers=members.secretariat.headers)
        body = assert_problem(response, 422)
        assert body["errors"][0]["field"] == "cursor"
    garbage = await client.get("/api/v1/reports?cursor=%21%21not-base64", headers={})
    assert_problem(garbage, 422)


async def test_an_unknown_query_parameter_is_a_400_naming_the_valid_ones(
    client: httpx.AsyncClient, members: Members
) -> None:
    await file_accepted(client, members)
    response = await client.get(
        "/api/v1/reports?sevrity=serious_incident", headers=members.secretariat.headers
    )
    body = assert_problem(response, 400)
    assert body["errors"] == [
        {
            "field": "sevrity",
            "message": "Not a query parameter of this endpoint; did you mean 'severity'?",
        }
    ]
    for name in ("severity", "harm_domain", "cursor", "limit", "sort", "facets", "q"):
        assert name in body["detail"]
    for path in (
        "/api/v1/incidents?limt=5",
        "/api/v1/taxonomy?x=1",
        "/api/v1/reports.csv?sevrity=hazard",
        "/health?verbose=1",
    ):
        assert_problem(await client.get(path, headers=members.secretariat.headers), 400)
    # Every documented parameter is accepted, the filters' included.
    fine = await client.get(
        "/api/v1/reports?severity=serious_incident&limit=5&sort=oldest&facets=severity",
        headers=members.secretariat.headers,
    )
    assert fine.status_code == 200, fine.text
    assert len(fine.json()["items"]) == 1


async def test_json_sent_as_text_plain_is_a_415(
    client: httpx.AsyncClient, members: Members
) -> None:
    payload = json.dumps(report_payload()).encode()
    for content_type in ("text/plain", "application/x-www-form-urlencoded", ""):
        headers = {**members.regulator.headers}
        if content_type:
            headers["content-type"] = content_type
        response = await client.post("/api/v1/reports", content=payload, headers=headers)
        body = assert_problem(response, 415)
        assert "application/json" in body["detail"]
    latin = {**members.regulator.headers, "content-type": "application/json; charset=latin-1"}
    assert_problem(await client.post("/api/v1/reports", content=payload, headers=latin), 415)
    listed = await client.get("/api/v1/reports", headers=members.regulator.headers)
    assert listed.json()["items"] == []
    ndjson = {**members.regulator.headers, "content-type": "application/x-ndjson"}
    batch = await client.post("/api/v1/reports/batch", content=payload + b"\n", headers=ndjson)
    assert batch.status_code == 201, batch.text


async def test_head_answers_wherever_get_does_without_a_body(
    client: httpx.AsyncClient, members: Members
) -> None:
    report = (await file(client, members.regulator))["report"]
    for path in (
        "/api/v1/reports",
        f"/api/v1/reports/{report['ref']}",
        "/api/v1/reports.csv",
        "/api/v1/taxonomy",
        "/health",
    ):
        got = await client.get(path, headers=members.regulator.headers)
        head = await client.head(path, headers=members.regulator.headers)
        assert head.status_code == got.status_code == 200, path
        assert head.content == b""
        assert head.headers["content-type"] == got.headers["content-type"]
    missing = await client.head("/api/v1/reports/RPT-1999-999999")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert missing.content == b""


async def test_options_lists_every_method_of_a_path(client: httpx.AsyncClient) -> None:
    response = await client.options("/api/v1/reports")
    assert response.status_code == 204
    assert response.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    report_methods = (await client.options("/api/v1/reports/RPT-2026-000001")).headers["allow"]
    assert report_methods == "GET, HEAD, OPTIONS, PATCH"
    not_allowed = await client.delete("/api/v1/reports")
    assert_problem(not_allowed, 405)
    assert not_allowed.headers["allow"] == "GET, HEAD, OPTIONS, POST"


async def test_with_the_database_down_every_database_route_is_503_with_retry_after(
    tmp_path: Path, members: Members
) -> None:
    # A port nothing listens on: every connection attempt is refused.
    down = Database(create_engine("postgresql://nobody:x@127.0.0.1:9/none", pool_size=1))
    app = create_app(Settings(data_dir=tmp_path, auth_cache_seconds=0), database=down)
    async with serve_in_process(app) as client:
        schema = (await client.get("/schema/openapi.json")).json()
        assert (await client.get("/health")).status_code == 200
        answered = 0
        for path, operations in schema["paths"].items():
            concrete = (
                path.replace("{reference}", "RPT-2026-000001")
                .replace("{organization_id}", "01a2219e-78c9-7e1f-96f4-e8609f7b9c0b")
                .replace("{key_id}", "01a2219e-78c9-7e1f-96f4-e8609f7b9c0b")
                .replace("{brief_id}", "01a2219e-78c9-7e1f-96f4-e8609f7b9c0b")
                .replace("{name}", "01a2219e-78c9-7e1f-96f4-e8609f7b9c0b")
                .replace("{version}", "1")
            )
            for method in operations:
                if path in {"/health"}:
                    continue
                response = await client.request(
                    method.upper(),
                    concrete,
                    json={} if method in {"post", "patch"} else None,
                    headers={"Authorization": f"Bearer {members.secretariat.key}"},
                )
                assert response.status_code == 503, f"{method} {path}: {response.text}"
                assert response.headers["retry-after"].isdigit()
                assert_problem(response, 503)
                answered += 1
        # Public reads without a key reach the database too.
        for path in ("/api/v1/reports", "/api/v1/incidents", "/api/v1/briefs", "/ready"):
            response = await client.get(path)
            assert response.status_code == 503, f"{path}: {response.text}"
            assert response.headers["retry-after"].isdigit()
    await down.dispose()
    assert answered > 40
