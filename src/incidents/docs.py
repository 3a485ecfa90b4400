"""The API documentation pages, with their scripts and styles served from the package (offline)."""

from __future__ import annotations

from pathlib import Path

from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.router import Router
from litestar.static_files import create_static_files_router

ASSETS = Path(__file__).with_name("static") / "docs"
ASSETS_PATH = "/static/docs"
FAVICON = f"<link rel='icon' type='image/png' href='{ASSETS_PATH}/swagger-ui/favicon-32x32.png'>"


def render_plugins() -> list[ScalarRenderPlugin | SwaggerRenderPlugin]:
    """Scalar at /schema and Swagger UI at /schema/swagger, neither fetching from a CDN."""
    return [
        ScalarRenderPlugin(
            path="/",
            js_url=f"{ASSETS_PATH}/scalar/standalone.js",
            css_url=f"{ASSETS_PATH}/scalar/theme.css",
            # Scalar otherwise loads its fonts from its own site.
            options={"withDefaultFonts": False},
            favicon=FAVICON,
        ),
        SwaggerRenderPlugin(
            path="/swagger",
            js_url=f"{ASSETS_PATH}/swagger-ui/swagger-ui-bundle.js",
            css_url=f"{ASSETS_PATH}/swagger-ui/swagger-ui.css",
            standalone_preset_js_url=f"{ASSETS_PATH}/swagger-ui/swagger-ui-standalone-preset.js",
            favicon=FAVICON,
        ),
    ]


def assets_router() -> Router:
    return create_static_files_router(
        path=ASSETS_PATH,
        directories=[ASSETS],
        include_in_schema=False,
        name="docs-assets",
    )
