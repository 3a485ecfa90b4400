"""An incident the caller may not see answers exactly as one that does not exist, from the
outside, for every role and no key: by reference or id, merged or not, and through /similar."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.factories import Members
from tests.reports.helpers import file, file_accepted
from tests.reports.test_access import ROLES, headers_of

# Who sees the Kenyan regulator's accepted TLP:RED report (and so the incident holding it).
SEES_RED = {"regulator", "secretariat"}


@dataclass
class Incidents:
    red: dict[str, Any]
    """Holds only an accepted TLP:RED report."""
    merged_into_red: str
    draft: dict[str, Any]
    """Holds only a draft: its submitter's alone, the secretariat's neither."""
    public: str
    merged_into_public: str
    merged_into_empty: str
    """Merged into an incident whose reports were all moved out since."""


async def _merge(client: httpx.AsyncClient, members: Members, source: str, into: str) -> None:
    response = await client.post(
        f"/api/v1/incidents/{source}/merge",
        json={"into": into},
        headers=members.secretariat.headers,
    )
    assert response.status_code == 200, response.text


async def _move(client: httpx.AsyncClient, members: Members, ref: str) -> None:
    response = await client.post(
        f"/api/v1/reports/{ref}/move", json={"incident": None}, headers=members.secretariat.headers
    )
    assert response.status_code == 200, response.text


@pytest.fixture
async def incidents(client: httpx.AsyncClient, members: Members) -> Incidents:
    red = (await file_accepted(client, members, sharing="TLP:RED"))["incident"]
    other_red = (await file_accepted(client, members, sharing="TLP:RED"))["incident"]["ref"]
    await _merge(client, members, other_red, red["ref"])
    draft = (await file(client, members.regulator, status="draft"))["report"]["incident"]
    public = (await file_accepted(client, members, sharing="TLP:CLEAR"))["incident"]["ref"]
    other_public = (await file_accepted(client, members, sharing="TLP:CLEAR"))["incident"]["ref"]
    await _merge(client, members, other_public, public)
    emptied = await file_accepted(client, members, sharing="TLP:CLEAR")
    merged = await file_accepted(client, members, sharing="TLP:CLEAR")
    await _merge(client, members, merged["incident"]["ref"], emptied["incident"]["ref"])
    await _move(client, members, emptied["ref"])
    await _move(client, members, merged["ref"])
    return Incidents(
        red=red,
        merged_into_red=other_red,
        draft=draft,
        public=public,
        merged_into_public=other_public,
        merged_into_empty=merged["incident"]["ref"],
    )


def _absent_like(reference: str) -> str:
    """A reference of the same shape and length that names nothing."""
    if reference.startswith("INC-"):
        return reference[:9] + "9" * len(reference[9:])
    return str(uuid.uuid4())


def _as_if_absent(
    hidden: httpx.Response, absent: httpx.Response, references: tuple[str, str]
) -> None:
    """The same status, headers and body, but for the request id and the reference asked for."""

    def seen(response: httpx.Response, reference: str) -> tuple[Any, ...]:
        body = json.loads(response.text.replace(reference, "<reference>"))
        del body["request_id"]
        headers = {
            name: value
            for name, value in response.headers.items()
            if name not in {"x-request-id", "date"}
        }
        return response.status_code, body, headers

    assert seen(hidden, references[0]) == seen(absent, references[1])
    assert hidden.status_code == 404


async def _get(client: httpx.AsyncClient, members: Members, role: str, path: str) -> httpx.Response:
    return await client.get(path, headers=headers_of(members, role))


async def _check_hidden(
    client: httpx.AsyncClient, members: Members, role: str, reference: str, suffix: str
) -> None:
    absent = _absent_like(reference)
    _as_if_absent(
        await _get(client, members, role, f"/api/v1/incidents/{reference}{suffix}"),
        await _get(client, members, role, f"/api/v1/incidents/{absent}{suffix}"),
        (reference, absent),
    )


@pytest.mark.parametrize("suffix", ["", "/similar"])
@pytest.mark.parametrize("role", ROLES)
async def test_a_hidden_incident_answers_as_if_it_did_not_exist(
    client: httpx.AsyncClient, members: Members, incidents: Incidents, role: str, suffix: str
) -> None:
    red = incidents.red
    if role in SEES_RED:
        for reference in (red["ref"], red["id"]):
            shown = await _get(client, members, role, f"/api/v1/incidents/{reference}{suffix}")
            assert shown.status_code == 200, (role, shown.text)
    else:
        await _check_hidden(client, members, role, red["ref"], suffix)
        await _check_hidden(client, members, role, red["id"], suffix)
    draft = incidents.draft
    if role == "regulator":
        shown = await _get(client, members, role, f"/api/v1/incidents/{draft['ref']}{suffix}")
        assert shown.status_code == 200
    else:
        await _check_hidden(client, members, role, draft["ref"], suffix)
        await _check_hidden(client, members, role, draft["id"], suffix)


@pytest.mark.parametrize("suffix", ["", "/similar"])
@pytest.mark.parametrize("role", ROLES)
async def test_a_merged_incident_redirects_only_to_a_survivor_the_caller_may_see(
    client: httpx.AsyncClient, members: Members, incidents: Incidents, role: str, suffix: str
) -> None:
    merged = await _get(
        client, members, role, f"/api/v1/incidents/{incidents.merged_into_red}{suffix}"
    )
    if role in SEES_RED:
        assert merged.status_code == 308
        assert merged.headers["location"] == f"/api/v1/incidents/{incidents.red['ref']}{suffix}"
    else:
        await _check_hidden(client, members, role, incidents.merged_into_red, suffix)
    public = await _get(
        client, members, role, f"/api/v1/incidents/{incidents.merged_into_public}{suffix}"
    )
    assert public.status_code == 308
    assert public.headers["location"] == f"/api/v1/incidents/{incidents.public}{suffix}"
    await _check_hidden(client, members, role, incidents.merged_into_empty, suffix)


async def test_the_secretariat_cannot_merge_or_move_into_an_incident_it_may_not_see(
    client: httpx.AsyncClient, members: Members, incidents: Incidents
) -> None:
    draft = incidents.draft["ref"]
    absent = _absent_like(draft)
    report = (await file_accepted(client, members))["ref"]
    for path, body in (
        (f"/api/v1/incidents/{incidents.public}/merge", "into"),
        (f"/api/v1/reports/{report}/move", "incident"),
    ):
        _as_if_absent(
            await client.post(path, json={body: draft}, headers=members.secretariat.headers),
            await client.post(path, json={body: absent}, headers=members.secretariat.headers),
            (draft, absent),
        )
    _as_if_absent(
        await client.post(
            f"/api/v1/incidents/{draft}/merge",
            json={"into": incidents.public},
            headers=members.secretariat.headers,
        ),
        await client.post(
            f"/api/v1/incidents/{absent}/merge",
            json={"into": incidents.public},
            headers=members.secretariat.headers,
        ),
        (draft, absent),
    )
