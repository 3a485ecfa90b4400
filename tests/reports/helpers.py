"""Filing reports through the API as users do, for the registry tests."""

from __future__ import annotations

from typing import Any

import httpx

from tests.factories import Member, Members, report_payload


async def file(client: httpx.AsyncClient, member: Member, **overrides: Any) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/reports", json=report_payload(**overrides), headers=member.headers
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def file_accepted(
    client: httpx.AsyncClient, members: Members, member: Member | None = None, **overrides: Any
) -> dict[str, Any]:
    created = await file(client, member or members.regulator, **overrides)
    ref = created["report"]["ref"]
    accepted = await client.post(
        f"/api/v1/reports/{ref}/accept", headers=members.secretariat.headers
    )
    assert accepted.status_code == 200, accepted.text
    report: dict[str, Any] = accepted.json()
    return report
