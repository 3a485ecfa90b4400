"""The pages in six languages, in process: the switch remembered in a cookie (CSRF-safe, only
to this site), `lang`/`dir` on <html>, the catalogs of `locales/*/web.po`, and numbers and dates
written per locale."""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path

import httpx
import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from incidents.languages import LANGUAGES
from incidents.languages.messages import LOCALES, catalog_path
from incidents.paths import taxonomy_dir
from incidents.taxonomy.files import read_directory
from incidents.taxonomy.service import Taxonomy
from incidents.web.i18n import catalog
from incidents.web.report_form import countries
from incidents.web.templating import environment
from tests.factories import Members
from tests.reports.helpers import file
from tests.web.helpers import csrf_token, sign_in

WEB = Path(__file__).resolve().parents[2] / "src" / "incidents" / "web"


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
    assert arabic.headers["content-language"] == "ar"
    assert other.headers["content-language"] == "en"


@pytest.mark.parametrize("header", ["zh-Hant", "zh-TW", "zh-HK", "zh-CN", "zh-SG", "zh"])
async def test_a_chinese_page_says_it_is_simplified_whatever_chinese_was_asked(
    client: httpx.AsyncClient, header: str
) -> None:
    page = await client.get("/search", headers={"Accept-Language": header})
    assert page.headers["content-language"] == "zh-Hans"
    assert '<html lang="zh-Hans" dir="ltr">' in page.text
    assert "搜索登记册" in page.text


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


def _extracted() -> set[str | tuple[str, str]]:
    """Every message of the pages, extracted as `babel.cfg` does (templates and web/*.py)."""
    found: set[str | tuple[str, str]] = set()
    for _, _, message, _, _ in extract_from_dir(
        WEB,
        method_map=[("**.py", "python"), ("templates/**.html", "jinja2")],
        options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}},
        keywords={**DEFAULT_KEYWORDS, "N_": None},
    ):
        found.add(message if isinstance(message, str) else (message[0], message[1]))
    return found


def test_the_template_holds_every_message_of_the_pages() -> None:
    with (LOCALES / "web.pot").open("rb") as handle:
        template = {message.id for message in read_po(handle) if message.id}
    missing = _extracted() - template
    assert not missing, f"run the extraction in babel.cfg; missing from web.pot: {missing}"


def test_each_catalog_is_as_complete_as_its_manifest_says() -> None:
    manifest = tomllib.loads((LOCALES / "web.toml").read_text())["catalogs"]
    assert set(manifest) == set(LANGUAGES)
    messages = _extracted()
    placeholder = re.compile(r"%\(\w+\)[sd]")
    for language, state in manifest.items():
        assert state["reviewed_by_native_speaker"] or state["review"] == "awaiting native review"
        if state.get("source"):
            continue
        with catalog_path(language, "web").open("rb") as handle:
            po = read_po(handle, locale=language)
        untranslated = [
            message.id
            for message in po
            if message.id
            and (
                message.fuzzy
                or not all(
                    message.string if isinstance(message.string, tuple) else [message.string]
                )
            )
        ]
        translated = {message.id for message in po if message.id and message.id not in untranslated}
        missing = messages - translated
        assert state["complete"] == (not missing), (language, sorted(map(str, missing))[:10])
        for message in po:
            if not message.id or not message.string:
                continue
            source = message.id if isinstance(message.id, tuple) else (message.id,)
            allowed = {name for text in source for name in placeholder.findall(str(text))}
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            for text in strings:
                used = set(placeholder.findall(str(text)))
                assert used <= allowed, (language, message.id, text)
    assert catalog("ar").gettext("Search the registry") == "البحث في السجل"
    assert catalog("zh").gettext("Search the registry") == "搜索登记册"


def test_numbers_and_dates_are_written_per_locale() -> None:
    template = environment().from_string("{{ n | number }} · {{ d | day }}")
    day = date(2026, 3, 5)
    assert template.render(language="en", n=12345.5, d=day) == "12,345.5 · Mar 5, 2026"
    assert template.render(language="fr", n=12345.5, d=day) == "12\u202f345,5 · 5 mars 2026"
    assert "٬" in template.render(language="ar", n=12345, d=day) or "12,345" in template.render(
        language="ar", n=12345, d=day
    )
    assert "2026年3月5日" in template.render(language="zh", n=1, d=day)


async def test_the_filing_form_speaks_arabic_and_takes_country_names_in_it(
    client: httpx.AsyncClient, members: Members
) -> None:
    await sign_in(client, members.regulator.key)
    arabic = {"Accept-Language": "ar"}
    form = await client.get("/file", headers=arabic)
    assert '<html lang="ar" dir="rtl">' in form.text
    assert "حادث ذكاء اصطناعي جسيم" in form.text  # a severity picker's label in Arabic
    assert '<option value="كينيا">' in form.text  # countries searchable by their Arabic names
    taxonomy = Taxonomy(read_directory(taxonomy_dir()))
    assert countries("كينيا\u060c أوغندا", taxonomy) == ["KE", "UG"]
    assert countries("肯尼亚\uff0cUganda; fr", taxonomy) == ["KE", "UG", "FR"]
    # The form's macros (imported without the page's context) speak the page's language too,
    # and so does its error summary when the API refuses the draft.
    assert "(مطلوب)" in form.text
    refused = await client.post(
        "/file",
        data={"action": "submit", "_csrf_token": csrf_token(form.text)},
        headers=arabic,
    )
    assert refused.status_code == 422
    assert "يرجى تصحيح ما يلي" in refused.text


async def test_one_pages_language_never_sticks_to_the_next_page(
    client: httpx.AsyncClient, members: Members
) -> None:
    """Shared pieces (the facet filters' macros) are translated at each rendering, never kept
    in the language of the page that first used them."""
    await file(client, members.regulator, sharing="TLP:GREEN")
    await sign_in(client, members.regulator.key)
    arabic = await client.get("/search", headers={"Accept-Language": "ar"})
    chinese = await client.get("/search", headers={"Accept-Language": "zh"})
    english = await client.get("/search", headers={"Accept-Language": "en"})
    assert "مستوى المشاركة" in arabic.text
    assert "共享级别" in chinese.text
    assert "مستوى المشاركة" not in chinese.text
    assert "Sharing level" in english.text
    assert "共享级别" not in english.text


async def test_a_reports_dates_are_written_in_the_pages_language(
    client: httpx.AsyncClient, members: Members
) -> None:
    ref = (await file(client, members.regulator, occurred_on="2026-03-14"))["report"]["ref"]
    await sign_in(client, members.regulator.key)
    written = {
        "en": "Mar 14, 2026",
        "fr": "14 mars 2026",
        "es": "14 mar 2026",
        "ru": "14 мар. 2026",
        "zh": "2026年3月14日",
    }
    for language, words in written.items():
        page = await client.get(f"/reports/{ref}", headers={"Accept-Language": language})
        assert words in page.text, language
