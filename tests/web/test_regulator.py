"""A regulator's pages: filing without JavaScript with the API's own errors beside their fields,
joining a possible duplicate, deadlines, corrections that never overwrite a concurrent change
unseen, withdrawal and acting on a rejection."""

from __future__ import annotations

import html
import re
from datetime import date
from typing import Any

import httpx
import pytest

from incidents.app import App
from incidents.web.deadlines import art73_deadline
from incidents.web.report_form import raw_create, values_of
from tests.factories import Members
from tests.reports.helpers import file
from tests.web.helpers import csrf_token, sign_in

_FIELD_ERROR = re.compile(r'<p class="field-error" id="error-([a-z_]+)-\d+">([^<]*)</p>')


def _form(**overrides: Any) -> dict[str, Any]:
    """The filing form as a person fills it in."""
    form: dict[str, Any] = {
        "title": "Exam proctoring software flags students with dark skin",
        "summary": "The face detector failed on darker skin tones and flagged students as absent.",
        "event_type": "incident",
        "severity": "incident",
        "eu_serious_incident": ["c"],
        "harm_domain": "1.1",
        "harm_type": "human_rights",
        "affected_groups": ["race_ethnicity"],
        "ai_system_name": "ProctorEye",
        "developer": "Edutech Ltd",
        "deployer": "National Exams Council",
        "system_type": "",
        "sectors": ["P"],
        "affected_jurisdictions": "Kenya, UG",
        "occurred_on": "2026-05",
        "detected_on": "2026-06-02",
        "people_affected": "340",
        "deaths": "",
        "injuries": "",
        "source_url": "https://example.org/proctoreye",
        "source_title": "Newspaper article",
        "actions_taken": "",
        "language": "en",
        "sharing": "TLP:GREEN",
        "incident": "",
        "action": "submit",
    }
    form.update(overrides)
    return form


async def _post_form(
    client: httpx.AsyncClient, path: str, form: dict[str, Any], page: str | None = None
) -> httpx.Response:
    opened = await client.get(page or path)
    return await client.post(path, data={**form, "_csrf_token": csrf_token(opened.text)})


