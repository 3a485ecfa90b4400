"""Search in the report's own language: stems per language, Chinese by any word of two or more
characters, and typo tolerance in every script."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.factories import Members
from tests.reports.helpers import file

REPORTS = {
    "en": (
        "Hiring model discriminates against older applicants",
        "The screening system rejected applications of candidates over fifty.",
    ),
    "fr": (
        "Le système de reconnaissance faciale discrimine les voyageurs",
        "Des voyageurs ont été signalés à tort aux portiques du métro.",
    ),
    "es": (
        "El sistema de reconocimiento facial discriminó a los viajeros",
        "Los viajeros fueron señalados por error en los torniquetes del metro.",
    ),
    "ru": (
        "Система распознавания лиц ошибочно задержала пассажиров",
        "Пассажиры были задержаны у турникетов метро по ошибке.",
    ),
    "ar": (
        "نظام التعرف على الوجه أخطأ في تحديد المسافرين",
        "أوقف النظام المسافرين عند بوابات المترو عن طريق الخطأ.",
    ),
    "zh": (
        "人脸识别系统错误拦截地铁乘客",
        "地铁闸机的人脸识别系统把乘客误认为通缉人员。",
    ),
    "de": (
        "Gesichtserkennung hält Fahrgäste fälschlich fest",
        "Das System meldete Fahrgäste an den U-Bahn-Sperren.",
    ),
}


@pytest.fixture
async def filed(client: httpx.AsyncClient, members: Members) -> dict[str, str]:
    refs: dict[str, str] = {}
    for language, (title, summary) in REPORTS.items():
        created = await file(
            client,
            members.regulator,
            language=language,
            title=title,
            summary=summary,
            ai_system={"name": f"System {language}", "developer": f"Maker {language}"},
            sharing="TLP:GREEN",
        )
        refs[language] = created["report"]["ref"]
    return refs


async def _found(client: httpx.AsyncClient, members: Members, query: str) -> set[str]:
    response = await client.get(
        "/api/v1/reports", params={"q": query, "limit": 50}, headers=members.researcher.headers
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return {item["ref"] for item in items}


@pytest.mark.parametrize(
    ("query", "language"),
    [
        # Another form of a word than the report's: found through the language's stems.
        ("discriminating applicant", "en"),
        ("discriminations voyageur", "fr"),
        ("viajero discriminado", "es"),
        ("системы пассажиры", "ru"),
        ("المسافر", "ar"),
        # Chinese: any word of two or more characters, anywhere in the text.
        ("识别", "zh"),
        ("乘客", "zh"),
        ("错误拦截", "zh"),
        ("通缉人员", "zh"),
        # A language without a configuration: its words as written.
        ("fahrgäste", "de"),
    ],
)
async def test_a_report_is_found_by_the_words_of_its_own_language(
    client: httpx.AsyncClient,
    members: Members,
    filed: dict[str, str],
    query: str,
    language: str,
) -> None:
    found = await _found(client, members, query)
    assert filed[language] in found
    assert found & set(filed.values()) == {filed[language]}


@pytest.mark.parametrize(
    ("query", "language"),
    [
        ("discrimnates", "en"),
        ("reconaissance", "fr"),
        ("reconocimento", "es"),
        ("распознования", "ru"),
        ("المسافرن", "ar"),
    ],
)
async def test_a_typo_still_finds_the_report_in_each_script(
    client: httpx.AsyncClient,
    members: Members,
    filed: dict[str, str],
    query: str,
    language: str,
) -> None:
    assert filed[language] in await _found(client, members, query)


async def test_chinese_characters_that_are_not_a_run_of_the_text_find_nothing(
    client: httpx.AsyncClient, members: Members, filed: dict[str, str]
) -> None:
    assert filed["zh"] not in await _found(client, members, "识乘")
    assert filed["zh"] not in await _found(client, members, "系统地铁人员")


async def test_each_language_tag_picks_its_configuration(connection: AsyncConnection) -> None:
    tags = ["ar", "ar-EG", "en-GB", "fr", "ru", "es-419", "zh", "zh-Hans", "pt-BR", "", "EN"]
    rows = await connection.execute(
        text(
            "SELECT incidents_search_configuration(tag)::text"
            " FROM unnest(CAST(:tags AS text[])) WITH ORDINALITY AS given(tag, position)"
            " ORDER BY position"
        ),
        {"tags": tags},
    )
    assert [row[0] for row in rows] == [
        "arabic",
        "arabic",
        "english",
        "french",
        "russian",
        "spanish",
        "simple",
        "simple",
        "simple",
        "simple",
        "english",
    ]
