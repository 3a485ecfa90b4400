"""`incidents brief`: make a period's risk brief, store it, and write its files."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
import msgspec

from incidents.cli.shared import (
    cli_actor,
    fail,
    load_settings,
    run_with_database,
    taxonomy_registry,
)
from incidents.db import Database

if TYPE_CHECKING:
    from incidents.briefs.schemas import Brief
    from incidents.errors import IncidentsError


@click.command()
@click.option("--period", required=True, help="2026-Q3, 2026-07 or 2026.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    metavar="FILTER=VALUE",
    help="Narrow the brief with a coarse registry filter, e.g. --scope region=Africa "
    "(repeatable, one value each).",
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for brief.html, brief.pdf, data.json and data.zip (CSV and Parquet).",
)
@click.option("--provisional", is_flag=True, help="Allow the current, unfinished period.")
@click.option(
    "--lang",
    "language",
    type=click.Choice(["ar", "zh", "en", "fr", "ru", "es"]),
    default="en",
    show_default=True,
    help="The language of brief.html and brief.pdf.",
)
@click.option("--issuing-body", help="Who issues the brief (needed to approve it).")
@click.option(
    "--issued-on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Date of issue (default: today, when --issuing-body is given).",
)
@click.option(
    "--summary",
    "summary_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A Markdown file: the executive summary.",
)
@click.option(
    "--publish", is_flag=True, help="Approve and publish it at once (needs --issuing-body)."
)
def brief(
    period: str,
    scopes: tuple[str, ...],
    out: Path,
    provisional: bool,
    language: str,
    issuing_body: str | None,
    issued_on: datetime.datetime | None,
    summary_file: Path | None,
    publish: bool,
) -> None:
    """Make a risk brief for a period; it is also stored in the registry (as a draft, or
    published with --publish)."""
    from incidents.briefs import documents, making, reading, workflow
    from incidents.briefs.schemas import BriefEdit, BriefRequest, check_period, scope_filters
    from incidents.errors import ValidationFailed
    from incidents.reports.filters import compile_filters
    from incidents.trends.protection import Method

    scope: dict[str, str] = {}
    for item in scopes:
        name, separator, value = item.partition("=")
        if not separator or not name.strip() or not value.strip():
            fail(f"--scope {item!r}: use FILTER=VALUE")
        if name.strip() in scope:
            fail(f"--scope {name.strip()}: one value only (a brief compares one category)")
        scope[name.strip()] = value.strip()
    if publish and not issuing_body:
        fail("--publish needs --issuing-body: a published brief names who issues it")
    try:
        request = msgspec.convert(
            {"period": period, "scope": scope, "provisional": provisional, "language": language},
            BriefRequest,
        )
        check_period(request.period, request.provisional)
        filters = scope_filters(request.scope)
    except msgspec.ValidationError:
        fail(f"--period {period!r}: use a month (2026-07), a quarter (2026-Q3) or a year (2026)")
    except ValidationFailed as error:
        fail(_problems(error))
    summary = summary_file.read_text(encoding="utf-8") if summary_file else None
    edit = BriefEdit(
        executive_summary=summary if summary is not None else msgspec.UNSET,
        issuing_body=issuing_body if issuing_body else msgspec.UNSET,
        issued_on=(issued_on.date() if issued_on else datetime.date.today())
        if issuing_body
        else msgspec.UNSET,
    )
    editing = any(getattr(edit, name) is not msgspec.UNSET for name in BriefEdit.__struct_fields__)
    settings = load_settings()
    method = Method(k=settings.suppression_k, noise=settings.disclosure_noise)

    def step(message: str) -> None:
        click.echo(f"... {message}", err=True)

    async def work(database: Database) -> tuple[Brief, dict[str, bytes]]:
        registry = await taxonomy_registry(database)
        try:
            compile_filters(filters, registry)
        except ValidationFailed as error:
            fail(_problems(error, prefix="scope."))
        async with database.transaction() as connection:
            queued = await making.queue(connection, cli_actor(), request)
        try:
            from incidents.trends.columnar import copy_for

            await making.run(
                database, registry, queued.id, method, step, copy_for(settings, database)
            )
        except Exception as error:
            detail = getattr(error, "detail", None) or f"{type(error).__name__}: {error}"
            fail(f"brief {queued.id} failed: {detail}")
        async with database.transaction() as connection:
            if editing:
                await workflow.edit(connection, cli_actor(), queued.id, edit)
            made = await reading.get(connection, queued.id, secretariat=True)
            if publish:
                if made.audit is None or not made.audit.passed:
                    fail(f"brief {queued.id}: its disclosure audit failed; it cannot be published")
                await workflow.approve(connection, cli_actor(), queued.id)
                made = await workflow.publish(connection, cli_actor(), queued.id)
            files = {
                f"{'brief' if variant in {'html', 'pdf'} else 'data'}.{variant}": (
                    await reading.content(connection, queued.id, variant, secretariat=True)
                )
                for variant in documents.VARIANTS
            }
            return made, files

    made, files = run_with_database(settings, work)
    out.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (out / name).write_bytes(content)
    audit = made.audit
    outcome = f"{made.status}" + (f", version {made.version}" if made.version else "")
    if audit is not None:
        outcome += (
            f"; disclosure audit {'passed' if audit.passed else 'FAILED'}: "
            f"{audit.protected_cells} protected cells, {audit.withheld} figures withheld"
        )
    click.echo(f"brief {made.id} ({outcome}): " + ", ".join(str(out / n) for n in files))


def _problems(error: IncidentsError, prefix: str = "") -> str:
    """A 422's field errors as one line for the terminal, named as the options are."""
    found = []
    for item in error.errors or []:
        field = f"{prefix}{item.field}"
        option = f"--scope {field.removeprefix('scope.')}" if field.startswith("scope.") else field
        found.append(f"{option.replace('period', '--period')}: {item.message}")
    return "; ".join(found) or str(error.detail)
