"""The public briefs page lists a published brief with its documents, read from the API's own
listing; drafts never appear."""

from __future__ import annotations

import asyncio
import html

import httpx

from tests.registry import Registry

PERIOD = "2026-Q2"


async def test_a_published_brief_is_listed_with_its_documents(
    live: httpx.AsyncClient, registry: Registry
) -> None:
    secretariat = registry.members.secretariat.headers
    queued = await live.post(
        "/api/v1/briefs",
        json={"period": PERIOD, "scope": {"region": "Europe"}},
        headers=secretariat,
    )
    assert queued.status_code == 202, queued.text
    location = queued.headers["location"]
    for _ in range(600):
        status = (await live.get(location, headers=secretariat)).json()["status"]
        if status not in {"queued", "running"}:
            break
        await asyncio.sleep(0.1)
    assert status == "draft"
    brief_id = location.rsplit("/", 1)[1]
    assert brief_id not in (await live.get("/briefs")).text, "a draft is not listed"
    await live.patch(
        location,
        json={"issuing_body": "Secretariat", "issued_on": "2026-07-15"},
        headers=secretariat,
    )
    assert (await live.post(f"{location}/approve", headers=secretariat)).status_code == 200
    assert (await live.post(f"{location}/publish", headers=secretariat)).status_code == 200
    page = await live.get("/briefs")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert PERIOD in text
    assert "Europe" in text
    for document in ("brief.html", "brief.pdf", "data.json", "data.zip"):
        link = f"/api/v1/briefs/{brief_id}/{document}"
        assert link in text
        assert (await live.get(link)).status_code == 200
