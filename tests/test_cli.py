"""The `incidents` command against a real database (INCIDENTS_DATABASE_URL)."""

from __future__ import annotations

import asyncio
import re
import shlex
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from incidents.cli import main
from incidents.db import create_engine
from tests.datasets import AIID_VARIABLE, aiid_snapshot

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def run(committed_database_url: str) -> CliRunner:
    return CliRunner(env={"INCIDENTS_DATABASE_URL": committed_database_url})


def test_help_is_clear_on_every_command(run: CliRunner) -> None:
    for command in (
        [],
        ["serve"],
        ["db"],
        ["db", "upgrade"],
        ["members"],
        ["members", "add-org"],
        ["audit", "verify"],
    ):
        result = run.invoke(main, [*command, "--help"])
        assert result.exit_code == 0, result.output
        assert "Usage:" in result.output


def test_db_commands_report_and_move_the_migration(run: CliRunner) -> None:
    current = run.invoke(main, ["db", "current"])
    assert current.exit_code == 0
    assert "upgrade needed" not in current.output
    down = run.invoke(main, ["db", "downgrade", "base"])
    assert down.exit_code == 0, down.output
    assert "at base" in down.output
    assert "upgrade needed" in run.invoke(main, ["db", "current"]).output
    up = run.invoke(main, ["db", "upgrade"])
    assert up.exit_code == 0, up.output


def test_members_lifecycle_from_the_command_line(run: CliRunner) -> None:
    added = run.invoke(
        main,
        [
            "members",
            "add-org",
            "--name",
            "Kenya ODPC",
            "--kind",
            "regulator",
            "--jurisdiction",
            "ke",
        ],
    )
    assert added.exit_code == 0, added.output
    assert '"jurisdiction": "KE"' in added.output

    listed = run.invoke(main, ["members", "list-orgs"])
    assert "Kenya ODPC" in listed.output

    issued = run.invoke(main, ["members", "issue-key", "Kenya ODPC", "--label", "uploads"])
    assert issued.exit_code == 0, issued.output
    prefix = re.search(r"prefix:\s+(\S+)", issued.output)
    assert prefix is not None
    key = re.search(r"key:\s+(inc_\S+)", issued.output)
    assert key is not None

    keys = run.invoke(main, ["members", "list-keys", "Kenya ODPC"])
    assert prefix.group(1) in keys.output
    assert key.group(1) not in keys.output
    assert "active" in keys.output

    revoked = run.invoke(main, ["members", "revoke-key", prefix.group(1)])
    assert revoked.exit_code == 0, revoked.output
    assert "revoked" in run.invoke(main, ["members", "list-keys", "Kenya ODPC"]).output

    verified = run.invoke(main, ["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "chain intact" in verified.output


def test_bad_input_is_one_line_and_exit_1(run: CliRunner) -> None:
    missing = run.invoke(
        main, ["members", "add-org", "--name", "No Country", "--kind", "regulator"]
    )
    assert missing.exit_code == 1
    assert "jurisdiction: Required for a regulator" in missing.output
    unknown = run.invoke(main, ["members", "issue-key", "Nobody", "--label", "x"])
    assert unknown.exit_code == 1
    assert "no organization" in unknown.output


def test_a_bad_setting_names_the_variable(committed_database_url: str) -> None:
    runner = CliRunner(
        env={"INCIDENTS_DATABASE_URL": committed_database_url, "INCIDENTS_PORT": "x"}
    )
    result = runner.invoke(main, ["serve"])
    assert result.exit_code == 1
    assert "INCIDENTS_PORT" in result.output


async def _briefs_stored(url: str) -> int:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            return int((await connection.execute(text("SELECT count(*) FROM briefs"))).scalar_one())
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--scope", "colour=red"], "error: --scope colour: 'colour' is not a scope a brief"),
        (["--scope", "region=Atlantis"], "'Atlantis' is not a UN M49 region"),
        (["--scope", "colour"], "error: --scope 'colour': use FILTER=VALUE"),
        (["--period", "2026-Q9"], "error: --period '2026-Q9': use a month (2026-07), a quarter"),
    ],
)
async def test_a_bad_brief_request_is_one_line_and_stores_nothing(
    run: CliRunner,
    committed_database_url: str,
    tmp_path: Path,
    arguments: list[str],
    message: str,
) -> None:
    command = ["brief", "--period", "2026-Q1", "--out", str(tmp_path / "brief"), *arguments]
    result = await asyncio.to_thread(run.invoke, main, command)
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert await _briefs_stored(committed_database_url) == 0
    assert not (tmp_path / "brief").exists()


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (
            ["members", "add-org", "--name", "", "--kind", "research"],
            "error: --name: Must not be empty",
        ),
        (
            ["members", "add-org", "--name", "X", "--kind", "regulator", "--jurisdiction", "KEN"],
            "error: --jurisdiction: Expected an ISO 3166-1 alpha-2 country code in capitals",
        ),
        (["db", "downgrade", "nonsense"], "error: Can't locate revision identified by 'nonsense'"),
        (["taxonomy", "diff", "99", "1"], "error: No taxonomy version 99"),
        (["members", "revoke-key", "inc_nothing"], "error: No API key inc_nothing"),
    ],
)
def test_user_errors_are_one_line_without_a_traceback(
    run: CliRunner, command: list[str], message: str
) -> None:
    result = run.invoke(main, command)
    assert result.exit_code == 1, result.output
    assert result.output.startswith(message), result.output
    assert "Traceback" not in result.output


def test_the_readme_members_example_makes_the_organization_the_import_example_needs(
    run: CliRunner,
) -> None:
    readme = (ROOT / "README.md").read_text()
    add_org = next(
        line.split("#")[0]
        for line in readme.splitlines()
        if line.startswith("uv run incidents members add-org")
    )
    arguments = shlex.split(add_org)[3:]
    assert run.invoke(main, arguments).exit_code == 0
    imported = run.invoke(
        main,
        [
            "import",
            "csv",
            str(ROOT / "examples" / "national-register.csv"),
            "--mapping",
            str(ROOT / "examples" / "national-register.toml"),
        ],
    )
    assert imported.exit_code == 0, imported.output
    assert "created" in imported.output


def test_the_license_file_is_the_one_pyproject_names() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"]
    assert declared == "Apache-2.0"
    text = (ROOT / "LICENSE").read_text()
    assert text.split()[:4] == ["Apache", "License", "Version", "2.0,"]
    assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in text


def test_the_aiid_snapshot_is_found_through_its_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(AIID_VARIABLE, str(tmp_path))
    with pytest.raises(pytest.fail.Exception, match=AIID_VARIABLE):
        aiid_snapshot()  # named but empty: a failure, never a silent skip
    for name in ("incidents.csv", "classifications_MIT.csv"):
        (tmp_path / name).write_text("id\n")
    assert aiid_snapshot() == tmp_path
    monkeypatch.delenv(AIID_VARIABLE)
    monkeypatch.setattr("tests.datasets.DEFAULT_AIID_SNAPSHOT", tmp_path / "elsewhere")
    with pytest.raises(pytest.skip.Exception, match=AIID_VARIABLE):
        aiid_snapshot()
