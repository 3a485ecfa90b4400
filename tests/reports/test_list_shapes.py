"""List pages run statements kept per shape (reports/shapes.py): the same shape with other values
answers its own rows, and no viewer is ever answered through another's visibility."""

from __future__ import annotations

from typing import Any

import httpx

from incidents.reports import shapes
from tests.factories import Members
from tests.reports.helpers import file, file_accepted


def refs(response: httpx.Response) -> set[str]:
    assert response.status_code == 200, response.text
    return {item["ref"] for item in response.json()["items"]}


async def test_same_shape_other_values_answer_their_own_rows(
    client: httpx.AsyncClient, members: Members
) -> None:
    health = await file_accepted(client, members, sectors=["H"], title="Health shapeword alpha")
    finance = await file_accepted(client, members, sectors=["K"], title="Finance shapeword beta")
    draft = (await file(client, members.regulator, status="draft", title="Draft gamma"))["report"]
    headers = members.regulator.headers

    async def listed(**params: Any) -> set[str]:
        return refs(await client.get("/api/v1/reports", params=params, headers=headers))

    assert await listed(sector="H") == {health["ref"], draft["ref"]}
    kept = len(shapes.CACHE)
    assert await listed(sector="K") == {finance["ref"]}
    assert await listed(sector="H") == {health["ref"], draft["ref"]}
    assert await listed(sector="A") == set()
    # The same statement answered all of them (one shape), each with its own value.
    assert len(shapes.CACHE) == kept
    assert await listed(q="alpha") == {health["ref"]}
    assert await listed(q="beta") == {finance["ref"]}
    assert await listed(q="alpha", sort="relevance") == {health["ref"]}
    assert await listed(q="beta", sort="relevance") == {finance["ref"]}
    # IN lists: the same length is the same shape, another length another; each its own rows.
    assert await listed(status="draft") == {draft["ref"]}
    assert await listed(status="accepted") == {health["ref"], finance["ref"]}
    assert await listed(status="draft,accepted") == {health["ref"], finance["ref"], draft["ref"]}
    assert await listed(status="submitted,rejected") == set()


async def test_viewers_never_share_each_others_rows(
    client: httpx.AsyncClient, members: Members
) -> None:
    clear = await file_accepted(client, members, sharing="TLP:CLEAR", title="Clear shapeword")
    amber = await file_accepted(client, members, sharing="TLP:AMBER", title="Amber shapeword")
    red = await file_accepted(client, members, sharing="TLP:RED", title="Red shapeword")
    draft = (
        await file(client, members.regulator, status="draft", sharing="TLP:CLEAR", title="Draft")
    )["report"]
    everyone = {"TLP:CLEAR": clear, "TLP:AMBER": amber, "TLP:RED": red}
    expected = {
        "public": {clear["ref"]},
        "researcher": {clear["ref"]},
        "other_regulator": {clear["ref"], amber["ref"]},
        # Same kind of viewer as the submitter, another organization: not its draft, not RED.
        "same_jurisdiction": {clear["ref"], amber["ref"]},
        "regulator": {clear["ref"], amber["ref"], red["ref"], draft["ref"]},
        "secretariat": {clear["ref"], amber["ref"], red["ref"]},
    }
    assert {report["ref"] for report in everyone.values()} <= expected["regulator"]
    # The same filters for every viewer, interleaved twice so that each viewer's statement is
    # already kept when another of the same kind (or another kind) asks.
    for params in ({"jurisdiction": "KE"}, {"jurisdiction": "KE", "sort": "oldest"}, {}):
        for _ in range(2):
            for role, wanted in expected.items():
                headers = {} if role == "public" else getattr(members, role).headers
                found = refs(await client.get("/api/v1/reports", params=params, headers=headers))
                assert found == wanted, (role, params)
