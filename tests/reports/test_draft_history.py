"""A draft's working copies stay with its submitter: once the report is submitted, everyone else
(the secretariat included) sees only the submitted history, from the outside, role by role."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import Members
from tests.reports.test_access import ROLES, headers_of


async def _correct(
    client: httpx.AsyncClient, members: Members, ref: str, **changes: Any
) -> dict[str, Any]:
    current = await client.get(f"/api/v1/reports/{ref}", headers=members.regulator.headers)
    response = await client.patch(
        f"/api/v1/reports/{ref}",
        json=changes,
        headers={**members.regulator.headers, "If-Match": current.headers["etag"]},
    )
    assert response.status_code == 200, response.text
    corrected: dict[str, Any] = response.json()
    return corrected


async def _revisions(
    client: httpx.AsyncClient, members: Members, role: str, ref: str
) -> list[dict[str, Any]]:
    response = await client.get(
        f"/api/v1/reports/{ref}/revisions", headers=headers_of(members, role)
    )
    assert response.status_code == 200, (role, response.text)
    items: list[dict[str, Any]] = response.json()["items"]
    return items


@pytest.mark.parametrize("role", ROLES)
async def test_only_the_submitter_sees_the_working_copies_of_a_draft(
    client: httpx.AsyncClient, members: Members, role: str
) -> None:
    created = await client.post(
        "/api/v1/reports",
        json={
            **(await _payload()),
            "status": "draft",
            "title": "First rough notes naming a witness",
        },
        headers=members.regulator.headers,
    )
    ref = created.json()["report"]["ref"]
    await _correct(client, members, ref, title="Second draft, still naming the witness")
    await _correct(client, members, ref, title="Facial recognition misidentifies commuters")
    submitted = await client.post(
        f"/api/v1/reports/{ref}/submit", headers=members.regulator.headers
    )
    assert submitted.status_code == 200
    accepted = await client.post(
        f"/api/v1/reports/{ref}/accept", headers=members.secretariat.headers
    )
    assert accepted.status_code == 200

    shown = await _revisions(client, members, role, ref)

    if role == "regulator":
        assert [item["revision"] for item in shown] == [1, 2, 3]
        assert shown[0]["content"]["title"] == "First rough notes naming a witness"
        return
    assert [item["revision"] for item in shown] == [3]
    assert shown[0]["content"]["title"] == "Facial recognition misidentifies commuters"
    assert "witness" not in str(shown)


async def test_corrections_after_submission_are_shared_history(
    client: httpx.AsyncClient, members: Members
) -> None:
    created = await client.post(
        "/api/v1/reports",
        json={**(await _payload()), "status": "draft", "sharing": "TLP:GREEN"},
        headers=members.regulator.headers,
    )
    ref = created.json()["report"]["ref"]
    await _correct(client, members, ref, deaths=1)
    await client.post(f"/api/v1/reports/{ref}/submit", headers=members.regulator.headers)
    await _correct(client, members, ref, deaths=2)
    for role in ("researcher", "other_regulator", "secretariat"):
        shown = await _revisions(client, members, role, ref)
        assert [(item["revision"], item["content"]["deaths"]) for item in shown] == [
            (2, 1),
            (3, 2),
        ], role


async def test_a_report_filed_as_submitted_shares_its_whole_history(
    client: httpx.AsyncClient, members: Members
) -> None:
    created = await client.post(
        "/api/v1/reports", json=await _payload(), headers=members.regulator.headers
    )
    ref = created.json()["report"]["ref"]
    await _correct(client, members, ref, injuries=5)
    shown = await _revisions(client, members, "secretariat", ref)
    assert [item["revision"] for item in shown] == [1, 2]


async def _payload() -> dict[str, Any]:
    from tests.factories import report_payload

    return report_payload(sharing="TLP:CLEAR")
