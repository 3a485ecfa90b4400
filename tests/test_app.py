"""Problem details for every kind of error, health and readiness, and the OpenAPI document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import get
from openapi_spec_validator import validate

from incidents.app import create_app
from incidents.config import Settings
from incidents.db import Database, create_engine
from tests.conftest import SavepointDatabase, serve_in_process
from tests.factories import Members

PROBLEM = "application/problem+json"


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert str(body["type"]).startswith("urn:incidents:problem:")
    assert body["title"]
    assert body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


async def test_health_answers_without_a_database_call(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_reports_the_migration_at_head(client: httpx.AsyncClient) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


async def test_ready_is_503_on_an_unmigrated_database(settings: Settings, server_url: str) -> None:
    # The server's maintenance database has no registry schema at all.
    empty = Database(create_engine(server_url, pool_size=1))
    app = create_app(settings, database=empty)
    async with serve_in_process(app) as client:
        body = assert_problem(await client.get("/ready"), 503)
    await empty.dispose()
    assert "incidents db upgrade" in str(body["detail"])


async def test_a_worker_whose_connections_are_all_in_use_answers_503_busy(
    settings: Settings, shared_database_url: str
) -> None:
    """An overloaded worker (every pooled connection held past the pool's timeout) tells the
    client to come back, as a 503 with Retry-After, not an internal error."""
    busy = Database(create_engine(shared_database_url, pool_size=1, pool_timeout=0.2))
    app = create_app(settings, database=busy)
    async with serve_in_process(app) as client:
        assert (await client.get("/api/v1/reports")).status_code == 200  # the taxonomy is read
        async with busy.connect(), busy.connect():  # the pool's one connection and its overflow
            response = await client.get("/api/v1/reports")
        body = assert_problem(response, 503)
        assert response.headers["retry-after"].isdigit()
        assert "busy" in str(body["detail"])
        assert (await client.get("/api/v1/reports")).status_code == 200  # and it recovers
    await busy.dispose()


async def test_unknown_route_is_a_404_problem(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/nothing-here"), 404)


async def test_wrong_method_is_a_405_problem(client: httpx.AsyncClient) -> None:
    assert_problem(await client.delete("/health"), 405)


async def test_request_id_is_echoed_when_safe_and_replaced_when_not(
    client: httpx.AsyncClient,
) -> None:
    echoed = await client.get("/health", headers={"X-Request-ID": "trace-123"})
    assert echoed.headers["x-request-id"] == "trace-123"
    replaced = await client.get("/health", headers={"X-Request-ID": "bad id\twith junk"})
    assert replaced.headers["x-request-id"] != "bad id\twith junk"


async def test_body_over_the_limit_is_a_413_problem(
    tmp_path: Path, database: SavepointDatabase, members: Members
) -> None:
    app = create_app(Settings(data_dir=tmp_path, max_body_bytes=2048), database=database)
    async with serve_in_process(app) as client:
        response = await client.post(
            "/api/v1/organizations",
            content=b'{"name": "' + b"x" * 5000 + b'", "kind": "research"}',
            headers={**members.secretariat.headers, "content-type": "application/json"},
        )
    assert_problem(response, 413)


async def test_unexpected_error_is_a_500_without_internals(
    settings: Settings, database: SavepointDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    @get("/boom", sync_to_thread=False)
    def boom() -> None:
        raise RuntimeError("secret internal detail")

    app = create_app(settings, database=database)
    app.register(boom)
    async with serve_in_process(app) as client:
        response = await client.get("/boom")
    body = assert_problem(response, 500)
    assert "secret internal detail" not in response.text
    assert "Traceback" not in response.text
    logged = [record for record in caplog.records if record.name == "incidents.errors"]
    assert logged
    assert str(body["request_id"]) in logged[0].getMessage()


async def test_every_request_is_logged_once_with_id_status_and_duration(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="incidents.access")
    await client.get("/nowhere", headers={"Authorization": "Bearer inc_secret_should_not_appear"})
    lines = [record for record in caplog.records if record.name == "incidents.access"]
    assert len(lines) == 1
    fields = vars(lines[0])
    assert (fields["method"], fields["path"], fields["status"]) == ("GET", "/nowhere", 404)
    assert fields["duration_ms"] >= 0
    assert len(fields["request_id"]) >= 16
    assert "inc_secret" not in lines[0].getMessage()


async def test_openapi_document_is_valid_and_every_operation_is_documented(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    document = response.json()
    validate(document)
    operation_ids = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            assert operation.get("operationId"), where
            assert operation.get("summary"), where
            statuses = set(operation["responses"])
            assert "500" in statuses, where
            if path.startswith("/api/"):
                errors = {status for status in statuses if status[0] in "45" and status != "500"}
                assert errors, f"{where} documents no error response of its own"
            operation_ids.append(operation["operationId"])
    assert len(operation_ids) == len(set(operation_ids))
    assert (await client.get("/schema")).status_code == 200
