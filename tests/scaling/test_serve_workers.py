"""`incidents serve --workers 2` as a user runs it: a key revoked through whichever worker
answered the revocation is refused by every worker from then on, with a 10-minute key cache."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.test_serve import Server

pytestmark = pytest.mark.slow

# Separate connections, so that the kernel hands them to either worker.
REQUESTS = 40


def _statuses(url: str, key: str) -> list[int]:
    return [
        httpx.get(f"{url}/api/v1/me", headers={"Authorization": f"Bearer {key}"}).status_code
        for _ in range(REQUESTS)
    ]


def test_a_revoked_key_is_refused_by_every_worker_at_once(tmp_path: Path) -> None:
    server = Server(
        tmp_path / "registry",
        "--workers",
        "2",
        extra_environment={"INCIDENTS_AUTH_CACHE_SECONDS": "600"},
    )
    try:
        server.wait_for("API on")
        server.wait_ready()
        secretariat = server.key()
        assert secretariat is not None
        headers = {"Authorization": f"Bearer {secretariat}"}
        created = httpx.post(
            f"{server.url}/api/v1/organizations",
            json={"name": "Ghana DPC", "kind": "regulator", "jurisdiction": "GH"},
            headers=headers,
        )
        assert created.status_code == 201, created.text
        issued = httpx.post(
            f"{server.url}/api/v1/organizations/{created.json()['id']}/keys",
            json={"label": "workers"},
            headers=headers,
        )
        assert issued.status_code == 201, issued.text
        key = issued.json()["key"]
        # Every worker that answers now keeps the key in its cache for ten minutes.
        assert set(_statuses(server.url, key)) == {200}
        revoked = httpx.post(
            f"{server.url}/api/v1/keys/{issued.json()['id']}/revoke", headers=headers
        )
        assert revoked.status_code == 200, revoked.text
        assert set(_statuses(server.url, key)) == {401}
        # The secretariat's own cached key is read again, once, and still works.
        assert httpx.get(f"{server.url}/api/v1/me", headers=headers).status_code == 200
    finally:
        exit_code = server.stop()
    assert exit_code == 0, server.drain()
