"""The taxonomy API: public, cacheable with ETags, 404 problems; the secretariat releases."""

from __future__ import annotations

from pathlib import Path

import httpx
import msgspec

from incidents.taxonomy.files import read_directory
from tests.factories import Members
from tests.taxonomy.helpers import make_version_2
from tests.test_app import assert_problem


async def test_current_taxonomy_is_public_with_every_dimension_as_a_tree(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/v1/taxonomy")
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == 1
    dimensions = {dimension["name"]: dimension for dimension in body["dimensions"]}
    assert len(dimensions) == 13
    harm = dimensions["harm_domain"]["codes"]
    assert [node["code"] for node in harm] == ["1", "2", "3", "4", "5", "6", "7"]
    assert [child["code"] for child in harm[6]["children"]][-1] == "7.6"
    assert response.headers["etag"].startswith('"')
    assert "public" in response.headers["cache-control"]


async def test_a_matching_etag_gets_304(client: httpx.AsyncClient) -> None:
    for path in (
        "/api/v1/taxonomy",
        "/api/v1/geography",
        "/api/v1/taxonomy/dimensions/severity",
        "/api/v1/taxonomy/versions",
        "/api/v1/taxonomy/versions/1",
    ):
        first = await client.get(path)
        assert first.status_code == 200, path
        again = await client.get(path, headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304, path
        assert again.content == b""
        stale = await client.get(path, headers={"If-None-Match": '"something-else"'})
        assert stale.status_code == 200, path


async def test_one_dimension_and_the_versions(client: httpx.AsyncClient) -> None:
    severity = (await client.get("/api/v1/taxonomy/dimensions/severity")).json()
    assert [(node["code"], node["ordinal"]) for node in severity["codes"]] == [
        ("hazard", 1),
        ("serious_hazard", 2),
        ("incident", 3),
        ("serious_incident", 4),
        ("disaster", 5),
    ]
    versions = (await client.get("/api/v1/taxonomy/versions")).json()["items"]
    assert [(item["version"], item["current"]) for item in versions] == [(1, True)]


async def test_unknown_dimension_or_version_is_a_404_problem(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/taxonomy/dimensions/colour"), 404)
    assert_problem(await client.get("/api/v1/taxonomy/versions/99"), 404)
    assert_problem(await client.get("/api/v1/taxonomy/dimensions/severity?version=7"), 404)


async def test_geography_lists_countries_regions_and_groupings(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/v1/geography")).json()
    assert len(body["countries"]) == 249
    regions = {region["name"]: region["sub_regions"] for region in body["regions"]}
    assert set(regions) == {"Africa", "Americas", "Asia", "Europe", "Oceania"}
    assert "Sub-Saharan Africa" in regions["Africa"]
    assert body["developments"] == ["developed", "developing"]
    kenya = next(country for country in body["countries"] if country["code"] == "KE")
    assert kenya["population"] > 40_000_000
    assert (kenya["inhabited"], kenya["un_member"], kenya["g20_member"]) == (True, True, False)


async def test_the_secretariat_releases_a_version_and_it_is_current_at_once(
    client: httpx.AsyncClient, members: Members, tmp_path: Path
) -> None:
    document = msgspec.to_builtins(read_directory(make_version_2(tmp_path / "v2")))
    refused = await client.post(
        "/api/v1/taxonomy/versions", json=document, headers=members.regulator.headers
    )
    assert_problem(refused, 403)
    created = await client.post(
        "/api/v1/taxonomy/versions", json=document, headers=members.secretariat.headers
    )
    assert created.status_code == 201, created.text
    assert created.json()["version"] == 2
    assert (await client.get("/api/v1/taxonomy")).json()["version"] == 2
    again = await client.post(
        "/api/v1/taxonomy/versions", json=document, headers=members.secretariat.headers
    )
    assert again.status_code == 200
    assert again.json()["created"] is False


async def test_an_invalid_version_is_a_422_naming_file_and_code(
    client: httpx.AsyncClient, members: Members, tmp_path: Path
) -> None:
    document = msgspec.to_builtins(read_directory(make_version_2(tmp_path / "v2")))
    harm_types = next(d for d in document["dimensions"] if d["name"] == "harm_type")
    harm_types["codes"][1]["code"] = harm_types["codes"][0]["code"]
    response = await client.post(
        "/api/v1/taxonomy/versions", json=document, headers=members.secretariat.headers
    )
    body = assert_problem(response, 422)
    fields = [error["field"] for error in body["errors"]]
    assert f"dimensions/harm_type.toml#{harm_types['codes'][0]['code']}" in fields
