"""Signing in to the pages: a key exchanged for a server-side session in a cookie the browser's
scripts cannot read, CSRF on every form, and sessions that end when they must."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.config import Settings
from incidents.members import service as members_service
from incidents.web.middleware import SESSION_COOKIE
from tests.conftest import SavepointDatabase, serve_in_process
from tests.factories import TEST_ACTOR, Members
from tests.web.helpers import csrf_token, sign_in


def _set_cookie(response: httpx.Response, name: str) -> str:
    found = [value for value in response.headers.get_list("set-cookie") if value.startswith(name)]
    assert found, f"no {name} cookie set"
    return found[0]


async def test_sign_in_exchanges_the_key_for_a_session_cookie(
    client: httpx.AsyncClient, members: Members, connection: AsyncConnection
) -> None:
    answer = await sign_in(client, members.regulator.key, next_page="/")
    assert answer.headers["location"] == "/"
    cookie = _set_cookie(answer, SESSION_COOKIE)
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Secure" not in cookie  # the setting is off by default (plain HTTP on loopback)
    token = cookie.split(";")[0].split("=", 1)[1]
    # The browser holds a session token, never the key; the database only the token's hash.
    assert members.regulator.key not in str(answer.headers)
    stored = (await connection.execute(text("SELECT token_hash FROM web_sessions"))).scalars()
    assert list(stored) == [hashlib.sha256(token.encode()).digest()]
    home = await client.get("/")
    assert "Kenya Data Commission" in home.text
    assert members.regulator.key not in home.text


async def test_a_wrong_key_is_named_beside_its_field_and_opens_nothing(
    client: httpx.AsyncClient, connection: AsyncConnection
) -> None:
    form = await client.get("/sign-in")
    answer = await client.post(
        "/sign-in",
        data={"api_key": "inc_nothing", "next": "/", "_csrf_token": csrf_token(form.text)},
    )
    assert answer.status_code == 422
    assert 'aria-invalid="true"' in answer.text
    assert "This API key is unknown, revoked or malformed" in answer.text
    assert SESSION_COOKIE not in answer.headers.get("set-cookie", "")
    count = await connection.execute(text("SELECT count(*) FROM web_sessions"))
    assert count.scalar_one() == 0


async def test_a_form_posted_without_its_csrf_token_is_refused(
    client: httpx.AsyncClient, members: Members, connection: AsyncConnection
) -> None:
    await client.get("/sign-in")  # the CSRF cookie is there; the form field is not
    answer = await client.post("/sign-in", data={"api_key": members.regulator.key, "next": "/"})
    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("text/html")
    assert "nothing was done" in answer.text
    count = await connection.execute(text("SELECT count(*) FROM web_sessions"))
    assert count.scalar_one() == 0
    forged = await client.post(
        "/sign-in",
        data={"api_key": members.regulator.key, "next": "/", "_csrf_token": "x" * 100},
    )
    assert forged.status_code == 403


async def test_the_api_takes_no_csrf_token_and_no_cookie(
    client: httpx.AsyncClient, members: Members
) -> None:
    await sign_in(client, members.regulator.key)
    # A session cookie is no credential for the API: without a key the API sees the public.
    me = await client.get("/api/v1/me")
    assert me.status_code == 401
    reports = await client.get("/api/v1/reports", headers=members.regulator.headers)
    assert reports.status_code == 200


async def test_a_revoked_keys_session_ends_at_the_next_request(
    client: httpx.AsyncClient, members: Members, connection: AsyncConnection
) -> None:
    await sign_in(client, members.regulator.key)
    assert "Kenya Data Commission" in (await client.get("/")).text
    keys = await members_service.list_keys(connection, members.regulator.organization.id)
    await members_service.revoke_key(connection, TEST_ACTOR, keys[0].id)
    after = await client.get("/")
    assert "Kenya Data Commission" not in after.text
    assert 'href="/sign-in"' in after.text
    assert "Max-Age=0" in _set_cookie(after, SESSION_COOKIE)
    count = await connection.execute(text("SELECT count(*) FROM web_sessions"))
    assert count.scalar_one() == 0


async def test_sessions_end_when_idle_or_past_their_absolute_lifetime(
    client: httpx.AsyncClient, members: Members, connection: AsyncConnection
) -> None:
    await sign_in(client, members.regulator.key)
    await connection.execute(
        text("UPDATE web_sessions SET last_seen_at = now() - interval '31 minutes'")
    )
    assert "Kenya Data Commission" not in (await client.get("/")).text

    client.cookies.clear()
    await sign_in(client, members.regulator.key)
    await connection.execute(text("UPDATE web_sessions SET last_seen_at = now()"))
    assert "Kenya Data Commission" in (await client.get("/")).text
    await connection.execute(text("UPDATE web_sessions SET expires_at = now()"))
    assert "Kenya Data Commission" not in (await client.get("/")).text


async def test_signing_out_ends_the_session_for_good(
    client: httpx.AsyncClient, members: Members
) -> None:
    answer = await sign_in(client, members.regulator.key)
    token = _set_cookie(answer, SESSION_COOKIE).split(";")[0].split("=", 1)[1]
    home = await client.get("/")
    out = await client.post("/sign-out", data={"_csrf_token": csrf_token(home.text)})
    assert out.status_code == 303
    assert "Max-Age=0" in _set_cookie(out, SESSION_COOKIE)
    # The old cookie, replayed, opens nothing.
    client.cookies.set(SESSION_COOKIE, token)
    assert "Kenya Data Commission" not in (await client.get("/")).text


async def test_sign_in_returns_only_to_a_page_of_this_site(
    client: httpx.AsyncClient, members: Members
) -> None:
    for elsewhere in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        client.cookies.clear()
        answer = await sign_in(client, members.regulator.key, next_page=elsewhere)
        assert answer.headers["location"] == "/"
    client.cookies.clear()
    answer = await sign_in(client, members.regulator.key, next_page="/search?q=gate")
    assert answer.headers["location"] == "/search?q=gate"


async def test_the_secure_setting_marks_the_cookies_secure(
    tmp_path: Path, database: SavepointDatabase, members: Members
) -> None:
    from incidents.app import create_app

    settings = Settings(data_dir=tmp_path, auth_cache_seconds=0, web_secure_cookies=True)
    async with serve_in_process(create_app(settings, database=database)) as client:
        form = await client.get("/sign-in")
        assert "Secure" in _set_cookie(form, "incidents_csrf")
        # httpx keeps Secure cookies for https only: hand the CSRF cookie over by hand.
        csrf = _set_cookie(form, "incidents_csrf").split(";")[0].split("=", 1)[1]
        client.cookies.set("incidents_csrf", csrf)
        answer = await client.post(
            "/sign-in",
            data={"api_key": members.regulator.key, "_csrf_token": csrf_token(form.text)},
        )
        assert "Secure" in _set_cookie(answer, SESSION_COOKIE)


async def test_pages_are_html_with_strict_headers_and_the_api_stays_problem_details(
    client: httpx.AsyncClient,
) -> None:
    home = await client.get("/")
    assert home.status_code == 200
    assert home.headers["content-type"] == "text/html; charset=utf-8"
    policy = home.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert home.headers["cache-control"] == "no-store"
    assert "http://" not in home.text
    assert "https://" not in home.text
    missing = await client.get("/no-such-page")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    api = await client.get("/api/v1/no-such-thing")
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"
    htmx = await client.get("/static/web/htmx.min.js")
    assert htmx.status_code == 200
    assert htmx.text.startswith("var htmx=")


async def test_each_request_gets_the_catalog_of_its_language(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gettext

    from incidents.web import i18n

    class Shouting(gettext.NullTranslations):
        """A stand-in catalog: every message in capitals, so its use shows."""

        def gettext(self, message: str) -> str:
            return message.upper()

    monkeypatch.setattr(
        i18n,
        "catalog",
        lambda language: Shouting() if language == "fr" else gettext.NullTranslations(),
    )
    french = await client.get("/search", headers={"Accept-Language": "fr-CA,fr;q=0.9"})
    english = await client.get("/search", headers={"Accept-Language": "de, en;q=0.5"})
    assert '<html lang="fr" dir="ltr">' in french.text
    assert "SEARCH THE REGISTRY" in french.text
    assert '<html lang="en" dir="ltr">' in english.text
    assert "Search the registry" in english.text


async def test_signing_in_again_ends_the_session_it_replaces(
    client: httpx.AsyncClient, members: Members, connection: AsyncConnection
) -> None:
    await sign_in(client, members.regulator.key)
    await sign_in(client, members.same_jurisdiction.key)
    count = await connection.execute(text("SELECT count(*) FROM web_sessions"))
    assert count.scalar_one() == 1
    assert "Kenya Communications Authority" in (await client.get("/")).text
