"""Schemathesis against a live `serve --demo`: every operation, stateless and stateful, with no
key and with each role's key, bounded in time: no server error, no answer outside its schema."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

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
