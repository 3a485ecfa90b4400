"""`incidents serve` as a user runs it: embedded cluster, first key, clean stop, data kept."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest

pytestmark = pytest.mark.slow

KEY = re.compile(r"(inc_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{43})")
DEMO_KEY = re.compile(r"Demo \w+ key \([^)]*\): inc_\S+")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    def __init__(
        self, data_dir: Path, *args: str, extra_environment: dict[str, str] | None = None
    ) -> None:
        self.port = _free_port()
        environment = {
            key: value for key, value in os.environ.items() if not key.startswith("INCIDENTS_")
        }
        environment["INCIDENTS_DATA_DIR"] = str(data_dir)
        environment.update(extra_environment or {})
        self.process = subprocess.Popen(
            [sys.executable, "-m", "incidents", "serve", "--port", str(self.port), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=environment,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def wait_for(self, marker: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            self.output.append(line)
            if marker in line:
                return
        raise AssertionError(f"never saw {marker!r}:\n{''.join(self.output)}")

    def drain(self) -> str:
        """Everything the server printed so far (after stop(): everything)."""
        while True:
            try:
                self.output.append(self.lines.get_nowait())
            except queue.Empty:
                return "".join(self.output)

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/ready", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError("never became ready")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def key(self) -> str | None:
        for line in self.output:
            if match := KEY.search(line):
                return match.group(1)
        return None

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def _postgres_processes(data_dir: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if process.info["name"] == "postgres" and str(data_dir) in cmdline:
            found.append(process)
    return found


def test_serve_starts_embedded_postgres_prints_a_key_stops_cleanly_and_keeps_data(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "registry"
    first = Server(data_dir)
    try:
        first.wait_for("API on")
        first.wait_ready()
        key = first.key()
        assert key is not None, "a new database must print a secretariat key"
        headers = {"Authorization": f"Bearer {key}"}
        me = httpx.get(f"{first.url}/api/v1/me", headers=headers)
        assert me.status_code == 200
        assert me.json()["kind"] == "secretariat"
        created = httpx.post(
            f"{first.url}/api/v1/organizations",
            json={"name": "Ghana DPC", "kind": "regulator", "jurisdiction": "GH"},
            headers=headers,
        )
        assert created.status_code == 201
        assert "/schema" in "".join(first.output)
    finally:
        exit_code = first.stop()
    assert exit_code == 0, "".join(first.output)
    assert _postgres_processes(data_dir) == []

    second = Server(data_dir)
    try:
        second.wait_for("API on")
        second.wait_ready()
        assert second.key() is None, "an existing database must not get a new key"
        listed = httpx.get(f"{second.url}/api/v1/organizations", headers=headers)
        assert listed.status_code == 200
        assert "Ghana DPC" in {item["name"] for item in listed.json()["items"]}
    finally:
        assert second.stop() == 0
    assert _postgres_processes(data_dir) == []


def test_an_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("INCIDENTS_")}
    environment["INCIDENTS_DATABASE_URL"] = f"postgresql://nobody:wrong@127.0.0.1:{_free_port()}/x"
    result = subprocess.run(
        [sys.executable, "-m", "incidents", "serve"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: cannot reach PostgreSQL at postgresql://nobody@127.0.0.1")
    assert "wrong" not in result.stderr


def test_a_wrong_password_is_one_clear_line() -> None:
    given = os.environ.get("INCIDENTS_TEST_DATABASE_URL", "")
    parts = httpx.URL(given) if given else None
    if parts is None or not parts.password:
        pytest.skip("needs INCIDENTS_TEST_DATABASE_URL with a password (CI's PostgreSQL 15 run)")
    wrong = str(parts.copy_with(password="definitely-wrong"))
    environment = {k: v for k, v in os.environ.items() if not k.startswith("INCIDENTS_")}
    environment["INCIDENTS_DATABASE_URL"] = wrong
    result = subprocess.run(
        [sys.executable, "-m", "incidents", "db", "current"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "refused the password" in lines[0]
    assert "definitely-wrong" not in result.stderr


def _environment(data_dir: Path, **extra: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("INCIDENTS_")}
    environment["INCIDENTS_DATA_DIR"] = str(data_dir)
    environment.update(extra)
    return environment


def test_after_kill_9_the_next_serve_stops_the_database_it_adopted(tmp_path: Path) -> None:
    data_dir = tmp_path / "registry"
    first = Server(data_dir)
    first.wait_for("API on")
    first.wait_ready()
    first.process.kill()
    first.process.wait(timeout=30)
    orphans = _postgres_processes(data_dir)
    assert orphans, "the embedded server outlives a serve killed with -9"

    second = Server(data_dir)
    try:
        second.wait_for("API on")
        second.wait_ready()
        assert {process.pid for process in _postgres_processes(data_dir)} >= {
            process.pid for process in orphans
        }, "the running server is reused"
        # A one-off command on the same data directory leaves it running for serve.
        listed = subprocess.run(
            [sys.executable, "-m", "incidents", "members", "list-orgs"],
            capture_output=True,
            text=True,
            env=_environment(data_dir),
            timeout=120,
            check=False,
        )
        assert listed.returncode == 0, listed.stderr
        assert "Secretariat" in listed.stdout
        assert httpx.get(f"{second.url}/ready", timeout=5).status_code == 200
    finally:
        assert second.stop() == 0
    assert _postgres_processes(data_dir) == [], "the last user stops what it adopted"


def test_a_port_in_use_is_one_line_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "incidents", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            env=_environment(tmp_path / "registry"),
            timeout=60,
            check=False,
        )
    assert result.returncode == 1
    assert result.stdout == "", "no banner, no key printed"
    assert result.stderr.strip() == (
        f"error: port {port} on 127.0.0.1 is in use; choose another with --port or "
        "INCIDENTS_PORT (the interface with --host or INCIDENTS_HOST)"
    )
    assert not (tmp_path / "registry" / "postgres").exists(), "no database was started"


def test_a_database_url_of_another_kind_names_the_scheme(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "incidents", "serve"],
        capture_output=True,
        text=True,
        env=_environment(tmp_path, INCIDENTS_DATABASE_URL="mysql://user:secret@localhost/x"),
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: INCIDENTS_DATABASE_URL: the scheme must be postgresql:// (this service runs on "
        "PostgreSQL only), not mysql://"
    )
    assert "secret" not in result.stderr


def test_demo_keys_survive_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    keys = []
    for _ in range(2):
        server = Server(data_dir, "--demo")
        try:
            server.wait_for("API on", timeout=180)
            server.wait_ready()
            found = sorted(
                match.group(0) for line in server.output if (match := DEMO_KEY.search(line))
            )
            assert len(found) == 3, "".join(server.output)
            keys.append(found)
            for line in found:
                key = line.rsplit(" ", 1)[1]
                me = httpx.get(
                    f"{server.url}/api/v1/me", headers={"Authorization": f"Bearer {key}"}
                )
                assert me.status_code == 200
        finally:
            assert server.stop() == 0
    assert keys[0] == keys[1]
    assert (data_dir / "demo-keys.json").stat().st_mode & 0o077 == 0, "readable by its owner only"


def _next_link(server: Server, key: str, **headers: str) -> str:
    answer = httpx.get(
        f"{server.url}/api/v1/reports",
        params={"limit": 1},
        headers={"Authorization": f"Bearer {key}", **headers},
    )
    assert answer.status_code == 200, answer.text
    return answer.headers["link"]


def test_forwarded_headers_are_trusted_only_from_the_named_proxies(tmp_path: Path) -> None:
    data_dir = tmp_path / "proxied"
    forwarded = {"X-Forwarded-Proto": "https", "Host": "registry.example.org"}
    plain = Server(data_dir, "--demo")
    try:
        plain.wait_for("API on")
        plain.wait_ready()
        key = plain.key()
        assert key is not None
        # By default a client cannot claim a scheme: the next page's link is the server's own.
        assert _next_link(plain, key, **forwarded).startswith("<http://registry.example.org/")
    finally:
        assert plain.stop() == 0
    proxied = Server(data_dir, "--forwarded-allow-ips", "127.0.0.1,::1")
    try:
        proxied.wait_for("API on")
        proxied.wait_ready()
        # From a trusted proxy: the scheme the visitor used (and the Host it passes on).
        assert _next_link(proxied, key, **forwarded).startswith("<https://registry.example.org/")
        assert _next_link(proxied, key).startswith(f"<http://127.0.0.1:{proxied.port}/")
    finally:
        assert proxied.stop() == 0
    untrusted = Server(data_dir, extra_environment={"INCIDENTS_FORWARDED_ALLOW_IPS": "10.0.0.1"})
    try:
        untrusted.wait_for("API on")
        untrusted.wait_ready()
        assert _next_link(untrusted, key, **forwarded).startswith("<http://registry.example.org/")
    finally:
        assert untrusted.stop() == 0


def test_a_proxy_address_that_is_not_one_is_named(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "incidents", "serve", "--forwarded-allow-ips", "proxy.local"],
        env=_environment(tmp_path / "unused"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "--forwarded-allow-ips" in done.stderr
    assert "'proxy.local' is not an IP address or network" in done.stderr
