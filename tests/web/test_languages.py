"""The pages in six languages, in process: the switch remembered in a cookie (CSRF-safe, only
to this site), `lang`/`dir` on <html>, the catalogs of `locales/*/web.po`, and numbers and dates
written per locale."""

from __future__ import annotations

from datetime import date

import httpx

from incidents.web.i18n import catalog
from incidents.web.templating import environment
from tests.web.helpers import csrf_token


async def _switch(client: httpx.AsyncClient, language: str, next_page: str) -> httpx.Response:
    form = await client.get(next_page)
    return await client.post(
        "/language",
        data={"lang": language, "next": next_page, "_csrf_token": csrf_token(form.text)},
    )


async def test_accept_language_picks_the_page_language_and_direction(
    client: httpx.AsyncClient,
) -> None:
    arabic = await client.get("/search", headers={"Accept-Language": "ar-EG,ar;q=0.9"})
    chinese = await client.get("/search", headers={"Accept-Language": "zh-CN"})
    other = await client.get("/search", headers={"Accept-Language": "de, sw;q=0.5"})
    assert '<html lang="ar" dir="rtl">' in arabic.text
    assert '<html lang="zh-Hans" dir="ltr">' in chinese.text
    assert '<html lang="en" dir="ltr">' in other.text


async def test_every_page_offers_the_six_languages_in_their_own_names(
    client: httpx.AsyncClient,
) -> None:
    html = (await client.get("/search")).text
    for code, name in (("ar", "العربية"), ("zh", "中文"), ("fr", "Français"), ("ru", "Русский")):
        assert f'name="lang" value="{code}"' in html
        assert name in html


async def test_the_switch_is_remembered_over_accept_language(client: httpx.AsyncClient) -> None:
    answer = await _switch(client, "fr", "/search?q=chatbot")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/search?q=chatbot"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("incidents_lang=fr;")
    assert "samesite=strict" in cookie.lower()
    assert "HttpOnly" in cookie
    again = await client.get("/search", headers={"Accept-Language": "es"})
    assert '<html lang="fr" dir="ltr">' in again.text
    assert "Rechercher" in again.text


async def test_the_switch_refuses_a_post_without_its_csrf_token(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.post("/language", data={"lang": "ar", "next": "/"})
    assert answer.status_code == 403
    assert "incidents_lang" not in answer.headers.get("set-cookie", "")
    assert '<html lang="en"' in (await client.get("/search")).text


async def test_the_switch_returns_only_to_this_site_and_only_to_six_languages(
    client: httpx.AsyncClient,
) -> None:
    elsewhere = await _switch(client, "es", "//evil.example/")
    assert elsewhere.headers["location"] == "/"
    form = await client.get("/search")
    unknown = await client.post(
        "/language",
        data={"lang": "xx", "next": "/search", "_csrf_token": csrf_token(form.text)},
    )
    assert unknown.status_code == 303
    assert "incidents_lang=xx" not in unknown.headers.get("set-cookie", "")
    # A forged cookie naming no shipped language falls back to negotiation.
    client.cookies.set("incidents_lang", "xx")
    html = (await client.get("/search", headers={"Accept-Language": "ru"})).text
    assert '<html lang="ru" dir="ltr">' in html


def test_each_catalog_translates_the_layout() -> None:
    for language in ("en", "fr"):
        words = catalog(language).gettext("Search the registry")
        if language == "en":
            assert words == "Search the registry"
        else:
            assert words != "Search the registry", language


def test_numbers_and_dates_are_written_per_locale() -> None:
    template = environment().from_string("{{ n | number }} · {{ d | day }}")
    day = date(2026, 3, 5)
    assert template.render(language="en", n=12345.5, d=day) == "12,345.5 · Mar 5, 2026"
    assert template.render(language="fr", n=12345.5, d=day) == "12\u202f345,5 · 5 mars 2026"
    assert "٬" in template.render(language="ar", n=12345, d=day) or "12,345" in template.render(
        language="ar", n=12345, d=day
    )
    assert "2026年3月5日" in template.render(language="zh", n=1, d=day)
