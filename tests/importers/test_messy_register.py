"""A register as it is published (banner row, two-row header, country names in several forms
and languages, semicolon lists, every date form, free-text categories, bad rows) imported with
a mapping alone; the suggested mapping, filled in, imports it too; rejected rows come back with
their reasons and re-import once fixed; re-running changes nothing."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from incidents.audit.service import Actor
from incidents.cli import main
from incidents.db import Database, create_engine
from incidents.importers.mapped import Imported, import_table
from incidents.importers.mapping import MappingError, parse_mapping
from incidents.importers.suggest import suggest
from incidents.reports.models import report_revisions, reports
from incidents.taxonomy.service import Taxonomy, TaxonomyRegistry
from tests.factories import make_members

ACTOR = Actor(label="test")
ORGANIZATION = "Kenya Data Commission"

HEAD = [
    ["National register of AI incidents — export of 1 November 2026", "", "", "", "", "", "", ""],
    ["Incident", "", "When", "Where", "Classification", "", "Impact", ""],
    ["Title", "Description", "Date", "Countries", "Issue", "Sector", "Harm", "Deaths"],
]
GOOD = [
    # title, description, date, countries, issue, sector, harm, deaths
    [
        "Face gates misidentify commuters",
        "Gates flagged travellers.",
        "2019",
        "USA; Mexique",
        "Facial recognition bias against darker skin",
        "Transport; Public administration",
        "rights; economic",
        "0",
    ],
    [
        "Deepfake of a candidate",
        "A fabricated video spread.",
        "Mar 2021",
        "Türkiye",
        "Deepfake disinformation",
        "Media",
        "reputation",
        "",
    ],
    [
        "Credit model excludes women",
        "A scoring model rejected women.",
        "2018-2024",
        "Côte d'Ivoire, Sénégal",
        "Credit scoring discrimination",
        "Finance",
        "economic",
        "",
    ],
    [
        "Chatbot leaks user data",
        "Conversations were exposed.",
        "2020-",
        "South Korea",
        "Privacy leak of personal data",
        "Information",
        "rights",
        "",
    ],
    [
        "Exam proctoring flags students",
        "Students were failed wrongly.",
        "14/03/2022",
        "Estados Unidos",
        "Biometric bias in proctoring",
        "Education",
        "rights",
        "",
    ],
    [
        "Welfare fraud model",
        "Families were wrongly accused.",
        "March 14, 2023",
        "Allemagne",
        "Discrimination in welfare scoring",
        "Public administration",
        "economic; rights",
        "",
    ],
    [
        "Robot taxi collision",
        "A driverless car hit pedestrians.",
        "2023-05-02",
        "Kenya",
        "Robustness failure of an autonomous vehicle",
        "Transport",
        "injury; death",
        "2",
    ],
]
BAD = [
    [
        "Undated incident",
        "Nobody recorded when, nor the harm.",
        "",
        "Kenya",
        "Privacy leak",
        "Finance",
        "",
        "",
    ],
    [
        "Lost city",
        "A place that is not one.",
        "2022",
        "Atlantis",
        "Deepfake fraud",
        "Media",
        "economic",
        "",
    ],
    [
        "Impossible day",
        "The date does not exist.",
        "31/02/2021",
        "Brasil",
        "Deepfake fraud",
        "Media",
        "economic",
        "",
    ],
    [
        "Weather",
        "Nothing the rules know.",
        "2021",
        "India",
        "Weather forecast drift",
        "Agriculture",
        "economic",
        "",
    ],
    [
        "Two faults",
        "No harm given, an unknown sector.",
        "2022",
        "Kenya",
        "Privacy leak",
        "Bakery",
        "",
        "",
    ],
]
# Column position -> cell as refused -> cell as corrected.
FIXES = {2: {"": "2021", "31/02/2021": "28/02/2021"}, 3: {"Atlantis": "Brasil"},
         4: {"Weather forecast drift": "Robustness failure of a forecast"},
         5: {"Bakery": "Finance"}, 6: {"": "rights"}}  # fmt: skip

MAPPING = f"""
organization = "{ORGANIZATION}"
header_row = 2
header_rows = 2

