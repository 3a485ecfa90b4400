"""Possible duplicates across languages: the same event reported in another language is told
apart from other incidents of the same system by signals that do not depend on language."""

from __future__ import annotations

import httpx

from tests.factories import Members
from tests.reports.helpers import file, file_accepted

SYSTEM = {"name": "GateFace", "developer": "Visionary Systems"}


async def test_the_same_event_in_chinese_finds_the_french_incident_first(
    client: httpx.AsyncClient, members: Members
) -> None:
    french = await file_accepted(
        client,
        members,
        language="fr",
        title="GateFace : des voyageurs signalés à tort aux portiques du métro",
        summary="Le système de reconnaissance faciale a signalé des voyageurs innocents.",
        ai_system=SYSTEM,
        occurred_on="2026-03-14",
        detected_on="2026-03-15",
        people_affected=120,
        sectors=["H"],
        harms=[{"domain": "1.1", "harm_type": "human_rights"}],
        affected_jurisdictions=["SN"],
    )
    # Another incident of the same system, in the same weeks, in another setting.
    other = await file_accepted(
        client,
        members,
        language="en",
        title="GateFace leaks images of bank customers",
        summary="Stored face images of customers were exposed.",
        ai_system=SYSTEM,
        occurred_on="2026-03-20",
        detected_on="2026-03-21",
        people_affected=4000,
        sectors=["K"],
        harms=[{"domain": "2.1", "harm_type": "human_rights"}],
        affected_jurisdictions=["KE"],
    )
    chinese = await file(
        client,
        members.other_regulator,
        language="zh",
        title="达喀尔地铁闸机 GateFace 人脸识别系统误拦乘客",
        summary="人脸识别系统把无辜乘客误认为通缉人员。",
        ai_system=SYSTEM,
        occurred_on="2026-03-16",
        detected_on="2026-03-17",
        people_affected=120,
        sectors=["H"],
        harms=[{"domain": "1.1", "harm_type": "human_rights"}],
        affected_jurisdictions=["SN"],
    )
    suggestions = chinese["possible_duplicates"]
    refs = [suggestion["incident"]["ref"] for suggestion in suggestions]
    assert refs[0] == french["incident"]["ref"]
    assert other["incident"]["ref"] in refs
    best = " | ".join(suggestions[0]["reasons"])
    for expected in (
        "same AI system: GateFace",
        "shared jurisdictions: SN",
        "shared harm domains: 1",
        "shared sectors: H",
        "same number of people affected: 120",
    ):
        assert expected in best
    assert "similar title" not in best
    assert suggestions[0]["score"] > suggestions[1]["score"]


async def test_a_report_of_the_same_system_long_before_is_still_suggested(
    client: httpx.AsyncClient, members: Members
) -> None:
    earlier = await file_accepted(
        client,
        members,
        language="es",
        title="GateFace señala por error a viajeros",
        ai_system=SYSTEM,
        occurred_on="2025-06-01",
        detected_on="2025-06-02",
        people_affected=75,
    )
    later = await file(
        client,
        members.other_regulator,
        language="ru",
        title="GateFace ошибочно задержала пассажиров",
        ai_system=SYSTEM,
        occurred_on="2026-03-16",
        detected_on="2026-03-17",
        people_affected=75,
    )
    found = {s["incident"]["ref"]: s for s in later["possible_duplicates"]}
    assert earlier["incident"]["ref"] in found
    reasons = found[earlier["incident"]["ref"]]["reasons"]
    assert not any(reason.startswith("occurred close in time") for reason in reasons)
