"""The API documentation works offline (every asset from the package), and CORS is an explicit
allow-list, off by default."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from incidents.app import create_app
from incidents.config import SettingsError, settings_from_env
from tests.conftest import SavepointDatabase, serve_in_process


@pytest.mark.parametrize("page", ["/schema", "/schema/swagger"])
async def test_the_documentation_pages_load_nothing_from_elsewhere(
    client: httpx.AsyncClient, page: str
) -> None:
    html = (await client.get(page)).text
    links = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert links, html
    for link in links:
        assert link.startswith("/"), f"{page} loads {link} from elsewhere"
        asset = await client.get(link)
        assert asset.status_code == 200, link
        assert len(asset.content) > 0, link
    scripts = [link for link in links if link.endswith(".js")]
    assert scripts
    for script in scripts:
        body = await client.get(script)
        assert "javascript" in body.headers["content-type"]
        assert len(body.content) > 100_000, "the real bundle, not a stub"
    assert "withDefaultFonts" in html or page.endswith("swagger"), "Scalar's web fonts stay off"


async def test_cors_is_off_by_default(client: httpx.AsyncClient) -> None:
    preflight = await client.options(
        "/api/v1/reports",
        headers={"Origin": "https://dashboard.example.org", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    plain = await client.get("/health", headers={"Origin": "https://dashboard.example.org"})
    assert "access-control-allow-origin" not in plain.headers


async def test_cors_answers_only_the_listed_origins(
    tmp_path: Path, database: SavepointDatabase
) -> None:
    settings = settings_from_env(
        {
            "INCIDENTS_DATA_DIR": str(tmp_path),
            "INCIDENTS_CORS_ORIGINS": "https://dashboard.example.org, http://localhost:5173",
        }
    )
    assert settings.cors_origins == ("https://dashboard.example.org", "http://localhost:5173")
    app = create_app(settings, database=database)
    async with serve_in_process(app) as client:
        allowed = await client.options(
            "/api/v1/reports",
            headers={
                "Origin": "https://dashboard.example.org",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        assert allowed.status_code in {200, 204}
        assert allowed.headers["access-control-allow-origin"] == "https://dashboard.example.org"
        assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
        answered = await client.get("/health", headers={"Origin": "http://localhost:5173"})
        assert answered.headers["access-control-allow-origin"] == "http://localhost:5173"
        assert "x-request-id" in answered.headers["access-control-expose-headers"].lower()
        other = await client.get("/health", headers={"Origin": "https://evil.example.com"})
        assert "access-control-allow-origin" not in other.headers


def test_a_malformed_origin_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="INCIDENTS_CORS_ORIGINS: each origin must be"):
        settings_from_env({"INCIDENTS_CORS_ORIGINS": "*", "INCIDENTS_DATA_DIR": str(tmp_path)})
