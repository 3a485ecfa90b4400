"""Managing organizations and keys over the API, with validation and audit."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.audit.models import audit_events
from incidents.members.models import api_keys
from incidents.members.service import hash_key
from tests.factories import Members
from tests.test_app import assert_problem


async def test_secretariat_adds_a_regulator_and_it_is_audited(
    client: httpx.AsyncClient, members: Members, connection: AsyncConnection
) -> None:
    response = await client.post(
        "/api/v1/organizations",
        json={"name": "Nigeria NITDA", "kind": "regulator", "jurisdiction": "NG"},
        headers=members.secretariat.headers,
    )
    assert response.status_code == 201
    created = response.json()
    assert created["jurisdiction"] == "NG"
    assert created["active"] is True
    event = (
        await connection.execute(
            select(audit_events).where(audit_events.c.entity_id == created["id"])
        )
    ).one()
    assert event.action == "organization.created"
    assert event.actor_org_id == members.secretariat.organization.id
    assert event.after["name"] == "Nigeria NITDA"


async def test_a_regulator_needs_a_real_country(
    client: httpx.AsyncClient, members: Members
) -> None:
    missing = await client.post(
        "/api/v1/organizations",
        json={"name": "No Country", "kind": "regulator"},
        headers=members.secretariat.headers,
    )
    body = assert_problem(missing, 422)
    assert body["errors"] == [{"field": "jurisdiction", "message": "Required for a regulator"}]
    unknown = await client.post(
        "/api/v1/organizations",
        json={"name": "Atlantis", "kind": "regulator", "jurisdiction": "XX"},
        headers=members.secretariat.headers,
    )
    assert assert_problem(unknown, 422)["errors"][0]["field"] == "jurisdiction"


async def test_every_bad_field_is_named_at_once(
    client: httpx.AsyncClient, members: Members
) -> None:
    response = await client.post(
        "/api/v1/organizations",
        json={"name": "", "kind": "ministry", "jurisdiction": "kenya", "extra": 1},
        headers=members.secretariat.headers,
    )
    body = assert_problem(response, 422)
    fields = {error["field"] for error in body["errors"]}
    assert fields == {"name", "kind", "jurisdiction", "extra"}


async def test_names_are_unique(client: httpx.AsyncClient, members: Members) -> None:
    response = await client.post(
        "/api/v1/organizations",
        json={"name": members.researcher.organization.name, "kind": "research"},
        headers=members.secretariat.headers,
    )
    assert_problem(response, 409)


async def test_an_issued_key_is_shown_once_and_stored_only_as_a_hash(
    client: httpx.AsyncClient, members: Members, connection: AsyncConnection
) -> None:
    organization = members.researcher.organization
    issued = await client.post(
        f"/api/v1/organizations/{organization.id}/keys",
        json={"label": "data downloads"},
        headers=members.secretariat.headers,
    )
    assert issued.status_code == 201
    key = issued.json()["key"]
    assert key.startswith(issued.json()["prefix"] + "_")
    assert len(key) >= 50
    stored = (
        await connection.execute(
            select(api_keys).where(api_keys.c.prefix == issued.json()["prefix"])
        )
    ).one()
    assert stored.key_hash == hash_key(key)
    assert key not in str(stored)
    listed = await client.get(
        f"/api/v1/organizations/{organization.id}/keys", headers=members.researcher.headers
    )
    assert listed.status_code == 200
    assert key not in listed.text
    assert {item["label"] for item in listed.json()["items"]} == {"test key", "data downloads"}
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"})
    assert me.json()["organization_id"] == str(organization.id)


async def test_an_organization_sees_only_its_own_keys(
    client: httpx.AsyncClient, members: Members
) -> None:
    other = members.other_regulator.organization.id
    response = await client.get(
        f"/api/v1/organizations/{other}/keys", headers=members.regulator.headers
    )
    assert_problem(response, 403)


async def test_an_organization_may_revoke_its_own_key_but_not_anothers(
    client: httpx.AsyncClient, members: Members
) -> None:
    own = await client.get(
        f"/api/v1/organizations/{members.regulator.organization.id}/keys",
        headers=members.regulator.headers,
    )
    others = await client.get(
        f"/api/v1/organizations/{members.researcher.organization.id}/keys",
        headers=members.researcher.headers,
    )
    foreign = others.json()["items"][0]["id"]
    refused = await client.post(f"/api/v1/keys/{foreign}/revoke", headers=members.regulator.headers)
    assert_problem(refused, 403)
    mine = own.json()["items"][0]["id"]
    accepted = await client.post(f"/api/v1/keys/{mine}/revoke", headers=members.regulator.headers)
    assert accepted.status_code == 200


async def test_members_see_the_directory(client: httpx.AsyncClient, members: Members) -> None:
    response = await client.get(
        "/api/v1/organizations", params={"kind": "regulator"}, headers=members.researcher.headers
    )
    assert response.status_code == 200
    names = [item["name"] for item in response.json()["items"]]
    assert names == sorted(names)
    assert {"Kenya Data Commission", "Brazil ANPD"} <= set(names)
    assert all(item["kind"] == "regulator" for item in response.json()["items"])


async def test_unknown_organization_is_404(client: httpx.AsyncClient, members: Members) -> None:
    response = await client.get(
        "/api/v1/organizations/01900000-0000-7000-8000-000000000000",
        headers=members.secretariat.headers,
    )
    assert_problem(response, 404)
