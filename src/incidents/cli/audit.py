"""`incidents audit verify`: the hash chain walked and every live table held to the log."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from incidents.cli.progress import Progress
from incidents.cli.shared import cli_actor, load_settings, run_with_database
from incidents.db import Database

if TYPE_CHECKING:
    from incidents.oversight.verify import VerifyResult


@click.group()
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command("verify")
@click.option(
    "--expect-head",
    default=None,
    help="A head hash recorded earlier; it must still be in the chain.",
)
@click.option(
    "--incremental",
    is_flag=True,
    help="Check only what changed since the latest checkpoint, plus every deletion.",
)
@click.option(
    "--no-checkpoint",
    is_flag=True,
    help="Do not record this run as a checkpoint for the next incremental one.",
)
def audit_verify(expect_head: str | None, incremental: bool, no_checkpoint: bool) -> None:
    """Walk the hash chain and compare every live table with the log's replay.

    Exit 1 and name each event edited or deleted and each row that differs from what the log
    says (a report's status, sharing level, incident, content, revisions; merges;
    organizations, keys, taxonomy versions). A clean run is recorded as a checkpoint.
    """
    from incidents.oversight.verify import verify_database

    async def work(database: Database) -> VerifyResult:
        with Progress() as bars:
            return await verify_database(
                database,
                expected_head=expect_head,
                incremental=incremental,
                record_as=None if no_checkpoint else cli_actor().label,
                progress=lambda phase, done, total: bars(f"verifying {phase:<7}", done, total),
            )

    result = run_with_database(load_settings(), work)
    for problem in result.problems:
        click.echo(f"event {problem.seq}: {problem.reason}")
    for difference in result.differences:
        click.echo(difference.reason)
    if result.differences_found > len(result.differences):
        click.echo(
            f"... and {result.differences_found - len(result.differences):,} more differences"
        )
    for line in result.not_checked:
        click.echo(f"not checked: {line}")
    for line in result.notes:
        click.echo(f"note: {line}")
    since = f" since checkpoint {result.since.id}" if result.since else ""
    counts = ", ".join(
        f"{getattr(result, f'{name}_checked'):,} {label}"
        for name, label in (
            ("events", "events"),
            ("reports", "reports"),
            ("revisions", "revisions"),
            ("incidents", "incidents"),
            ("organizations", "organizations"),
            ("api_keys", "keys"),
            ("taxonomy_versions", "taxonomy versions"),
        )
    )
    click.echo(
        f"{result.mode}{since}: {counts} checked in {result.seconds:.1f} s; "
        f"head {result.head_seq} {result.head_hash}"
    )
    if not result.ok:
        sys.exit(1)
    recorded = f" (checkpoint {result.checkpoint})" if result.checkpoint else ""
    click.echo(f"chain intact and the tables match the log{recorded}")
