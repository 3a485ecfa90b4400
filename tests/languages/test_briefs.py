"""Briefs in the six languages: HTML with the language and direction, words and labels
translated, numbers per locale; a PDF whose fonts come from wheels and cover Arabic and Chinese."""

from __future__ import annotations

import html
import io
import re
from types import SimpleNamespace
from typing import Any

import httpx
import msgspec
import pytest
from pypdf import PdfReader

from incidents.briefs.compute import compute
from incidents.briefs.documents import data_files, documents
from incidents.briefs.schemas import BriefData, BriefRequest
from incidents.briefs.words import Words
from incidents.languages import language_tag
from incidents.trends.protection import Method
from tests.briefs.test_briefs import _made
from tests.registry import Registry
from tests.test_app import assert_problem

METHOD = Method(k=5, noise=2)
# (language, direction, the "Headline figures" heading, serious incident's label, a chart title)
EXPECTED = [
    ("ar", "rtl", "الأرقام الرئيسية", "حادث ذكاء اصطناعي جسيم", "الحوادث في كل فترة"),
    ("zh", "ltr", "主要数字", "严重人工智能事件", "各期事件数"),
    ("en", "ltr", "Headline figures", "Serious AI incident", "Incidents per period"),
    ("fr", "ltr", "Chiffres clés", "Incident grave d&#39;IA", "Incidents par période"),
    ("ru", "ltr", "Основные показатели", "Серьёзный инцидент, связанный с ИИ", "Инциденты по"),
    ("es", "ltr", "Cifras principales", "Incidente grave de IA", "Incidentes por periodo"),
]


@pytest.fixture(scope="module")
async def brief_data(registry: Registry) -> bytes:
    data = await compute(registry.url, registry.taxonomy, BriefRequest(period="2026-Q2"), METHOD)
    return data_files(data)[0]


def _row(language: str) -> Any:
    return SimpleNamespace(
        status="published",
        executive_summary=None,
        issuing_body="Secretariat",
        issued_on=None,
        version=1,
        superseded_by=None,
        retraction_notice=None,
        retracted_at=None,
        data_hash="0" * 64,
        parameters={"period": "2026-Q2", "language": language},
    )


@pytest.mark.parametrize(("language", "direction", "heading", "serious", "chart"), EXPECTED)
async def test_a_brief_speaks_its_language(
    brief_data: bytes, language: str, direction: str, heading: str, serious: str, chart: str
) -> None:
    rendered = documents(_row(language), brief_data)
    page = rendered["html"].decode()
    assert f'<html lang="{language_tag(language)}" dir="{direction}">' in page
    assert heading in page
    assert serious in page
    assert chart in page
    reader = PdfReader(io.BytesIO(rendered["pdf"]))
    fonts: set[str] = set()
    for pdf_page in reader.pages:
        resources: Any = pdf_page["/Resources"]
        fonts |= {str(font["/BaseFont"]) for font in resources.get("/Font", {}).values()}
    text = "".join(pdf_page.extract_text() for pdf_page in reader.pages)
    if language == "ar":
        assert any("NotoSansArabic" in name for name in fonts), fonts
    elif language == "zh":
        assert any("WenQuanYi" in name for name in fonts), fonts
        assert heading in text
    else:
        assert heading in text


async def test_numbers_and_data_files_per_language(brief_data: bytes) -> None:
    data = msgspec.json.decode(brief_data, type=BriefData)
    assert Words(data, "fr").number(12345) == "12\u202f345"
    assert Words(data, "ru").number(12345) == "12\u00a0345"
    assert Words(data, "en").number(12345) == "12,345"
    assert Words(data, "es").percent(0.25) == "+25\u00a0%"
    assert Words(data, "en").percent(-0.25) == "-25%"
    assert Words(data, "ar").band() == "أقل من 5"
    # The data files are the same whatever the language: only the documents are worded.
    english = documents(_row("en"), brief_data)["html"].decode()
    arabic = documents(_row("ar"), brief_data)["html"].decode()
    assert re.findall(r"sha256 ([0-9a-f]{64})", english) == re.findall(
        r"sha256 ([0-9a-f]{64})", arabic
    )


async def test_the_api_makes_a_brief_in_the_language_asked(
    live: httpx.AsyncClient, registry: Registry
) -> None:
    secretariat = registry.members.secretariat.headers
    problem = assert_problem(
        await live.post(
            "/api/v1/briefs",
            json={"period": "2026-Q2", "language": "de"},
            headers=secretariat,
        ),
        422,
    )
    assert "language" in str(problem)
    location = await _made(live, secretariat, language="ar")
    page = (await live.get(f"{location}/brief.html", headers=secretariat)).text
    assert '<html lang="ar" dir="rtl">' in page
    assert "مسودة: غير معتمدة للتعميم" in page  # "Draft: not approved for circulation"


def _text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).lower().split())


@pytest.mark.parametrize("language", ["ar", "zh", "fr", "ru", "es"])
async def test_the_method_notes_are_in_the_briefs_language(
    brief_data: bytes, language: str
) -> None:
    """No English sentence of the method notes is left in a brief in another language: no run
    of four English words of them appears in its text (numbers and names such as HiGHS or
    Benjamini-Hochberg are no English sentence, and are left out of the runs)."""
    data = msgspec.json.decode(brief_data, type=BriefData)
    english_page = _text(documents(_row("en"), brief_data)["html"].decode())
    runs: set[str] = set()
    for note in data.notes:
        for stretch in re.split(r"[^a-z ]+", note.lower().replace("highs", "")):
            words = stretch.split()
            runs |= {" ".join(words[start : start + 4]) for start in range(len(words) - 3)}
    assert len(runs) > 100
    assert sum(run in english_page for run in runs) == len(runs)  # the runs are the page's
    page = _text(documents(_row(language), brief_data)["html"].decode())
    left = sorted(run for run in runs if run in page)
    assert left == [], left
    # The notes are worded from the brief's own parameters: k and the noise are there.
    words = Words(data, language)
    assert words.band() in page
