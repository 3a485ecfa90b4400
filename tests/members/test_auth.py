"""Authentication and roles, from the outside: no key, bad key, revoked key, each role."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import Members
from tests.test_app import assert_problem

ROLES = ["secretariat", "regulator", "same_jurisdiction", "other_regulator", "researcher"]


async def test_without_a_key_the_caller_is_the_public(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).status_code == 200
    body = assert_problem(await client.get("/api/v1/me"), 401)
    assert "API key" in str(body["detail"])


@pytest.mark.parametrize(
    "header",
    [
        "Bearer inc_AAAAAAAA_" + "a" * 43,  # well-formed, unknown
        "Bearer not-a-key",  # malformed
        "Basic dXNlcjpwYXNz",  # wrong scheme
        "Bearer",  # empty
    ],
)
async def test_a_wrong_key_is_401_even_on_public_routes(
    client: httpx.AsyncClient, members: Members, header: str
) -> None:
    response = await client.get("/api/v1/organizations", headers={"Authorization": header})
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("role", ROLES)
async def test_each_role_is_recognised(
    client: httpx.AsyncClient, members: Members, role: str
) -> None:
    member = getattr(members, role)
    response = await client.get("/api/v1/me", headers=member.headers)
    assert response.status_code == 200
    assert response.json()["organization_id"] == str(member.organization.id)
    assert response.json()["kind"] == member.organization.kind


@pytest.mark.parametrize(
    "role", ["regulator", "same_jurisdiction", "other_regulator", "researcher"]
)
async def test_only_the_secretariat_manages_members(
    client: httpx.AsyncClient, members: Members, role: str
) -> None:
    headers = getattr(members, role).headers
    create = await client.post(
        "/api/v1/organizations", json={"name": "Sneaky", "kind": "research"}, headers=headers
    )
    assert_problem(create, 403)
    target = members.researcher.organization.id
    issue = await client.post(
        f"/api/v1/organizations/{target}/keys", json={"label": "x"}, headers=headers
    )
    assert_problem(issue, 403)
    rename = await client.patch(
        f"/api/v1/organizations/{target}", json={"name": "Renamed"}, headers=headers
    )
    assert_problem(rename, 403)


async def test_public_cannot_manage_members(client: httpx.AsyncClient, members: Members) -> None:
    response = await client.post("/api/v1/organizations", json={"name": "X", "kind": "research"})
    assert_problem(response, 401)


async def test_a_revoked_key_stops_working_at_once(
    client: httpx.AsyncClient, members: Members
) -> None:
    regulator = members.regulator
    assert (await client.get("/api/v1/me", headers=regulator.headers)).status_code == 200
    keys = await client.get(
        f"/api/v1/organizations/{regulator.organization.id}/keys", headers=regulator.headers
    )
    key_id = keys.json()["items"][0]["id"]
    revoked = await client.post(
        f"/api/v1/keys/{key_id}/revoke", headers=members.secretariat.headers
    )
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    body = assert_problem(await client.get("/api/v1/me", headers=regulator.headers), 401)
    assert "revoked" in str(body["detail"])


async def test_an_inactive_organizations_keys_stop_working(
    client: httpx.AsyncClient, members: Members
) -> None:
    researcher = members.researcher
    response = await client.patch(
        f"/api/v1/organizations/{researcher.organization.id}",
        json={"active": False},
        headers=members.secretariat.headers,
    )
    assert response.status_code == 200
    assert_problem(await client.get("/api/v1/me", headers=researcher.headers), 401)
