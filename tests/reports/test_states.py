"""The lifecycle table, taken through the API from every status by every step: what the table
allows succeeds and leads where it says, everything else is refused and changes nothing."""

from __future__ import annotations

import httpx
import pytest

from incidents.reports.states import TRANSITIONS, Action, Status
from tests.factories import Members
from tests.reports.helpers import file

PATHS = {
    Action.SUBMIT: "submit",
    Action.WITHDRAW: "withdraw",
    Action.START_REVIEW: "start-review",
    Action.ACCEPT: "accept",
    Action.REJECT: "reject",
}
# How to bring a new report to each status, step by step.
ROUTE: dict[Status, list[Action]] = {
    Status.DRAFT: [],
    Status.SUBMITTED: [Action.SUBMIT],
    Status.UNDER_REVIEW: [Action.SUBMIT, Action.START_REVIEW],
    Status.ACCEPTED: [Action.SUBMIT, Action.ACCEPT],
    Status.REJECTED: [Action.SUBMIT, Action.REJECT],
    Status.WITHDRAWN: [Action.WITHDRAW],
}


async def _step(
    client: httpx.AsyncClient, members: Members, ref: str, action: Action
) -> httpx.Response:
    who = members.regulator if TRANSITIONS[action].who == "submitter" else members.secretariat
    return await client.post(
        f"/api/v1/reports/{ref}/{PATHS[action]}",
        json={"reason": "Needs a clearer harm classification."},
        headers=who.headers,
    )


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("action", list(Action))
async def test_every_step_from_every_status_follows_the_table(
    client: httpx.AsyncClient, members: Members, status: Status, action: Action
) -> None:
    ref = (await file(client, members.regulator, status="draft"))["report"]["ref"]
    for step in ROUTE[status]:
        assert (await _step(client, members, ref, step)).status_code == 200
    response = await _step(client, members, ref, action)
    rule = TRANSITIONS[action]
    after = await client.get(f"/api/v1/reports/{ref}", headers=members.regulator.headers)
    if status in rule.sources:
        assert response.status_code == 200, response.text
        assert response.json()["status"] == rule.target
        assert after.json()["status"] == rule.target
    else:
        # A draft (or one withdrawn before it was filed) is its submitter's alone: to the
        # secretariat it does not exist.
        hidden = rule.who == "secretariat" and status in {Status.DRAFT, Status.WITHDRAWN}
        assert response.status_code == (404 if hidden else 409), response.text
        assert after.json()["status"] == status, "a refused step changes nothing"


@pytest.mark.parametrize("action", list(Action))
async def test_each_step_is_taken_only_by_its_role(
    client: httpx.AsyncClient, members: Members, action: Action
) -> None:
    ref = (await file(client, members.regulator))["report"]["ref"]
    rule = TRANSITIONS[action]
    wrong = members.secretariat if rule.who == "submitter" else members.regulator
    response = await client.post(
        f"/api/v1/reports/{ref}/{PATHS[action]}", json={"reason": "x"}, headers=wrong.headers
    )
    assert response.status_code in {403, 404}, response.text
