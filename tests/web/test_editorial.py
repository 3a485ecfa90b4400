"""The secretariat's brief desk in process: a brief requested (the API's 422 beside the period),
made in the background with its progress polled, previewed, edited, approved, published and
retracted through the briefs service; every other visitor refused on each page and POST."""

from __future__ import annotations

import asyncio
import re
import uuid

import httpx
import pytest

from tests.factories import Members
from tests.registry import Registry
from tests.web.helpers import csrf_token, sign_in

PERIOD = "2026-Q2"
_FIELD_ERROR = re.compile(r'<p class="field-error" id="error-([a-z_]+)-\d+">([^<]*)</p>')


async def _post(
    client: httpx.AsyncClient, path: str, opened_at: str, **form: str
) -> httpx.Response:
    opened = await client.get(opened_at)
    assert opened.status_code == 200, opened.text
    return await client.post(path, data={**form, "_csrf_token": csrf_token(opened.text)})


async def _made(client: httpx.AsyncClient, location: str) -> None:
    """Poll the progress fragment as htmx does, until it asks for the page to reload."""
    for _ in range(600):
        fragment = await client.get(f"{location}/progress", headers={"HX-Request": "true"})
        assert fragment.status_code == 200
        if fragment.headers.get("hx-refresh") == "true":
            return
        assert 'hx-trigger="every 2s"' in fragment.text
        await asyncio.sleep(0.1)
    raise AssertionError("the brief never finished")


async def test_a_brief_from_request_to_retraction(
    live: httpx.AsyncClient, registry: Registry
) -> None:
    secretariat = registry.members.secretariat
    await sign_in(live, secretariat.key)
    future = await _post(live, "/editorial", "/editorial", period="2099-Q1")
    assert future.status_code == 422
    api = await live.post("/api/v1/briefs", json={"period": "2099-Q1"}, headers=secretariat.headers)
    assert dict(_FIELD_ERROR.findall(future.text)) == {"period": api.json()["errors"][0]["message"]}
    nowhere = await _post(live, "/editorial", "/editorial", period=PERIOD, region="Atlantis")
    assert nowhere.status_code == 422
    assert "region" in dict(_FIELD_ERROR.findall(nowhere.text))

    queued = await _post(live, "/editorial", "/editorial", period=PERIOD, region="Africa")
    assert queued.status_code == 303
    location = queued.headers["location"]
    brief_id = location.rsplit("/", 1)[1]
    await _made(live, location)
    shown = await live.get(location)
    assert '<dd id="brief-status">draft</dd>' in shown.text
    assert "Preview" in shown.text
    pdf = await live.get(f"{location}/brief.pdf")
    assert pdf.content.startswith(b"%PDF")
    assert "attachment" in pdf.headers["content-disposition"]
    # A draft is not public.
    assert (await live.get(f"/api/v1/briefs/{brief_id}")).status_code in {401, 404}

    refused = await _post(live, f"{location}/approve", location)
    assert refused.status_code == 409
    assert "names no issuing body" in refused.text
    bad_date = await _post(
        live, f"{location}/edit", location, issuing_body="Secretariat", issued_on="30/11/2026"
    )
    assert bad_date.status_code == 422
    assert "issued_on" in dict(_FIELD_ERROR.findall(bad_date.text))
    assert 'value="Secretariat"' in bad_date.text  # what was typed is kept
    edited = await _post(
        live,
        f"{location}/edit",
        location,
        executive_summary="Incidents **rose**.",
        issuing_body="Secretariat of the cooperation body",
        issued_on="2026-11-30",
    )
    assert edited.status_code == 303
    assert (await _post(live, f"{location}/approve", location)).status_code == 303
    assert (await _post(live, f"{location}/publish", location)).status_code == 303
    public = await live.get(f"/api/v1/briefs/{brief_id}")
    assert public.json()["status"] == "published"
    assert public.json()["issuing_body"] == "Secretariat of the cooperation body"

    empty = await _post(live, f"{location}/retract", location, notice=" ")
    assert empty.status_code == 422
    assert "notice" in dict(_FIELD_ERROR.findall(empty.text))
    retracted = await _post(live, f"{location}/retract", location, notice="A wrong figure.")
    assert retracted.status_code == 303
    assert (await live.get(f"/api/v1/briefs/{brief_id}")).json()["status"] == "retracted"


PAGES = ["/editorial", "/editorial/{id}", "/editorial/{id}/progress", "/editorial/{id}/brief.pdf"]
POSTS = [
    "/editorial",
    "/editorial/{id}/edit",
    "/editorial/{id}/approve",
    "/editorial/{id}/publish",
    "/editorial/{id}/retract",
]


@pytest.mark.parametrize("who", ["regulator", "researcher", "anonymous"])
async def test_no_one_but_the_secretariat_reaches_the_brief_desk(
    client: httpx.AsyncClient, members: Members, who: str
) -> None:
    if who != "anonymous":
        await sign_in(client, getattr(members, who).key)
    token = csrf_token((await client.get("/sign-in")).text)
    brief_id = uuid.uuid4()
    for path in PAGES:
        answer = await client.get(path.format(id=brief_id))
        assert answer.status_code == (303 if who == "anonymous" else 403), path
    for path in POSTS:
        answer = await client.post(
            path.format(id=brief_id), data={"_csrf_token": token, "period": PERIOD}
        )
        assert answer.status_code == (303 if who == "anonymous" else 403), path
    listed = await client.get("/api/v1/briefs", headers=members.secretariat.headers)
    assert listed.json()["items"] == []


def test_the_preview_shows_each_headline_figure_once_with_its_protection() -> None:
    from incidents.web.editorial import _headline

    shown = _headline(
        {
            "headline": {
                "incidents": None,
                "incidents_status": "below_k",
                "serious": 12,
                "serious_status": "published",
                "cross_border": {"value": None, "status": "withheld"},
                "median_days_to_report": None,
            }
        }
    )
    assert shown == [
        ("incidents", "fewer than k"),
        ("serious", 12),
        ("cross border", "withheld"),
        ("median days to report", None),
    ]
