"""The taxonomy files: the shipped one is valid; each kind of defect is found by file and code."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from incidents.cli import main
from incidents.paths import taxonomy_dir
from incidents.taxonomy.files import TaxonomyInvalid, read_directory
from tests.taxonomy.helpers import copy_shipped, edit


def test_the_shipped_taxonomy_is_valid_and_complete() -> None:
    document = read_directory(taxonomy_dir())
    dimensions = {dimension.name: dimension for dimension in document.dimensions}
    harm = {entry.code: entry for entry in dimensions["harm_domain"].codes}
    assert len([code for code in harm if "." not in code]) == 7
    assert len([code for code in harm if "." in code]) == 24
    assert "7.6" in harm
    severity = sorted(dimensions["severity"].codes, key=lambda entry: entry.ordinal or 0)
    assert [entry.code for entry in severity] == [
        "hazard",
        "serious_hazard",
        "incident",
        "serious_incident",
        "disaster",
    ]
    assert {entry.code for entry in dimensions["eu_serious_incident"].codes} == {"a", "b", "c", "d"}
    assert len(dimensions["sector"].codes) == 21
    assert {entry.code for entry in dimensions["autonomy_level"].codes} == {
        "no_action",
        "low_action",
        "medium_action",
        "high_action",
    }
    assert len(document.geography) == 249


def test_check_command_passes_on_the_shipped_taxonomy() -> None:
    result = CliRunner().invoke(main, ["taxonomy", "check"])
    assert result.exit_code == 0, result.output
    assert "version 1 is valid" in result.output


BROKEN = [
    # (file, old text, new text, expected file, expected code, words in the reason)
    (
        "dimensions/harm_type.toml",
        'code = "reputational"',
        'code = "psychological"',
        "dimensions/harm_type.toml",
        "psychological",
        "unique",
    ),
    (
        "dimensions/harm_domain.toml",
        'parent = "1"',
        'parent = "99"',
        "dimensions/harm_domain.toml",
        "1.1",
        "does not exist",
    ),
    (
        "dimensions/affected_group.toml",
        'code = "protected_characteristic"\n',
        'code = "protected_characteristic"\nparent = "race_ethnicity"\n',
        "dimensions/affected_group.toml",
        "protected_characteristic",
        "cycle",
    ),
    (
        "dimensions/ai_task.toml",
        'code = "forecasting"\n',
        'code = "forecasting"\nretired_in = 1\nreplaced_by = "no_such_task"\n',
        "dimensions/ai_task.toml",
        "forecasting",
        "does not exist",
    ),
    (
        "dimensions/ai_task.toml",
        'code = "forecasting"\n',
        'code = "forecasting"\nretired_in = 1\n',
        "dimensions/ai_task.toml",
        "forecasting",
        "must name its replacement",
    ),
    (
        "crosswalks/oecd_harm_type.toml",
        'to = ["physical_death"]',
        'to = ["physical_dead"]',
        "crosswalks/oecd_harm_type.toml",
        None,
        "does not exist",
    ),
    (
        "dimensions/sector.toml",
        'label = { en = "Agriculture, forestry and fishing" }',
        'label = { fr = "Agriculture, sylviculture et pêche" }',
        "dimensions/sector.toml",
        "A",
        "label missing in 'en'",
    ),
    (
        "dimensions/severity.toml",
        "ordinal = 2",
        "ordinal = 1",
        "dimensions/severity.toml",
        None,
        "ordinal 1 is used 2 times",
    ),
    (
        "dimensions/causal_entity.toml",
        'name = "causal_entity"',
        'name = "causal_agent"',
        "dimensions/causal_entity.toml",
        None,
        "not the file's",
    ),
    (
        "dimensions/lifecycle_stage.toml",
        "order = 1",
        'order = 1\ncolour = "red"',
        "dimensions/lifecycle_stage.toml",
        None,
        "unknown field",
    ),
]


@pytest.mark.parametrize(("file", "old", "new", "where", "code", "reason"), BROKEN)
def test_each_defect_is_reported_with_its_file_and_code(
    tmp_path: Path, file: str, old: str, new: str, where: str, code: str | None, reason: str
) -> None:
    directory = copy_shipped(tmp_path / "taxonomy")
    edit(directory / file, old, new)
    with pytest.raises(TaxonomyInvalid) as raised:
        read_directory(directory)
    matching = [
        problem
        for problem in raised.value.problems
        if problem.file == where and reason.lower() in problem.reason.lower()
    ]
    assert matching, raised.value.problems
    if code is not None:
        assert code in {problem.code for problem in matching}, matching


def test_a_missing_and_an_unlisted_file_are_reported(tmp_path: Path) -> None:
    directory = copy_shipped(tmp_path / "taxonomy")
    (directory / "crosswalks" / "cset_v1_autonomy.toml").rename(
        directory / "crosswalks" / "cset_autonomy_old.toml"
    )
    with pytest.raises(TaxonomyInvalid) as raised:
        read_directory(directory)
    reasons = {(problem.file, problem.reason) for problem in raised.value.problems}
    assert ("crosswalks/cset_v1_autonomy.toml", "file is missing") in reasons
    assert ("crosswalks/cset_autonomy_old.toml", "not listed in manifest.toml") in reasons


def test_check_command_prints_every_problem_and_exits_1(tmp_path: Path) -> None:
    directory = copy_shipped(tmp_path / "taxonomy")
    edit(directory / "dimensions/harm_type.toml", 'code = "reputational"', 'code = "psychological"')
    edit(directory / "dimensions/harm_domain.toml", 'parent = "1"', 'parent = "99"')
    result = CliRunner().invoke(main, ["taxonomy", "check", str(directory)])
    assert result.exit_code == 1
    assert "dimensions/harm_type.toml  psychological  code appears 2 times" in result.output
    assert "dimensions/harm_domain.toml  1.1  parent '99' does not exist" in result.output
