"""The synthetic registry: valid as if filed through the API, audited, deterministic, realistic."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
import pytest
from sqlalchemy import select, text

from incidents.db import Database, create_engine
from incidents.oversight.verify import verify_all
from incidents.reports.content import check, derive
from incidents.reports.models import report_revisions, reports
from incidents.reports.schemas import ReportContent
from incidents.synthetic.generate import generate, sample
from incidents.synthetic.world import vocabulary
from incidents.taxonomy.service import Taxonomy, TaxonomyRegistry
from tests.conftest import cloned_database

END = date(2026, 9, 30)
COUNT = 1_500


async def _generate(url: str, seed: int) -> tuple[Database, Taxonomy]:
    database = Database(create_engine(url, pool_size=2))
    registry = TaxonomyRegistry()
    async with database.connect() as connection:
        await registry.refresh(connection, force=True)
    summary = await generate(database, registry.current, reports_wanted=COUNT, seed=seed, end=END)
    assert summary.reports == COUNT
    return database, registry.current


class Generated(msgspec.Struct):
    rows: list[Any]
    taxonomy: Taxonomy
    database: Database


@pytest.fixture(scope="module")
async def generated(server_url: str, template_url: str) -> AsyncIterator[Generated]:
    async with cloned_database(server_url, template_url) as url:
        database, taxonomy = await _generate(url, seed=3)
        async with database.connect() as connection:
            rows = (
                await connection.execute(
                    select(reports, report_revisions.c.content)
                    .join(report_revisions, report_revisions.c.report_id == reports.c.id)
                    .order_by(reports.c.number)
                )
            ).all()
        yield Generated(rows=list(rows), taxonomy=taxonomy, database=database)
        await database.dispose()


async def test_content_passes_the_api_checks_and_columns_match(generated: Generated) -> None:
    today = END
    for row in generated.rows:
        content = msgspec.convert(row.content, ReportContent, strict=False)
        assert check(content, generated.taxonomy, today) == [], row.ref
        derived = msgspec.structs.asdict(
            derive(content, generated.taxonomy, row.reporting_jurisdiction)
        )
        stored = {name: getattr(row, name) for name in derived}
        assert stored == derived, row.ref


async def test_the_audit_chain_and_every_revision_verify(generated: Generated) -> None:
    async with generated.database.connect() as connection:
        result = await verify_all(connection)
    assert result.ok, result.problems[:3]
    assert result.revisions_checked == COUNT


async def test_reporting_is_skewed_and_some_countries_file_nothing(generated: Generated) -> None:
    by_country = Counter(row.reporting_jurisdiction for row in generated.rows)
    top_five = sum(count for _, count in by_country.most_common(5))
    assert top_five / COUNT > 0.4
    with_region = {code for code, country in generated.taxonomy.countries.items() if country.region}
    assert len(with_region - set(by_country)) > 20


async def test_every_state_level_and_several_languages_appear(generated: Generated) -> None:
    assert {row.status for row in generated.rows} == {
        "draft",
        "submitted",
        "under_review",
        "accepted",
        "rejected",
        "withdrawn",
    }
    assert {row.sharing for row in generated.rows} == {
        "TLP:CLEAR",
        "TLP:GREEN",
        "TLP:AMBER",
        "TLP:RED",
    }
    assert len({row.language for row in generated.rows}) >= 4
    severities = Counter(row.severity_ordinal for row in generated.rows)
    assert severities[5] < severities[3], "disasters are rare"


async def test_cross_border_incidents_are_reported_in_different_words(generated: Generated) -> None:
    by_incident: dict[Any, list[Any]] = {}
    for row in generated.rows:
        by_incident.setdefault(row.incident_id, []).append(row)
    shared = [
        group
        for group in by_incident.values()
        if len({r.reporting_jurisdiction for r in group}) > 1
    ]
    assert len(shared) > COUNT * 0.03
    reworded = [group for group in shared if len({r.title for r in group}) == len(group)]
    assert len(reworded) > len(shared) * 0.8


async def test_delays_cross_the_deadlines_and_emerging_risks_rise(generated: Generated) -> None:
    delays = [
        (row.submitted_at.date() - row.detected_on).days
        for row in generated.rows
        if row.submitted_at
    ]
    assert any(delay <= 2 for delay in delays)
    assert any(delay > 15 for delay in delays)
    emerging = set(vocabulary().emerging_domains)
    recent_cutoff = END - timedelta(days=365)
    early_cutoff = END - timedelta(days=3 * 365)

    def share(rows: list[Any]) -> float:
        return sum(1 for row in rows if emerging & set(row.harm_domains)) / max(1, len(rows))

    recent = [row for row in generated.rows if row.occurred_on >= recent_cutoff]
    early = [row for row in generated.rows if row.occurred_on < early_cutoff]
    assert share(recent) > 1.5 * share(early)
    assert max(row.occurred_on for row in generated.rows) <= END
    first_day = END - timedelta(days=5 * 366)
    assert min(row.occurred_on for row in generated.rows if row.occurred_precision == "day") >= (
        first_day
    )
    # A date known to the year or month is stored as its period's first day.
    assert min(row.occurred_on for row in generated.rows) >= first_day.replace(month=1, day=1)


async def test_reports_of_one_incident_disagree_as_regulators_do(generated: Generated) -> None:
    by_incident: dict[Any, list[Any]] = {}
    for row in generated.rows:
        by_incident.setdefault(row.incident_id, []).append(row)
    several = [group for group in by_incident.values() if len(group) > 1]

    def disagree(value: Callable[[Any], object]) -> int:
        return sum(1 for group in several if len({value(row) for row in group}) > 1)

    assert disagree(lambda row: row.severity) > 0
    assert disagree(lambda row: (row.occurred_on.year, (row.occurred_on.month - 1) // 3)) > 0
    assert disagree(lambda row: row.occurred_precision) > 0
    assert disagree(lambda row: tuple(row.affected_jurisdictions)) > 0
    assert {row.occurred_precision for row in generated.rows} == {"day", "month", "year"}
    abroad = [
        row
        for row in generated.rows
        if row.reporting_jurisdiction not in row.affected_jurisdictions
    ]
    assert abroad
    assert all(row.reporting_jurisdiction in row.jurisdictions for row in abroad)


async def test_the_same_seed_gives_the_same_registry(
    generated: Generated, server_url: str, template_url: str
) -> None:
    async with cloned_database(server_url, template_url) as url:
        database, _ = await _generate(url, seed=3)
        async with database.connect() as connection:
            again = (
                await connection.execute(
                    select(reports.c.id, report_revisions.c.content)
                    .join(report_revisions, report_revisions.c.report_id == reports.c.id)
                    .order_by(reports.c.id)
                )
            ).all()
            incident_count = (
                await connection.execute(text("SELECT count(*) FROM incidents"))
            ).scalar_one()
        await database.dispose()
    first = sorted((row.id, row.content) for row in generated.rows)
    assert [(row.id, row.content) for row in again] == first
    assert incident_count == len({row.incident_id for row in generated.rows})
    assert datetime.now(UTC) > max(row.submitted_at for row in generated.rows if row.submitted_at)


async def test_another_seed_gives_another_registry(generated: Generated) -> None:
    other = sample(generated.taxonomy, reports_wanted=COUNT, seed=4, end=END)
    assert [row["title"] for row in other] != [row.title for row in generated.rows]


async def test_the_in_memory_sample_is_the_registry_generate_writes(generated: Generated) -> None:
    built = sample(generated.taxonomy, reports_wanted=COUNT, seed=3, end=END)
    columns = (
        "id",
        "incident_id",
        "title",
        "severity",
        "occurred_on",
        "occurred_precision",
        "reporting_jurisdiction",
        "affected_jurisdictions",
        "status",
        "sharing",
    )
    assert [tuple(row[column] for column in columns) for row in built] == [
        tuple(getattr(row, column) for column in columns) for row in generated.rows
    ]
