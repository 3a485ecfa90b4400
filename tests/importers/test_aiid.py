"""The AI Incident Database snapshot, imported as downloaded (skips if ../shared is absent)."""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from incidents.audit.models import audit_events
from incidents.audit.service import Actor
from incidents.db import Database, create_engine
from incidents.importers.aiid import rules as aiid_rules
from incidents.importers.service import import_aiid
from incidents.oversight.verify import verify_all
from incidents.reports.models import reports
from incidents.taxonomy.service import Taxonomy, TaxonomyRegistry
from tests.datasets import aiid_snapshot

ACTOR = Actor(label="test")


@pytest.fixture
async def registry_db(committed_database_url: str) -> AsyncIterator[tuple[Database, Taxonomy]]:
    database = Database(create_engine(committed_database_url, pool_size=2))
    registry = TaxonomyRegistry()
    async with database.connect() as connection:
        await registry.refresh(connection, force=True)
    yield database, registry.current
    await database.dispose()


async def test_the_snapshot_imports_whole_and_domains_match_the_mit_file(
    registry_db: tuple[Database, Taxonomy],
) -> None:
    snapshot = aiid_snapshot()
    database, taxonomy = registry_db
    summary = await import_aiid(database, taxonomy, snapshot, ACTOR)
    assert summary.problems == []
    assert (summary.read, summary.created) == (1367, 1367)
    assert summary.unmapped == {"harm_domain (no MIT classification)": 125}

    with (snapshot / "classifications_MIT.csv").open(encoding="utf-8", newline="") as handle:
        labels = Counter(row["Risk Domain"] for row in csv.DictReader(handle))
    crosswalk = taxonomy.crosswalks["mit_risk_domain"]
    async with database.connect() as connection:
        for label, expected in labels.items():
            (code,) = crosswalk.lookup(label) or ["?"]
            count = (
                await connection.execute(
                    select(func.count())
                    .select_from(reports)
                    .where(func.array_position(reports.c.harm_domains, code).is_not(None))
                )
            ).scalar_one()
            assert count == expected, label
        public = (
            await connection.execute(
                select(func.count())
                .select_from(reports)
                .where(reports.c.sharing == "TLP:CLEAR", reports.c.status == "accepted")
            )
        ).scalar_one()
        assert public == 1367
        assert (await verify_all(connection)).ok


async def test_a_second_import_changes_nothing_and_a_newer_snapshot_updates_with_audit(
    registry_db: tuple[Database, Taxonomy], tmp_path: Path
) -> None:
    snapshot = aiid_snapshot()
    database, taxonomy = registry_db
    await import_aiid(database, taxonomy, snapshot, ACTOR)
    again = await import_aiid(database, taxonomy, snapshot, ACTOR)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1367)

    newer = tmp_path / "snapshot"
    shutil.copytree(snapshot, newer)
    text = (newer / "incidents.csv").read_text(encoding="utf-8")
    original = "Google’s YouTube Kids App Presents Inappropriate Content"
    assert original in text
    (newer / "incidents.csv").write_text(
        text.replace(original, "YouTube Kids shows disturbing videos"), "utf-8"
    )
    updated = await import_aiid(database, taxonomy, newer, ACTOR)
    assert (updated.created, updated.updated, updated.unchanged) == (0, 1, 1366)
    async with database.connect() as connection:
        report = (
            await connection.execute(select(reports).where(reports.c.external_ref == "AIID-1"))
        ).one()
        assert report.title == "YouTube Kids shows disturbing videos"
        assert report.revision == 2
        events = (
            (
                await connection.execute(
                    select(audit_events.c.action)
                    .where(audit_events.c.entity_id == str(report.id))
                    .order_by(audit_events.c.seq)
                )
            )
            .scalars()
            .all()
        )
        assert events == ["report.imported", "report.updated"]
        assert (await verify_all(connection)).ok


async def test_cset_fields_are_used_where_present(registry_db: tuple[Database, Taxonomy]) -> None:
    database, taxonomy = registry_db
    await import_aiid(database, taxonomy, aiid_snapshot(), ACTOR)
    async with database.connect() as connection:
        french = (
            await connection.execute(select(reports).where(reports.c.external_ref == "AIID-100"))
        ).one()
    assert french.affected_jurisdictions == ["FR"]
    assert french.sectors
    youtube = (await _one(database, "AIID-1")).developer
    assert youtube == "Youtube"


async def _one(database: Database, reference: str) -> Any:
    async with database.connect() as connection:
        return (
            await connection.execute(select(reports).where(reports.c.external_ref == reference))
        ).one()


async def test_every_harm_is_kept_injuries_are_serious_and_near_misses_are_hazards(
    registry_db: tuple[Database, Taxonomy],
) -> None:
    snapshot = aiid_snapshot()
    database, taxonomy = registry_db
    await import_aiid(database, taxonomy, snapshot, ACTOR)
    both = await _one(database, "AIID-5")  # 144 deaths and 1,391 injuries in CSET v1
    assert (both.deaths, both.injuries) == (144, 1391)
    assert {"physical_death", "physical_injury"} <= set(both.harm_types)
    assert both.severity == "serious_incident"
    injured = await _one(database, "AIID-125")  # 55,000 injured, nobody died
    assert (injured.injuries, injured.severity) == (55000, "serious_incident")
    assert "physical_injury" in injured.harm_types
    no_harm = await _one(database, "AIID-14")  # "no tangible harm, near-miss, or issue"
    assert (no_harm.event_type, no_harm.severity) == ("hazard", "hazard")

    hazards = {"no tangible harm, near-miss, or issue", *aiid_rules().hazard_when}
    with (snapshot / "classifications_CSETv1.csv").open(encoding="utf-8", newline="") as handle:
        expected = {
            row["Incident ID"] for row in csv.DictReader(handle) if row["Tangible Harm"] in hazards
        }
    async with database.connect() as connection:
        stored = (
            await connection.execute(
                select(func.count()).select_from(reports).where(reports.c.event_type == "hazard")
            )
        ).scalar_one()
    assert stored == len(expected) == 126
