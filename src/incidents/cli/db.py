"""`incidents db`: move the schema between migrations and say where it stands."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import click
from sqlalchemy.ext.asyncio import AsyncEngine

from incidents.cli.shared import load_settings, run_with_database
from incidents.db import Database


@click.group()
def db() -> None:
    """Database schema migrations."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    from incidents.migrate import upgrade

    click.echo(f"at {_migrate(upgrade, revision)}")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION ("base" removes every table)."""
    from incidents.migrate import downgrade

    click.echo(f"at {_migrate(downgrade, revision) or 'base'}")


@db.command("current")
def db_current() -> None:
    """Show the database's migration and the newest one this code has."""
    from incidents.migrate import current_revision, head_revision

    async def work(database: Database) -> str | None:
        async with database.connect() as connection:
            return await current_revision(connection)

    current = run_with_database(load_settings(), work, migrate=False)
    head = head_revision()
    note = "" if current == head else "  (upgrade needed)"
    click.echo(f"current: {current or 'base'}  head: {head}{note}")


def _migrate(move: Callable[[AsyncEngine, str], Awaitable[None]], revision: str) -> str | None:
    """Move the schema to ``revision``; the revision it is then at (None: base)."""
    from incidents.migrate import current_revision

    async def work(database: Database) -> str | None:
        await move(database.engine, revision)
        async with database.connect() as connection:
            return await current_revision(connection)

    return run_with_database(load_settings(), work, migrate=False)
