"""`incidents generate`: a realistic synthetic registry, the same one for the same seed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from incidents.cli.progress import Progress
from incidents.cli.shared import load_settings, run_with_database, taxonomy_registry
from incidents.db import Database
from incidents.logs import configure_logging

if TYPE_CHECKING:
    from incidents.synthetic.generate import Summary


@click.command()
@click.option(
    "--reports",
    "count",
    type=click.IntRange(100, 10_000_000),
    required=True,
    help="How many reports to generate (100 to 10,000,000).",
)
@click.option(
    "--seed", type=int, default=1, show_default=True, help="The same seed gives the same registry."
)
@click.option(
    "--years",
    type=click.IntRange(1, 30),
    default=5,
    show_default=True,
    help="How far back the reports go from today.",
)
def generate(count: int, seed: int, years: int) -> None:
    """Fill the registry with a realistic synthetic registry (deterministic from the seed)."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    from incidents.bootstrap import load_shipped_taxonomy
    from incidents.synthetic.generate import generate as make

    async def work(database: Database) -> Summary:
        await load_shipped_taxonomy(database, settings)
        registry = await taxonomy_registry(database)
        with Progress() as bars:
            return await make(
                database,
                registry.current,
                reports_wanted=count,
                seed=seed,
                years=years,
                progress=lambda done, total: bars("generating", done, total),
            )

    summary = run_with_database(settings, work)
    click.echo(
        f"generated {summary.reports:,} reports in {summary.incidents:,} incidents from "
        f"{summary.organizations} regulators in {summary.seconds:.1f} s"
        f"{' (indexes rebuilt)' if summary.indexes_rebuilt else ''}"
    )
