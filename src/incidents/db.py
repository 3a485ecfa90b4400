"""Engine and transaction handling, and how the service finds its PostgreSQL server."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
import msgspec
from sqlalchemy import MetaData, RowMapping, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

MINIMUM_SERVER_VERSION = 15

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class DatabaseUnavailable(RuntimeError):
    """The configured server cannot be used; the message is one line a person can act on."""


def sqlalchemy_url(url: str) -> str:
    """Any postgres URL -> the asyncpg dialect URL SQLAlchemy needs."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+")[0]
    if scheme not in {"postgresql", "postgres"}:
        raise DatabaseUnavailable(
            f"INCIDENTS_DATABASE_URL must be a postgresql:// URL, not {scheme}://"
        )
    return urlunsplit(parts._replace(scheme="postgresql+asyncpg"))


def libpq_url(url: str) -> str:
    """Any postgres URL -> a plain libpq URL (for ADBC and command-line tools)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="postgresql"))


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def describe(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    user = parts.username
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "password"])
    return urlunsplit(parts._replace(netloc=f"{user}@{netloc}" if user else netloc, query=query))


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(
        sqlalchemy_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=False,
        pool_recycle=3600,
        connect_args={
            "server_settings": {
                "application_name": "incidents",
                "jit": "off",
                # The registry lives on SSD or in memory: with the default (4, spinning disks)
                # the planner walks the whole number index rather than a status index.
                "random_page_cost": "1.1",
            }
        },
        json_serializer=_json_text,
        json_deserializer=msgspec.json.decode,
    )


def _json_text(value: Any) -> str:
    return msgspec.json.encode(value).decode()


class Database:
    """Hands out transactions; a test swaps in one that nests inside a rolled-back transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @property
    def url(self) -> str:
        """The server's libpq URL (for ADBC and tools), password included."""
        return libpq_url(self.engine.url.render_as_string(hide_password=False))

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.begin() as connection:
            yield connection

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        """A connection outside any request transaction (streamed exports, health checks)."""
        async with self.engine.connect() as connection:
            yield connection

    async def dispose(self) -> None:
        await self.engine.dispose()


async def check_server(url: str) -> int:
    """Connect once; return the server's major version or raise a one-line explanation."""
    try:
        connection = await asyncpg.connect(libpq_url(url), timeout=10)
    except (OSError, socket.gaierror) as error:
        raise DatabaseUnavailable(f"cannot reach PostgreSQL at {describe(url)}: {error}") from None
    except asyncpg.InvalidPasswordError:
        raise DatabaseUnavailable(
            f"PostgreSQL at {describe(url)} refused the password for this user"
        ) from None
    except asyncpg.InvalidAuthorizationSpecificationError as error:
        raise DatabaseUnavailable(
            f"PostgreSQL at {describe(url)} refused the login: {error}"
        ) from None
    except asyncpg.InvalidCatalogNameError:
        raise DatabaseUnavailable(f"the database in {describe(url)} does not exist") from None
    except (asyncpg.PostgresError, TimeoutError) as error:
        raise DatabaseUnavailable(f"PostgreSQL at {describe(url)}: {error}") from None
    try:
        version: int = await connection.fetchval(
            "SELECT current_setting('server_version_num')::int"
        )
    finally:
        await connection.close()
    major = version // 10000
    if major < MINIMUM_SERVER_VERSION:
        raise DatabaseUnavailable(
            f"PostgreSQL {major} at {describe(url)} is too old; version "
            f"{MINIMUM_SERVER_VERSION} or newer is needed"
        )
    return major


def as_dict(row: RowMapping) -> dict[str, Any]:
    """A result row as a plain dict (SQLAlchemy's keys are str subclasses msgspec refuses)."""
    return {str(key): value for key, value in row.items()}


async def ping(connection: AsyncConnection) -> Any:
    return (await connection.execute(text("SELECT 1"))).scalar_one()


async def copy_rows(
    connection: AsyncConnection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]] | AsyncIterable[Sequence[Any]],
) -> None:
    """Bulk insert with PostgreSQL's binary COPY, inside the connection's current transaction.

    JSON columns take JSON text; everything else takes the Python value asyncpg expects. Rows
    from an async iterable are sent a buffer (512 kB) at a time as they are produced.
    """
    if isinstance(rows, Sequence) and not rows:
        return
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    await driver.copy_records_to_table(table, records=rows, columns=list(columns))
