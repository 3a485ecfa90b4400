"""Schemathesis against a live `serve --demo`: every operation, stateless and stateful, with no
key and with each role's key, bounded in time: no server error, no answer outside its schema."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.test_serve import Server

pytestmark = [pytest.mark.slow, pytest.mark.fuzz]

#: Seconds of fuzzing per role; CI can raise it (INCIDENTS_FUZZ_SECONDS) for a deeper run.
SECONDS_PER_ROLE = int(os.environ.get("INCIDENTS_FUZZ_SECONDS", "40"))

CONFIG = Path(__file__).with_name("schemathesis.toml")
DEMO_KEY = re.compile(r"Demo (\w+) key \([^)]*\): (inc_\S+)")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, str]]]:
    server = Server(tmp_path_factory.mktemp("fuzz"), "--demo")
    server.wait_for("API on", timeout=180)
    server.wait_ready()
    keys = {
        match.group(1): match.group(2) for line in server.output if (match := DEMO_KEY.search(line))
    }
    assert set(keys) == {"regulator", "researcher", "secretariat"}, "".join(server.output)
    yield server, keys
    assert server.stop() == 0


# Runs before the fuzzing, which may revoke the keys it is given.
def test_downloads_cut_off_by_the_client_leave_no_connection_behind(
    demo: tuple[Server, dict[str, str]],
) -> None:
    server, keys = demo
    headers = {"Authorization": f"Bearer {keys['secretariat']}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        for path in ("/api/v1/reports.csv", "/api/v1/incidents.ndjson", "/api/v1/reports.parquet"):
            for _ in range(10):
                with client.stream("GET", path) as response:
                    assert response.status_code == 200
                    next(response.iter_raw(4096))
                # The connection closes here, mid-download.
        # Error paths a download or a write used to take after reaching the database.
        for method, path, body in (
            ("GET", "/api/v1/reports.csv?q=a%00b", None),
            ("GET", "/api/v1/incidents.ndjson?q=%00", None),
            ("GET", "/api/v1/reports?sort=occurred&cursor=WyJ4IiwxXQ", None),
            ("POST", "/api/v1/organizations", b'{"name": "a\\u0000b", "kind": "research"}'),
            ("POST", "/api/v1/organizations", b'{"name": "a\xffb", "kind": "research"}'),
            # A filter refused while the request's other dependencies are being resolved.
            *[("GET", "/api/v1/incidents?status=bogus", None)] * 10,
            *[("GET", "/api/v1/reports?occurred_from=someday", None)] * 10,
            *[("GET", "/api/v1/incidents.csv?sharing=TLP:PINK", None)] * 10,
        ):
            failed = client.request(
                method, path, content=body, headers={"content-type": "application/json"}
            )
            assert 400 <= failed.status_code < 500, (path, failed.text)
        # Every download still works, each to its end, and the pool is whole.
        for _ in range(3):
            complete = client.get("/api/v1/reports.csv?status=accepted")
            assert complete.status_code == 200
            assert complete.text.endswith("\r\n")
        assert client.get("/ready").status_code == 200


@pytest.mark.parametrize("role", ["public", "regulator", "researcher", "secretariat"])
def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    demo: tuple[Server, dict[str, str]], role: str, tmp_path: Path
) -> None:
    server, keys = demo
    headers = [] if role == "public" else ["-H", f"Authorization: Bearer {keys[role]}"]
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(CONFIG),
        "run",
        f"{server.url}/schema/openapi.json",
        *headers,
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-time",
        str(SECONDS_PER_ROLE),
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--generation-database",
        "none",
        "--report-dir",
        str(tmp_path),
        "--no-color",
    ]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=SECONDS_PER_ROLE * 4 + 120,
        cwd=tmp_path,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-20_000:]
    assert re.search(r"Tested: \d+", output), output[-5_000:]
    assert "Server error" not in output


def test_the_server_log_holds_no_connection_handling_warning(
    demo: tuple[Server, dict[str, str]],
) -> None:
    """Runs last: the fuzzing above sent every kind of bad input, and downloads were cut off."""
    server, _ = demo
    assert server.stop() == 0
    log = server.drain()
    for symptom in (
        "non-checked-in connection",
        "asynchronous generator is already running",
        "Task exception was never retrieved",
        "Traceback",
    ):
        at = log.find(symptom)
        assert at < 0, log[max(0, at - 15_000) : at + 3_000]
