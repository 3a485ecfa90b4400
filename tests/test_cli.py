"""The `incidents` command against a real database (INCIDENTS_DATABASE_URL)."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from incidents.cli import main


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
