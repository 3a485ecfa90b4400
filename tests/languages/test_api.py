"""The API answers the taxonomy's words in the language asked for, English as the fallback,
with Content-Language and Vary: Accept-Language."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import Members
from tests.reports.helpers import file


def _codes(dimension: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    pending = list(dimension["codes"])
    while pending:
        node = pending.pop()
        found[node["code"]] = node
        pending.extend(node.get("children", []))
    return found


@pytest.mark.parametrize(
    ("header", "language", "label"),
    [
        ("ar", "ar", "حادث ذكاء اصطناعي"),
        ("zh-CN,zh;q=0.9", "zh", "人工智能事件"),
        ("fr-FR", "fr", "Incident d'IA"),
        ("ru", "ru", "Инцидент, связанный с ИИ"),
        ("es-419", "es", "Incidente de IA"),
        ("de", "en", None),
    ],
)
async def test_labels_come_in_the_language_asked_with_english_beside_them(
    client: httpx.AsyncClient, header: str, language: str, label: str | None
) -> None:
    response = await client.get(
        "/api/v1/taxonomy/dimensions/severity", headers={"Accept-Language": header}
    )
    assert response.status_code == 200
    assert response.headers["content-language"] == ("zh-Hans" if language == "zh" else language)
    assert "accept-language" in response.headers["vary"].lower()
    body = response.json()
    incident = _codes(body)["incident"]
    assert incident["label"]["en"] == "AI incident"
    if label is None:
        assert set(incident["label"]) == {"en"}
    else:
        assert incident["label"][language] == label
        assert incident["definition"][language]
        assert body["label"][language]
        assert body["description"][language]


async def test_each_language_has_its_own_etag(client: httpx.AsyncClient) -> None:
    english = await client.get("/api/v1/taxonomy")
    arabic = await client.get("/api/v1/taxonomy", headers={"Accept-Language": "ar"})
    assert english.headers["etag"] != arabic.headers["etag"]
    assert english.headers["content-language"] == "en"
    assert arabic.headers["content-language"] == "ar"
    # A cache holding the English answer must not answer an Arabic request with it.
    again = await client.get(
        "/api/v1/taxonomy",
        headers={"Accept-Language": "ar", "If-None-Match": english.headers["etag"]},
    )
    assert again.status_code == 200
    harm = next(d for d in again.json()["dimensions"] if d["name"] == "harm_domain")
    assert _codes(harm)["7.6"]["label"]["ar"] == "مخاطر الأنظمة متعددة الوكلاء"


async def test_geography_names_countries_and_regions_in_the_language(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/v1/geography", headers={"Accept-Language": "zh"})
    assert response.headers["content-language"] == "zh-Hans"
    body = response.json()
    assert body["language"] == "zh"
    assert body["country_names"]["SN"] == "塞内加尔"
    assert body["region_names"]["Sub-Saharan Africa"] == "撒哈拉以南非洲"
    # Filter values stay the same in every language.
    assert "Africa" in {region["name"] for region in body["regions"]}
    english = (await client.get("/api/v1/geography")).json()
    assert english["country_names"]["SN"] == "Senegal"
    assert english["region_names"]["Latin America and the Caribbean"] == (
        "Latin America and the Caribbean"
    )


async def test_facet_labels_follow_accept_language(
    client: httpx.AsyncClient, members: Members
) -> None:
    await file(client, members.regulator, affected_jurisdictions=["SN"], sharing="TLP:GREEN")
    for path in ("/api/v1/reports", "/api/v1/incidents"):
        response = await client.get(
            path,
            params={"facets": "severity,harm_domain,jurisdiction"},
            headers={**members.researcher.headers, "Accept-Language": "fr"},
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-language"] == "fr"
        assert "accept-language" in response.headers["vary"].lower()
        facets = response.json()["facets"]
        assert {entry["label"] for entry in facets["severity"]} == {"Incident grave d'IA"}
        domains = {entry["value"]: entry["label"] for entry in facets["harm_domain"]}
        assert domains["1.1"] == "Discrimination injuste et représentation erronée"
        countries = {entry["value"]: entry["label"] for entry in facets["jurisdiction"]}
        assert countries["SN"] == "Sénégal"
    english = await client.get(
        "/api/v1/reports", params={"facets": "severity"}, headers=members.researcher.headers
    )
    assert english.headers["content-language"] == "en"
    assert english.json()["facets"]["severity"][0]["label"] == "Serious AI incident"


@pytest.mark.parametrize("header", ["zh-Hant", "zh-TW", "zh-HK", "zh-CN", "zh-SG", "zh"])
async def test_every_chinese_reader_gets_simplified_chinese_labelled_as_such(
    client: httpx.AsyncClient, header: str
) -> None:
    """The Chinese catalogs are Simplified (the UN's official Chinese); a Traditional Chinese
    reader gets them too, and the answer never claims to be anything but zh-Hans."""
    response = await client.get(
        "/api/v1/taxonomy/dimensions/severity", headers={"Accept-Language": header}
    )
    assert response.headers["content-language"] == "zh-Hans"
    assert _codes(response.json())["incident"]["label"]["zh"] == "人工智能事件"
