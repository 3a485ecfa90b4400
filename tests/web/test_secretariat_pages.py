"""The secretariat's members, taxonomy and audit pages in process: organizations added with the
API's own errors beside their fields, a key issued (shown once, never cached) and revoked, the
taxonomy's versions and what changed between two, the audit log verified on request; and every
other visitor refused on each page and each POST."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.app import App
from incidents.audit.service import Actor
from incidents.taxonomy.files import read_directory
from incidents.taxonomy.releases import store
from tests.factories import Members
from tests.taxonomy.helpers import make_version_2
from tests.web.helpers import csrf_token, sign_in

_FIELD_ERROR = re.compile(r'<p class="field-error" id="error-([a-z_]+)-\d+">([^<]*)</p>')


async def _post(
    client: httpx.AsyncClient, path: str, opened_at: str, **form: str
) -> httpx.Response:
    opened = await client.get(opened_at)
    assert opened.status_code == 200, opened.text
    return await client.post(path, data={**form, "_csrf_token": csrf_token(opened.text)})


async def test_adding_an_organization_with_errors_beside_the_fields(
    client: httpx.AsyncClient, members: Members
) -> None:
    await sign_in(client, members.secretariat.key)
    listed = await client.get("/members")
    assert listed.status_code == 200
    assert members.regulator.organization.name in listed.text

    wrong = await _post(client, "/members", "/members", name="", kind="regulator", jurisdiction="")
    assert wrong.status_code == 422
    errors = dict(_FIELD_ERROR.findall(wrong.text))
    assert set(errors) == {"name"}
    unknown = await _post(
        client, "/members", "/members", name="Autorité X", kind="regulator", jurisdiction="ZZ"
    )
    assert unknown.status_code == 422
    assert dict(_FIELD_ERROR.findall(unknown.text)) == {
        "jurisdiction": "Not an ISO 3166-1 alpha-2 country code"
    }
    assert "Autorité X" in unknown.text  # what was typed is kept
    missing = await _post(client, "/members", "/members", name="Autorité Y", kind="regulator")
    assert dict(_FIELD_ERROR.findall(missing.text)) == {"jurisdiction": "Required for a regulator"}

    name = f"Ghana AI Authority {uuid.uuid4().hex[:6]}"
    added = await _post(
        client, "/members", "/members", name=name, kind="regulator", jurisdiction="gh"
    )
    assert added.status_code == 303
    organization_id = added.headers["location"].removeprefix("/members/")
    api = await client.get(
        f"/api/v1/organizations/{organization_id}", headers=members.secretariat.headers
    )
    assert api.json()["name"] == name
    assert api.json()["jurisdiction"] == "GH"
    again = await _post(client, "/members", "/members", name=name, kind="research")
    assert again.status_code == 409
    assert "already exists" in again.text


async def test_a_key_is_shown_once_works_and_is_revoked(
    client: httpx.AsyncClient, members: Members
) -> None:
    organization = members.researcher.organization
    path = f"/members/{organization.id}"
    await sign_in(client, members.secretariat.key)
    empty = await _post(client, f"{path}/keys", path, label="")
    assert empty.status_code == 422
    assert "label" in dict(_FIELD_ERROR.findall(empty.text))

    issued = await _post(client, f"{path}/keys", path, label="Data pipeline")
    assert issued.status_code == 201
    assert "no-store" in issued.headers["cache-control"]  # pages are never cached
    found = re.search(r'<code id="issued-key">([^<]+)</code>', issued.text)
    assert found
    key = found.group(1)
    works = await client.get("/api/v1/reports", headers={"Authorization": f"Bearer {key}"})
    assert works.status_code == 200
    # Shown once: the organization's page never shows it again.
    later = await client.get(path)
    assert key not in later.text
    assert "Data pipeline" in later.text

    keys = await client.get(
        f"/api/v1/organizations/{organization.id}/keys", headers=members.secretariat.headers
    )
    key_id = next(item["id"] for item in keys.json()["items"] if item["label"] == "Data pipeline")
    revoked = await _post(client, f"{path}/keys/{key_id}/revoke", path)
    assert revoked.status_code == 303
    refused = await client.get("/api/v1/reports", headers={"Authorization": f"Bearer {key}"})
    assert refused.status_code == 401
    assert "revoked" in (await client.get(path)).text


async def test_taxonomy_versions_and_what_changed(
    client: httpx.AsyncClient,
    members: Members,
    app: App,
    connection: AsyncConnection,
    tmp_path: Path,
) -> None:
    await store(connection, Actor(label="test"), read_directory(make_version_2(tmp_path / "v2")))
    await app.state.taxonomy.refresh(connection, force=True)
    await sign_in(client, members.secretariat.key)
    listed = await client.get("/taxonomy")
    assert listed.status_code == 200
    assert "2027-06-01" in listed.text
    compared = await client.get("/taxonomy", params={"from": 1, "to": 2})
    assert compared.status_code == 200
    rows = re.findall(r"<tr><td>(\w+)</td><td>(\w+)</td><td><code>(\w+)</code>", compared.text)
    assert set(rows) == {
        ("added", "ai_task", "anomaly_detection"),
        ("retired", "ai_task", "event_detection"),
        ("relabelled", "harm_type", "public_interest"),
    }
    unknown = await client.get("/taxonomy", params={"from": 1, "to": 9})
    assert unknown.status_code == 422
    assert dict(_FIELD_ERROR.findall(unknown.text)) == {"to": "No released version 9"}


async def test_verifying_the_audit_log_on_request(
    client: httpx.AsyncClient, members: Members, connection: AsyncConnection
) -> None:
    await sign_in(client, members.secretariat.key)
    status = await client.get("/audit")
    assert status.status_code == 200
    verified = await _post(client, "/audit/verify", "/audit", mode="full")
    assert verified.status_code == 200
    assert "Verified: no problem found" in verified.text
    api = await client.get("/api/v1/audit/verify", headers=members.secretariat.headers)
    head = api.json()["head_seq"]
    assert re.search(rf"<dt>Chain head</dt><dd>{head} ", verified.text)
    # An edited event is found and named.
    # An event edited behind the application's back (as tests/audit does) is found and named.
    trigger = "audit_events_no_update_delete"
    await connection.execute(text(f"ALTER TABLE audit_events DISABLE TRIGGER {trigger}"))
    await connection.execute(text(f"UPDATE audit_events SET action = 'x' WHERE seq = {head}"))
    await connection.execute(text(f"ALTER TABLE audit_events ENABLE TRIGGER {trigger}"))
    broken = await _post(client, "/audit/verify", "/audit", mode="full")
    assert "Problems found" in broken.text
    assert f"Event {head}:" in broken.text


PAGES = ["/members", "/members/{org}", "/taxonomy", "/audit"]
POSTS = ["/members", "/members/{org}/keys", "/members/{org}/keys/{key}/revoke", "/audit/verify"]


@pytest.mark.parametrize("who", ["regulator", "researcher", "anonymous"])
async def test_no_one_but_the_secretariat_reaches_these_pages(
    client: httpx.AsyncClient, members: Members, who: str
) -> None:
    organization = members.regulator.organization
    keys = await client.get(
        f"/api/v1/organizations/{organization.id}/keys", headers=members.secretariat.headers
    )
    before = keys.json()["items"]
    names = {"org": organization.id, "key": before[0]["id"]}
    if who != "anonymous":
        await sign_in(client, getattr(members, who).key)
    token = csrf_token((await client.get("/sign-in")).text)
    for path in PAGES:
        answer = await client.get(path.format(**names))
        if who == "anonymous":
            assert answer.status_code == 303, path
        else:
            assert answer.status_code == 403, path
            assert "API keys" not in answer.text, path
    for path in POSTS:
        answer = await client.post(
            path.format(**names),
            data={"_csrf_token": token, "name": "Intruder", "kind": "secretariat", "label": "x"},
        )
        assert answer.status_code == (303 if who == "anonymous" else 403), path
        assert "inc_" not in answer.text, path
    after = await client.get(
        f"/api/v1/organizations/{organization.id}/keys", headers=members.secretariat.headers
    )
    # No key issued, none revoked (signing in only marks the key as used).
    assert [(key["id"], key["revoked_at"]) for key in after.json()["items"]] == [
        (key["id"], key["revoked_at"]) for key in before
    ]
    organizations = await client.get("/api/v1/organizations", headers=members.secretariat.headers)
    assert "Intruder" not in organizations.text