def _page_errors(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for field, message in _FIELD_ERROR.findall(text):
        found.setdefault(field, []).append(html.unescape(message))
    return found


async def test_filing_without_javascript_stores_the_report(
    client: httpx.AsyncClient, members: Members
) -> None:
    await sign_in(client, members.regulator.key)
    answer = await _post_form(client, "/file", _form())
    assert answer.status_code == 303, answer.text
    ref = answer.headers["location"].removeprefix("/reports/")
    stored = (await client.get(f"/api/v1/reports/{ref}", headers=members.regulator.headers)).json()
    assert stored["status"] == "submitted"
    assert stored["title"] == "Exam proctoring software flags students with dark skin"
    assert stored["affected_jurisdictions"] == ["KE", "UG"]
    assert stored["people_affected"] == 340
    assert stored["harms"] == [
        {"domain": "1.1", "harm_type": "human_rights", "affected_groups": ["race_ethnicity"]}
    ]
    draft = await _post_form(client, "/file", _form(action="draft", title="A draft"))
    ref = draft.headers["location"].removeprefix("/reports/")
    stored = (await client.get(f"/api/v1/reports/{ref}", headers=members.regulator.headers)).json()
    assert stored["status"] == "draft"


async def test_form_errors_are_the_apis_beside_their_fields(
    client: httpx.AsyncClient, members: Members, app: App
) -> None:
    await sign_in(client, members.regulator.key)
    bad = _form(
        title="",
        harm_domain="9.9",
        deaths="many",
        affected_jurisdictions="Atlantis",
        source_url="not a url",
        event_type="hazard",
        severity="hazard",
    )
    answer = await _post_form(client, "/file", bad)
    assert answer.status_code == 422
    shown = _page_errors(answer.text)
    # The same content as JSON to the API: the same messages, each beside its field.
    body = raw_create(values_of(bad), app.state.taxonomy.current, "submitted")
    api = await client.post("/api/v1/reports", json=body, headers=members.regulator.headers)
    assert api.status_code == 422
    api_messages = sorted(error["message"] for error in api.json()["errors"])
    assert sorted(message for messages in shown.values() for message in messages) == api_messages
    assert set(shown) >= {"title", "harm_domain", "deaths", "affected_jurisdictions", "source_url"}
    # What was typed is kept.
    assert 'value="not a url"' in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert (await client.get("/api/v1/reports", headers=members.regulator.headers)).json()[
        "items"
    ] == []


async def test_possible_duplicates_are_offered_and_can_be_joined(
    client: httpx.AsyncClient, members: Members
) -> None:
    existing = await file(client, members.other_regulator, sharing="TLP:AMBER")
    incident = existing["report"]["incident"]["ref"]
    await sign_in(client, members.regulator.key)
    fragment = await client.get(
        "/file/duplicates",
        params={
            "title": "Facial recognition misidentifies commuters",
            "ai_system_name": "GateFace",
        },
    )
    assert fragment.status_code == 200
    assert f'value="{incident}"' in fragment.text
    answer = await _post_form(client, "/file", _form(incident=incident))
    assert answer.status_code == 303
    ref = answer.headers["location"].removeprefix("/reports/")
    stored = (await client.get(f"/api/v1/reports/{ref}", headers=members.regulator.headers)).json()
    assert stored["incident"]["ref"] == incident
    # Without JavaScript, the check button lists them in the page.
    checked = await _post_form(
        client,
        "/file",
        _form(
            title="Facial recognition misidentifies commuters",
            ai_system_name="GateFace",
            action="check",
        ),
    )
    assert checked.status_code == 200
    assert f'value="{incident}"' in checked.text


async def test_my_reports_groups_by_status_with_art73_deadlines(
    client: httpx.AsyncClient, members: Members
) -> None:
    today = date.today().isoformat()
    await file(
        client,
        members.regulator,
        title="Grid controller outage",
        eu_serious_incident=["b"],
        occurred_on=today,
        detected_on=today,
        status="draft",
    )
    await file(client, members.regulator, title="Filed metro report")
    await sign_in(client, members.regulator.key)
    page = await client.get("/my-reports")
    assert page.status_code == 200
    assert "Drafts" in page.text
    assert "Grid controller outage" in page.text
    assert "(2 days): due, 2 days left" in page.text
    client.cookies.clear()
    await sign_in(client, members.researcher.key)
    assert (await client.get("/my-reports")).status_code == 403


async def test_a_concurrent_change_is_shown_never_overwritten_unseen(
    client: httpx.AsyncClient, members: Members
) -> None:
    created = await file(client, members.regulator)
    ref = created["report"]["ref"]
    await sign_in(client, members.regulator.key)
    form_page = await client.get(f"/reports/{ref}/edit")
    etag = re.search(r'name="etag" value="([^"]+)"', form_page.text)
    assert etag
    # Someone else at the same regulator corrects the title over the API meanwhile.
    current = await client.get(f"/api/v1/reports/{ref}", headers=members.regulator.headers)
    changed = await client.patch(
        f"/api/v1/reports/{ref}",
        json={"title": "Corrected by a colleague"},
        headers={**members.regulator.headers, "If-Match": current.headers["etag"]},
    )
    assert changed.status_code == 200
    mine = _form(title="My own correction", etag=html.unescape(etag.group(1)), revision="1")
    answer = await client.post(
        f"/reports/{ref}/edit", data={**mine, "_csrf_token": csrf_token(form_page.text)}
    )
    assert answer.status_code == 409
    assert "This report was changed while you were editing it" in answer.text
    assert "Corrected by a colleague" in answer.text  # what changed, shown
    assert 'value="My own correction"' in answer.text  # what I typed, kept
    stored = (await client.get(f"/api/v1/reports/{ref}", headers=members.regulator.headers)).json()
    assert stored["title"] == "Corrected by a colleague"
    # Saving again, knowingly, applies it.
    fresh = re.search(r'name="etag" value="([^"]+)"', answer.text)
    assert fresh
    again = await client.post(
        f"/reports/{ref}/edit",
        data={
            **mine,
            "etag": html.unescape(fresh.group(1)),
            "revision": "2",
            "_csrf_token": csrf_token(answer.text),
        },
    )
    assert again.status_code == 303
    stored = (await client.get(f"/api/v1/reports/{ref}", headers=members.regulator.headers)).json()
    assert stored["title"] == "My own correction"


async def test_acting_on_a_rejection_and_withdrawing(
    client: httpx.AsyncClient, members: Members
) -> None:
    created = await file(client, members.regulator)
    ref = created["report"]["ref"]
    rejected = await client.post(
        f"/api/v1/reports/{ref}/reject",
        json={"reason": "Name the affected countries precisely"},
        headers=members.secretariat.headers,
    )
    assert rejected.status_code == 200, rejected.text
    await sign_in(client, members.regulator.key)
    mine = await client.get("/my-reports")
    assert "Name the affected countries precisely" in mine.text
    edit = await client.get(f"/reports/{ref}/edit")
    assert "Rejected by the secretariat" in edit.text
    etag = re.search(r'name="etag" value="([^"]+)"', edit.text)
    assert etag
    answer = await client.post(
        f"/reports/{ref}/edit",
        data={
            **_form(affected_jurisdictions="KE, TZ"),
            "etag": html.unescape(etag.group(1)),
            "revision": "1",
            "_csrf_token": csrf_token(edit.text),
        },
    )
    assert answer.status_code == 303, answer.text
    stored = (await client.get(f"/api/v1/reports/{ref}", headers=members.regulator.headers)).json()
    assert stored["status"] == "submitted"
    assert stored["affected_jurisdictions"] == ["KE", "TZ"]
    report_page = await client.get(f"/reports/{ref}")
    withdrawn = await client.post(
        f"/reports/{ref}/withdraw",
        data={"reason": "Filed twice", "_csrf_token": csrf_token(report_page.text)},
    )
    assert withdrawn.status_code == 303
    stored = (await client.get(f"/api/v1/reports/{ref}", headers=members.regulator.headers)).json()
    assert stored["status"] == "withdrawn"


async def test_another_organizations_report_cannot_be_changed_from_the_pages(
    client: httpx.AsyncClient, members: Members
) -> None:
    created = await file(client, members.other_regulator, sharing="TLP:AMBER")
    ref = created["report"]["ref"]
    await sign_in(client, members.regulator.key)
    assert (await client.get(f"/reports/{ref}/edit")).status_code == 403
    page = await client.get(f"/reports/{ref}")
    assert "Withdraw this report" not in page.text
    refused = await client.post(
        f"/reports/{ref}/withdraw", data={"_csrf_token": csrf_token(page.text)}
    )
    assert refused.status_code == 403


def test_art73_deadlines_follow_the_category_and_deaths() -> None:
    today = date(2026, 6, 10)
    infrastructure = {"eu_serious_incident": ["b"], "detected_on": "2026-06-09"}
    deadline = art73_deadline(infrastructure, today)
    assert deadline is not None
    assert (deadline.days, deadline.due.isoformat(), deadline.state) == (2, "2026-06-11", "due")
    death = {"eu_serious_incident": ["a"], "deaths": 1, "detected_on": "2026-05-01"}
    deadline = art73_deadline(death, today)
    assert deadline is not None
    assert (deadline.days, deadline.state) == (10, "overdue")
    filed = {**death, "submitted_at": "2026-05-05T10:00:00Z"}
    deadline = art73_deadline(filed, today)
    assert deadline is not None
    assert deadline.state == "met"
    other = {"eu_serious_incident": ["c"], "occurred_on": "2026-05-01"}
    deadline = art73_deadline(other, today)
    assert deadline is not None
    assert deadline.days == 15
    assert art73_deadline({"eu_serious_incident": [], "detected_on": "2026-06-01"}, today) is None
    assert art73_deadline({"eu_serious_incident": ["c"], "occurred_on": "2026-05"}, today) is None


@pytest.mark.parametrize(
    ("language", "missing"),
    [
        ("ar", "حقل مطلوب مفقود"),
        ("zh", "缺少必填字段"),
        ("fr", "Champ obligatoire manquant"),
        ("ru", "Не заполнено обязательное поле"),
        ("es", "Falta un campo obligatorio"),
    ],
)
async def test_form_errors_are_shown_in_the_pages_language(
    client: httpx.AsyncClient, members: Members, app: App, language: str, missing: str
) -> None:
    """The API's reasons beside the fields, in the page's language: none of its English words is
    left (the values they carry, a code or a limit, are kept); the API itself stays English."""
    await sign_in(client, members.regulator.key)
    client.cookies.set("incidents_lang", language)
    bad = _form(
        title="",
        summary=" ",
        harm_domain="9.9",
        deaths="many",
        people_affected="-3",
        affected_jurisdictions="Atlantis",
        source_url="not a url",
        occurred_on="2026-02-30",
        detected_on="2999-01-01",
        language="not a language!",
        event_type="hazard",
        severity="hazard",
        ai_system_name="x" * 301,
    )
    answer = await _post_form(client, "/file", bad)
    assert answer.status_code == 422
    shown = _page_errors(answer.text)
    assert missing in shown["title"]
    body = raw_create(values_of(bad), app.state.taxonomy.current, "submitted")
    api = await client.post("/api/v1/reports", json=body, headers=members.regulator.headers)
    english = [error["message"] for error in api.json()["errors"]]
    assert "Required field is missing" in english
    assert len([m for messages in shown.values() for m in messages]) == len(english)
    for messages in shown.values():
        for message in messages:
            assert message not in english, message
    # The values a reason carries are kept as given: the unknown code, the impossible date.
    page_text = " ".join(m for messages in shown.values() for m in messages)
    assert "'9.9'" in page_text
    assert "'2026-02-30'" in page_text