[defaults]
sharing = "TLP:AMBER"
status = "submitted"
language = "en"
event_type = "incident"
severity = "incident"

[fields]
title = "Incident / Title"
summary = "Incident / Description"
occurred_on = {{ column = "When / Date", dates = "day-first" }}
affected_jurisdiction = {{ column = "Where / Countries", split = [";", ","] }}
sector = {{ column = "Classification / Sector", split = ";", values = {{ transport = "H", "public administration" = "O", media = "J", information = "J", finance = "K", education = "P", agriculture = "A" }} }}
harm_type = {{ column = "Impact / Harm", split = ";", values = {{ rights = "human_rights", economic = "economic_property", reputation = "reputational", injury = "physical_injury", death = "physical_death" }} }}
deaths = "Impact / Deaths"

[fields.harm_domain]
column = "Classification / Issue"
rules = [
  {{ keywords = ["bias", "discrimination"], code = "1.1" }},
  {{ contains = "privacy", code = "2.1" }},
  {{ regex = "deep ?fake", code = ["3.1", "4.3"] }},
  {{ keywords = ["robustness"], code = "7.3" }},
]
"""  # noqa: E501  # one mapping line per field reads best


def register(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([*HEAD, *rows])
    return buffer.getvalue().encode()


class Registry(msgspec.Struct):
    database: Database
    taxonomy: Taxonomy
    url: str


@pytest.fixture
async def registry(committed_database_url: str) -> AsyncIterator[Registry]:
    database = Database(create_engine(committed_database_url, pool_size=2))
    taxonomies = TaxonomyRegistry()
    async with database.transaction() as connection:
        await taxonomies.refresh(connection, force=True)
        await make_members(connection)
    yield Registry(database, taxonomies.current, committed_database_url)
    await database.dispose()


async def run(
    registry: Registry, data: bytes, mapping: str = MAPPING, *, partial: bool = False
) -> Imported:
    return await import_table(
        registry.database,
        registry.taxonomy,
        data,
        "register.csv",
        mapping,
        ACTOR,
        partial=partial,
    )


async def stored(database: Database) -> dict[str, dict[str, Any]]:
    async with database.connect() as connection:
        rows = await connection.execute(
            select(reports, report_revisions.c.content).join(
                report_revisions,
                (report_revisions.c.report_id == reports.c.id)
                & (report_revisions.c.revision == reports.c.revision),
            )
        )
        return {row.title: row._asdict() for row in rows}


async def test_a_messy_register_imports_with_a_mapping_alone(registry: Registry) -> None:
    data = register(GOOD + BAD)
    refused = await run(registry, data)
    assert not refused.written, "all or nothing by default"
    assert refused.created == 0
    assert await stored(registry.database) == {}
    problems = {(p.row, p.column, p.message) for p in refused.problems}
    assert problems == {
        (11, "When / Date", "No value (and no default)"),
        (11, "Impact / Harm", "Required"),
        (12, "Where / Countries", "'Atlantis' has no mapping"),
        (13, "When / Date", "day is out of range for month"),
        (14, "Classification / Issue", "'Weather forecast drift' has no mapping"),
        (15, "Classification / Sector", "'Bakery' has no mapping"),
        (15, "Impact / Harm", "Required"),
    }, "every problem of every row, by file line and the file's column"
    assert refused.rejected == 5

    partial = await run(registry, data, partial=True)
    assert (partial.created, partial.rejected, partial.written) == (7, 5, True)
    assert partial.defaulted == dict.fromkeys(
        ("sharing", "status", "language", "event_type", "severity"), 12
    )
    coverage = {item.field: item for item in partial.coverage}
    assert coverage["harm_domain"].by_rule == {
        "keywords bias, discrimination": 4,
        "contains 'privacy'": 3,
        "regex 'deep ?fake'": 3,
        "keywords robustness": 1,
    }
    assert coverage["harm_domain"].unmatched == [("Weather forecast drift", 1)]
    rows = await stored(registry.database)
    assert set(rows) == {row[0] for row in GOOD}
    face = rows["Face gates misidentify commuters"]
    assert (face["affected_jurisdictions"], face["sectors"]) == (["MX", "US"], ["H", "O"])
    assert face["harm_types"] == ["economic_property", "human_rights"]
    assert face["harm_domains"] == ["1", "1.1"]
    dates = {
        title: (str(row["occurred_on"]), row["occurred_precision"]) for title, row in rows.items()
    }
    assert dates == {
        "Face gates misidentify commuters": ("2019-01-01", "year"),
        "Deepfake of a candidate": ("2021-03-01", "month"),
        "Credit model excludes women": ("2018-01-01", "year"),
        "Chatbot leaks user data": ("2020-01-01", "year"),
        "Exam proctoring flags students": ("2022-03-14", "day"),
        "Welfare fraud model": ("2023-03-14", "day"),
        "Robot taxi collision": ("2023-05-02", "day"),
    }
    assert rows["Deepfake of a candidate"]["affected_jurisdictions"] == ["TR"]
    assert rows["Credit model excludes women"]["affected_jurisdictions"] == ["CI", "SN"]
    assert rows["Chatbot leaks user data"]["affected_jurisdictions"] == ["KR"]
    assert rows["Welfare fraud model"]["affected_jurisdictions"] == ["DE"]
    taxi = rows["Robot taxi collision"]
    assert taxi["content"]["harms"] == [
        {"domain": "7.3", "harm_type": "physical_injury", "affected_groups": []},
        {"domain": "7.3", "harm_type": "physical_death", "affected_groups": []},
    ], "every harm of the row is kept"
    assert rows["Deepfake of a candidate"]["harm_domains"] == ["3", "3.1", "4", "4.3"]

    # The rejected rows come back in the file's layout, each with its reasons.
    assert partial.rejected_rows is not None
    back = list(csv.reader(io.StringIO(partial.rejected_rows.decode())))
    assert back[: len(HEAD)] == [
        [*HEAD[0], ""],
        [*HEAD[1], ""],
        [*HEAD[2], "rejected because"],
    ]
    assert [row[:-1] for row in back[len(HEAD) :]] == BAD
    assert back[4][-1] == "Where / Countries: 'Atlantis' has no mapping"
    fixed = [
        [FIXES.get(position, {}).get(cell, cell) for position, cell in enumerate(row[:-1])]
        for row in back[len(HEAD) :]
    ]
    again = await run(registry, register(fixed))
    assert (again.problems, again.created, again.written) == ([], 5, True)

    # Re-running either file changes nothing (no external reference: the content key).
    async with registry.database.connect() as connection:
        before = (await connection.execute(select(func.count()).select_from(reports))).scalar()
    rerun = await run(registry, data, partial=True)
    assert (rerun.created, rerun.updated, rerun.unchanged, rerun.rejected) == (0, 0, 7, 5)
    fixed_again = await run(registry, register(fixed))
    assert (fixed_again.created, fixed_again.updated, fixed_again.unchanged) == (0, 0, 5)
    async with registry.database.connect() as connection:
        after = (await connection.execute(select(func.count()).select_from(reports))).scalar()
    assert before == after == 12


async def test_the_suggested_mapping_filled_in_imports_the_register(registry: Registry) -> None:
    data = register(GOOD)
    text = suggest(data, "register.csv", registry.taxonomy)
    assert "header_row = 2" in text
    assert "header_rows = 2" in text
    assert '[fields.affected_jurisdiction]\ncolumn = "Where / Countries"' in text
    assert '[fields.occurred_on]\ncolumn = "When / Date"' in text
    assert '"Transport" = ""   # 2 rows' in text, "values listed with their counts"
    assert '"death" = "physical_death"   # 1 row; a label the taxonomy knows' in text
    with pytest.raises(MappingError, match="has no code yet"):
        parse_mapping(text, registry.taxonomy)
    codes = {
        "Transport": "H", "Public administration": "O", "Media": "J", "Information": "J",
        "Finance": "K", "Education": "P", "rights": "human_rights",
        "economic": "economic_property", "reputation": "reputational",
        "injury": "physical_injury", "death": "physical_death",
    }  # fmt: skip
    issues = {row[4]: "7.3" if "Robustness" in row[4] else "1.1" for row in GOOD}
    codes |= issues

    def fill(match: re.Match[str]) -> str:
        return f'{match.group(1)} = "{codes[msgspec.json.decode(match.group(1))]}"'

    filled = re.sub(r'^(".*?") = ""', fill, text, flags=re.MULTILINE)
    filled = filled.replace('organization = ""', f'organization = "{ORGANIZATION}"')
    result = await run(registry, data, filled)
    assert (result.problems, result.created) == ([], len(GOOD))
    rows = await stored(registry.database)
    assert rows["Credit model excludes women"]["affected_jurisdictions"] == ["CI", "SN"]
    assert rows["Robot taxi collision"]["harm_types"] == ["physical_death", "physical_injury"]


def test_the_command_line_checks_the_mapping_and_writes_rejected_rows(
    registry: Registry, tmp_path: Path
) -> None:
    runner = CliRunner(env={"INCIDENTS_DATABASE_URL": registry.url})
    (tmp_path / "bad.toml").write_text(
        MAPPING.replace('dates = "day-first"', 'dates = "sometimes"').replace(
            'code = "2.1"', 'code = "9.9"'
        )
    )
    checked = runner.invoke(
        main, ["import", "csv", "--mapping", str(tmp_path / "bad.toml"), "--check-mapping"]
    )
    assert checked.exit_code == 1
    assert (
        "bad.toml: line 16: fields.occurred_on.dates: Invalid enum value 'sometimes'"
        in checked.output
    )
    (tmp_path / "codes.toml").write_text(MAPPING.replace('code = "2.1"', 'code = "9.9"'))
    checked = runner.invoke(
        main, ["import", "csv", "--mapping", str(tmp_path / "codes.toml"), "--check-mapping"]
    )
    assert "codes.toml: line 26: harm_domain: '9.9' is not a harm_domain code" in checked.output

    (tmp_path / "map.toml").write_text(MAPPING)
    # Over a thousand bad rows: every problem is printed, and the missing date is named by line.
    many = [[f"Row {n}", "No date.", "", "Kenya", "Privacy leak", "Finance", "rights", ""]
            for n in range(1_200)]  # fmt: skip
    (tmp_path / "many.csv").write_bytes(register(GOOD + many))
    dry = runner.invoke(
        main,
        [
            "import",
            "csv",
            str(tmp_path / "many.csv"),
            "--mapping",
            str(tmp_path / "map.toml"),
            "--dry-run",
        ],
    )
    assert dry.exit_code == 1
    assert sum("column When / Date: No value" in line for line in dry.output.splitlines()) == 1_200
    assert "line 1210, column When / Date: No value (and no default)" in dry.output
    assert "refused 1,200 row(s): When / Date: No value (and no default)" in dry.output

    (tmp_path / "register.csv").write_bytes(register(GOOD + BAD))
    partial = runner.invoke(
        main,
        ["import", "csv", str(tmp_path / "register.csv"), "--mapping", str(tmp_path / "map.toml"),
         "--partial", "--rejected", str(tmp_path / "rejected.csv")],
    )  # fmt: skip
    assert partial.exit_code == 1, "rows were refused"
    assert "created 7" in partial.output
    assert "refused 5" in partial.output
    assert "the other rows were written" in partial.output
    assert (tmp_path / "rejected.csv").read_text().count("\n") == len(HEAD) + len(BAD)

    renamed = MAPPING.replace('"Impact / Deaths"', '"Impact / Lives lost"')
    (tmp_path / "renamed.toml").write_text(renamed)
    missing = runner.invoke(
        main,
        [
            "import",
            "csv",
            str(tmp_path / "register.csv"),
            "--mapping",
            str(tmp_path / "renamed.toml"),
        ],
    )
    lines = [line for line in missing.output.splitlines() if "Impact / Lives lost" in line]
    assert len(lines) == 1, "a missing column is reported once"
    assert "its columns are: 'Incident / Title'" in lines[0]
