"""Mapped CSV imports (the README's example) and NDJSON exports re-imported elsewhere."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from incidents.app import create_app
from incidents.audit.service import Actor
from incidents.cli import main
from incidents.config import Settings
from incidents.db import Database, create_engine
from incidents.importers.mapped import Imported, import_table
from incidents.importers.mapping import MappingError
from incidents.importers.service import import_ndjson
from incidents.reports.models import reports
from incidents.reports.schemas import ReportContent
from incidents.taxonomy.service import Taxonomy, TaxonomyRegistry
from tests.conftest import cloned_database, serve_in_process
from tests.factories import Members, make_members, report_payload

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ACTOR = Actor(label="test")


class Instance(msgspec.Struct):
    database: Database
    taxonomy: Taxonomy
    members: Members
    url: str


@pytest.fixture
async def instance(committed_database_url: str) -> AsyncIterator[Instance]:
    database = Database(create_engine(committed_database_url, pool_size=4))
    registry = TaxonomyRegistry()
    async with database.transaction() as connection:
        await registry.refresh(connection, force=True)
        members = await make_members(connection)
    yield Instance(database, registry.current, members, committed_database_url)
    await database.dispose()


async def import_csv(
    database: Database, taxonomy: Taxonomy, table: Path, mapping: Path, actor: Actor
) -> Imported:
    data, text = table.read_bytes(), mapping.read_text()  # noqa: ASYNC240  # small test files
    return await import_table(database, taxonomy, data, table.name, text, actor)


async def test_the_readme_example_imports_and_reimports_idempotently(instance: Instance) -> None:
    csv_file, mapping = EXAMPLES / "national-register.csv", EXAMPLES / "national-register.toml"
    summary = await import_csv(instance.database, instance.taxonomy, csv_file, mapping, ACTOR)
    assert summary.problems == []
    assert (summary.read, summary.created) == (3, 3)
    async with instance.database.connect() as connection:
        rows = {row.external_ref: row for row in await connection.execute(select(reports))}
    gates = rows["KE-2026-001"]
    assert gates.harm_domains == ["1", "1.1"]
    assert gates.affected_jurisdictions == ["KE", "UG"]
    assert gates.affected_groups == [
        "migrants_refugees",
        "protected_characteristic",
        "race_ethnicity",
        "vulnerable_group",
    ]
    assert gates.occurred_on.isoformat() == "2026-03-14"
    assert gates.severity == "serious_incident"
    assert gates.sharing == "TLP:AMBER"
    assert gates.organization_id == instance.members.regulator.organization.id
    assert gates.reporting_jurisdiction == "KE"
    again = await import_csv(instance.database, instance.taxonomy, csv_file, mapping, ACTOR)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)


def test_a_dry_run_prints_every_problem_by_row_and_column(
    instance: Instance, tmp_path: Path
) -> None:
    shutil.copy(EXAMPLES / "national-register.toml", tmp_path / "map.toml")
    source = (EXAMPLES / "national-register.csv").read_text()
    source = source.replace("14/03/2026", "2026-03-14").replace(",rights,", ",vibes,")
    source = source.replace("Kenya;Uganda", "Kenya;Atlantis").replace(",medium,,", ",medium,many,")
    (tmp_path / "register.csv").write_text(source)
    result = CliRunner(env={"INCIDENTS_DATABASE_URL": instance.url}).invoke(
        main,
        [
            "import",
            "csv",
            str(tmp_path / "register.csv"),
            "--mapping",
            str(tmp_path / "map.toml"),
            "--dry-run",
        ],
    )
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert "line 2, column Opened: '2026-03-14' does not match %d/%m/%Y" in lines
    assert "line 2, column Harm: 'vibes' has no mapping" in lines
    assert "line 2, column Countries: 'Atlantis' has no mapping" in lines
    assert "line 3, column Deaths: 'many' is not a whole number" in lines
    assert "nothing was written" in result.output


async def test_an_unknown_organization_or_field_is_refused(
    instance: Instance, tmp_path: Path
) -> None:
    mapping = (EXAMPLES / "national-register.toml").read_text()
    (tmp_path / "unknown-org.toml").write_text(mapping.replace("Kenya Data Commission", "Nobody"))
    summary = await import_csv(
        instance.database,
        instance.taxonomy,
        EXAMPLES / "national-register.csv",
        tmp_path / "unknown-org.toml",
        ACTOR,
    )
    assert [problem.column for problem in summary.problems] == ["organization"]
    (tmp_path / "unknown-field.toml").write_text(
        mapping.replace('title = "Headline"', 'colour = "Headline"')
    )
    with pytest.raises(
        MappingError, match=r"(?s)title: no column and no default.*line 14: Unknown field 'colour'"
    ):
        await import_csv(
            instance.database,
            instance.taxonomy,
            EXAMPLES / "national-register.csv",
            tmp_path / "unknown-field.toml",
            ACTOR,
        )


async def _export(url: str, members: Members, tmp_path: Path) -> tuple[bytes, list[dict[str, Any]]]:
    database = Database(create_engine(url, pool_size=4))
    app = create_app(Settings(data_dir=tmp_path), database=database)
    async with serve_in_process(app) as client:
        ndjson = await client.get("/api/v1/reports.ndjson", headers=members.secretariat.headers)
        listed = (
            await client.get(
                "/api/v1/reports",
                params={"limit": 500, "sort": "oldest"},
                headers=members.secretariat.headers,
            )
        ).json()["items"]
    await database.dispose()
    return ndjson.content, listed


async def test_an_ndjson_export_reimports_into_another_instance_with_the_same_content(
    instance: Instance, server_url: str, template_url: str, tmp_path: Path
) -> None:
    app = create_app(Settings(data_dir=tmp_path), database=instance.database)
    async with serve_in_process(app) as client:
        first = await client.post(
            "/api/v1/reports", json=report_payload(), headers=instance.members.regulator.headers
        )
        incident = first.json()["report"]["incident"]["ref"]
        await client.post(
            "/api/v1/reports",
            json=report_payload(
                incident=incident, affected_jurisdictions=["BR"], sharing="TLP:RED"
            ),
            headers=instance.members.other_regulator.headers,
        )
        alone = await client.post(
            "/api/v1/reports",
            json=report_payload(title="Alone", status="draft"),
            headers=instance.members.regulator.headers,
        )
        await client.post(
            f"/api/v1/reports/{alone.json()['report']['ref']}/submit",
            headers=instance.members.regulator.headers,
        )
        await client.post(
            f"/api/v1/reports/{first.json()['report']['ref']}/accept",
            headers=instance.members.secretariat.headers,
        )
    exported, source = await _export(instance.url, instance.members, tmp_path)
    (tmp_path / "export.ndjson").write_bytes(exported)
    async with cloned_database(server_url, template_url) as other_url:
        other = Database(create_engine(other_url, pool_size=4))
        async with other.transaction() as connection:
            other_members = await make_members(connection)
        summary = await import_ndjson(other, instance.taxonomy, tmp_path / "export.ndjson", ACTOR)
        assert summary.problems == []
        assert summary.created == 3
        again = await import_ndjson(other, instance.taxonomy, tmp_path / "export.ndjson", ACTOR)
        assert (again.created, again.unchanged) == (0, 3)
        await other.dispose()
        _, copied = await _export(other_url, other_members, tmp_path)

    def comparable(report: dict[str, Any]) -> tuple[Any, ...]:
        content = msgspec.convert(
            {k: report[k] for k in ReportContent.__struct_fields__}, ReportContent
        )
        return (
            msgspec.json.encode(content),
            report["status"],
            report["sharing"],
            report["organization"]["name"],
            report["reporting_jurisdiction"],
        )

    assert sorted(map(comparable, copied)) == sorted(map(comparable, source))
    grouping = {
        report["title"] + report["organization"]["name"]: report["incident"]["ref"]
        for report in copied
    }
    assert len(set(grouping.values())) == 2, "the two reports of one incident still share one"


async def test_a_row_with_an_empty_reference_is_known_again_by_its_content(
    instance: Instance, tmp_path: Path
) -> None:
    source = (EXAMPLES / "national-register.csv").read_text()
    (tmp_path / "register.csv").write_text(source.replace("KE-2026-003,", ","))
    mapping = EXAMPLES / "national-register.toml"
    first = await import_csv(
        instance.database, instance.taxonomy, tmp_path / "register.csv", mapping, ACTOR
    )
    assert (first.problems, first.created) == ([], 3)
    again = await import_csv(
        instance.database, instance.taxonomy, tmp_path / "register.csv", mapping, ACTOR
    )
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    async with instance.database.connect() as connection:
        references = sorted((await connection.execute(select(reports.c.external_ref))).scalars())
    assert references[:2] == ["KE-2026-001", "KE-2026-002"]
    assert references[2].startswith("content:")
