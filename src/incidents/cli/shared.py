"""What every command shares: its settings, the database it runs on, errors as one line."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import sys
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click
import msgspec

from incidents.audit.service import Actor
from incidents.config import Settings, SettingsError, settings_from_env
from incidents.db import Database, DatabaseUnavailable, check_server, create_engine
from incidents.embedded import EmbeddedCluster, EmbeddedError
from incidents.errors import IncidentsError
from incidents.validation import plain_message

if TYPE_CHECKING:
    from incidents.taxonomy.service import TaxonomyRegistry

T = TypeVar("T")


def fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def load_settings(**overrides: object) -> Settings:
    """The command's settings, from INCIDENTS_* and its options: each command reads them once
    and passes them on (a bad value is one line naming the variable, through ``Commands``)."""
    return settings_from_env(overrides=overrides)


def cli_actor() -> Actor:
    return Actor(label=f"cli:{getpass.getuser()}")


def print_json(value: Any) -> None:
    click.echo(msgspec.json.format(msgspec.json.encode(value), indent=2).decode())


@contextlib.contextmanager
def server_url(settings: Settings) -> Iterator[str]:
    """The database URL to use: the configured server, or an embedded cluster started here."""
    if settings.database_url is not None:
        asyncio.run(check_server(settings.database_url))
        yield settings.database_url
        return
    cluster = EmbeddedCluster(settings.data_dir)
    try:
        url = cluster.start()
    except EmbeddedError as error:
        fail(f"embedded PostgreSQL in {settings.data_dir}: {error}")
    try:
        yield url
    finally:
        cluster.stop()


def run_with_database(
    settings: Settings, work: Callable[[Database], Awaitable[T]], *, migrate: bool = True
) -> T:
    """Start or reach the server, bring the schema to head, run ``work``, and clean up."""
    with server_url(settings) as url:

        async def main() -> T:
            from incidents.migrate import upgrade

            database = Database(create_engine(url, pool_size=2))
            try:
                if migrate:
                    await upgrade(database.engine)
                return await work(database)
            finally:
                await database.dispose()

        return asyncio.run(main())


async def taxonomy_registry(database: Database) -> TaxonomyRegistry:
    """Every taxonomy version the database holds, read once for the command."""
    from incidents.taxonomy.service import TaxonomyRegistry

    registry = TaxonomyRegistry()
    async with database.connect() as connection:
        await registry.refresh(connection, force=True)
    return registry


def _user_error(error: Exception) -> str | None:
    """The one line a person reads for an error their input caused (None: not such an error)."""
    if isinstance(error, IncidentsError):
        detail = "; ".join(f"{e.field}: {e.message}" for e in error.errors or [])
        return f"{error.detail}{' (' + detail + ')' if detail else ''}"
    if isinstance(error, msgspec.ValidationError):
        reason, _, where = str(error).partition(" - at `$.")
        field = where.rstrip("`")
        message = plain_message(reason)
        return f"{field}: {message}" if field else message
    if isinstance(error, SettingsError | DatabaseUnavailable | EmbeddedError):
        return str(error)
    # Only a command that ran migrations can meet Alembic's errors; importing Alembic here
    # otherwise would log its set-up under `serve`'s logging, around the one line.
    alembic = sys.modules.get("alembic.util")
    if alembic is not None and isinstance(error, alembic.CommandError):
        return str(error)
    return None


class Commands(click.Group):
    """Every command: an error the user's input caused is one line on stderr and exit 1, never
    a traceback (bugs still show theirs)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as error:
            message = _user_error(error)
            if message is None:
                raise
            fail(message)
