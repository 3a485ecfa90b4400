"""`incidents db`: move the schema between migrations and say where it stands."""

from __future__ import annotations

import click

from incidents.cli.shared import load_settings, run_with_database
from incidents.db import Database


@click.group()
def db() -> None:
    """Database schema migrations."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    from incidents.migrate import current_revision, upgrade

    async def work(database: Database) -> str | None:
        await upgrade(database.engine, revision)
        async with database.connect() as connection:
            return await current_revision(connection)

    click.echo(f"at {run_with_database(load_settings(), work, migrate=False)}")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION ("base" removes every table)."""
    from incidents.migrate import current_revision, downgrade

    async def work(database: Database) -> str | None:
        await downgrade(database.engine, revision)
        async with database.connect() as connection:
            return await current_revision(connection)

    click.echo(f"at {run_with_database(load_settings(), work, migrate=False) or 'base'}")


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
