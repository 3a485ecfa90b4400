"""The `incidents` command against a real database (INCIDENTS_DATABASE_URL)."""

from __future__ import annotations

import asyncio
import io
import logging
import re
import shlex
import socket
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from incidents.cli import main, shared
from incidents.cli.progress import Progress
from incidents.config import Settings, settings_from_env
from incidents.db import create_engine
from incidents.taxonomy.service import TaxonomyRegistry
from tests.datasets import AIID_VARIABLE, aiid_snapshot

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


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


@pytest.fixture
def root_logging() -> Iterator[None]:
    """Commands that configure logging (serve, generate) leave the test's logging as it was."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


@pytest.fixture
def port_in_use() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield int(taken.getsockname()[1])


def _reads_and_registries(
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[list[Settings], list[TaxonomyRegistry]]:
    """Every reading of the settings and every taxonomy registry built, as they happen."""
    reads: list[Settings] = []
    registries: list[TaxonomyRegistry] = []

    def read(
        environ: Mapping[str, str] | None = None, overrides: Mapping[str, object] | None = None
    ) -> Settings:
        reads.append(settings_from_env(environ, overrides))
        return reads[-1]

    built = TaxonomyRegistry.__init__

    def build(registry: TaxonomyRegistry, check_every: float = 10.0) -> None:
        registries.append(registry)
        built(registry, check_every)

    monkeypatch.setattr(shared, "settings_from_env", read)
    monkeypatch.setattr(TaxonomyRegistry, "__init__", build)
    return reads, registries


KENYA = ["--name", "Kenya Data Commission", "--kind", "regulator", "--jurisdiction", "KE"]


@pytest.mark.usefixtures("root_logging")
@pytest.mark.parametrize(
    ("command", "exit_code", "registries"),
    [
        ("db current", 0, 0),
        ("db upgrade", 0, 0),
        ("members add-org --name Once --kind research", 0, 0),
        ("members list-orgs", 0, 0),
        ("members list-keys", 0, 0),
        ("taxonomy check", 0, 0),
        ("taxonomy load", 0, 0),
        ("taxonomy diff 1 1", 0, 0),
        ("import csv {csv} --mapping {mapping}", 0, 1),
        ("generate --reports 100 --years 1", 0, 1),
        # Refused once the registry is read (an unknown region), before any work is stored.
        ("brief --period 2025 --scope region=Atlantis --out {tmp}/brief", 1, 1),
    ],
)
def test_a_command_reads_its_settings_once_and_builds_at_most_one_taxonomy_registry(
    run: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    command: str,
    exit_code: int,
    registries: int,
) -> None:
    if command.startswith("import"):
        assert run.invoke(main, ["members", "add-org", *KENYA]).exit_code == 0
    csv, mapping = EXAMPLES / "national-register.csv", EXAMPLES / "national-register.toml"
    arguments = shlex.split(command.format(csv=csv, mapping=mapping, tmp=tmp_path))
    reads, built = _reads_and_registries(monkeypatch)
    result = run.invoke(main, arguments)
    assert result.exit_code == exit_code, result.output
    assert len(reads) == 1, f"`{command}` read its settings {len(reads)} times"
    assert len(built) == registries


@pytest.mark.usefixtures("root_logging")
def test_audit_verify_and_serve_read_their_settings_once(
    run: CliRunner, monkeypatch: pytest.MonkeyPatch, port_in_use: int
) -> None:
    reads, _ = _reads_and_registries(monkeypatch)
    assert run.invoke(main, ["audit", "verify", "--no-checkpoint"]).exit_code == 0
    assert len(reads) == 1
    busy = run.invoke(main, ["serve", "--port", str(port_in_use)])
    assert busy.exit_code == 1
    assert f"error: port {port_in_use} on 127.0.0.1 is in use" in busy.output
    assert len(reads) == 2
    assert reads[-1].port == port_in_use


def test_progress_on_a_terminal_is_one_bar_per_phase_redrawn_in_place(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    with Progress() as progress:
        for done in (0, 2_500, 5_000):
            progress("verifying reports", done, 5_000)
        progress("verifying keys   ", 1, 3)  # ends short: the next line starts anyway
    drawn = terminal.getvalue()
    frames = [frame.strip() for frame in re.split(r"\r(?:\x1b\[\?25l)?", drawn) if frame.strip()]
    assert frames[0].startswith("verifying reports [" + "." * 30 + "] 0/5,000")
    assert frames[1].startswith("verifying reports [" + "#" * 15 + "." * 15 + "] 2,500/5,000")
    assert frames[2].startswith("verifying reports [" + "#" * 30 + "] 5,000/5,000")
    assert frames[-1].startswith("verifying keys    [" + "#" * 10 + "." * 20 + "] 1/3")
    assert drawn.count("\n") == 2  # each phase ends its own line


def test_progress_in_a_log_is_one_line_per_phase(capsys: pytest.CaptureFixture[str]) -> None:
    with Progress() as progress:
        for done in range(0, 101, 10):
            progress("generating", done, 100)
        progress("verifying events ", 0, 0)
    assert capsys.readouterr().err.splitlines() == [
        "generating [" + "#" * 30 + "] 100/100",
        "verifying events  [" + "." * 30 + "] 0/0",
    ]
