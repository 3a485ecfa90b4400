"""Engine and transaction handling, and how the service finds its PostgreSQL server."""

from __future__ import annotations

import contextlib
import socket
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from typing import Any, NamedTuple
from urllib.parse import quote, urlencode

import asyncpg
import msgspec
from sqlalchemy import (
    URL,
    BigInteger,
    Column,
    MetaData,
    RowMapping,
    String,
    Table,
    make_url,
    text,
)
from sqlalchemy.exc import ArgumentError
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

# Counters the database moves (by trigger) whenever a change may end what a process holds in
# memory: each worker compares them with the ones its caches were filled at (see
# `current_generation`), so a change committed through one worker or host holds on every other
# at its next request.
cache_generations = Table(
    "cache_generations",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("generation", BigInteger, nullable=False, server_default="0"),
)


class DatabaseUnavailable(RuntimeError):
    """The configured server cannot be used; the message is one line a person can act on."""


def parse_url(url: str | URL) -> URL:
    """A PostgreSQL URL, parsed; ValueError naming what is wrong with any other."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ValueError("not a URL; write postgresql://user:password@host:port/database") from None
    scheme = parsed.drivername.split("+")[0]
    if scheme not in {"postgresql", "postgres"}:
        raise ValueError(
            "the scheme must be postgresql:// (this service runs on PostgreSQL only), "
            f"not {scheme}://"
        )
    return parsed


def sqlalchemy_url(url: str | URL) -> URL:
    """Any postgres URL -> the asyncpg dialect URL SQLAlchemy needs."""
    return parse_url(url).set(drivername="postgresql+asyncpg")


def libpq_url(url: str | URL) -> str:
    """Any postgres URL -> a plain libpq URL, password included (for ADBC, asyncpg, tools)."""
    return _as_text(parse_url(url).set(drivername="postgresql"))


def with_database(url: str, database: str) -> str:
    return _as_text(parse_url(url).set(database=database))


def database_name(url: str) -> str:
    return parse_url(url).database or ""


def describe(url: str | URL) -> str:
    """The URL without its password, for messages and logs."""
    parsed = parse_url(url)
    query = {key: value for key, value in parsed.query.items() if key != "password"}
    # set() skips None: _replace is SQLAlchemy's documented way to remove a part.
    return _as_text(parsed._replace(password=None).set(query=query))


def _as_text(url: URL) -> str:
    # SQLAlchemy writes a space in a query value as "+", which libpq reads as a plus: the
    # embedded cluster's socket directory (under "Application Support" on macOS) would be lost.
    written = url.set(query={}).render_as_string(hide_password=False)
    if not url.query:
        return written
    query = urlencode(sorted(url.query.items()), doseq=True, safe="/", quote_via=quote)
    return f"{written}?{query}"


def create_engine(url: str, *, pool_size: int = 10, pool_timeout: float = 30.0) -> AsyncEngine:
    """``pool_timeout``: how long a request waits for a free connection before it is answered
    503 (busy) rather than queued further."""
    return create_async_engine(
        sqlalchemy_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=pool_timeout,
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


# On a standby: how far behind the primary its replay is, in seconds (0 when it has replayed
# all it received; the age of the last replayed commit otherwise, an upper bound on what is
# missing; unbounded when it is not streaming from the primary); NULL on a server that is not
# a standby.
_REPLAY_LAG = (
    "SELECT CASE WHEN NOT pg_is_in_recovery() THEN NULL "
    "WHEN NOT EXISTS (SELECT FROM pg_stat_wal_receiver WHERE status = 'streaming') "
    "THEN 'Infinity'::float8 "
    "WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0.0 "
    "ELSE coalesce(extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()), "
    "'Infinity')::float8 END"
)


class Database:
    """Hands out transactions; a test swaps in one that nests inside a rolled-back transaction.

    With a streaming replica (``replica``), `reading` serves reads there while its replay is no
    more than ``max_lag`` seconds behind the primary, and from the primary otherwise, or for an
    organization that wrote through this process within the last ``max_lag`` seconds (it reads
    its own writes). Writes always go to the primary."""

    def __init__(
        self, engine: AsyncEngine, *, replica: AsyncEngine | None = None, max_lag: float = 2.0
    ) -> None:
        self.engine = engine
        self.replica = replica
        self.max_lag = max_lag
        self._wrote: dict[uuid.UUID, float] = {}

    def wrote(self, organization_id: uuid.UUID) -> None:
        """``organization_id`` committed a change just now: its reads stay on the primary until
        any replica used has replayed it (``max_lag`` seconds at most)."""
        now = time.monotonic()
        if len(self._wrote) >= 10_000:
            self._wrote = {o: t for o, t in self._wrote.items() if now - t < self.max_lag}
        self._wrote[organization_id] = now

    def _recent_writer(self, organization_id: uuid.UUID | None) -> bool:
        wrote = self._wrote.get(organization_id) if organization_id else None
        return wrote is not None and time.monotonic() - wrote < self.max_lag

    @contextlib.asynccontextmanager
    async def reading(
        self, organization_id: uuid.UUID | None = None
    ) -> AsyncIterator[AsyncConnection]:
        """A transaction to read in: on the replica when it is fresh enough for this reader (see
        the class), on the primary otherwise (or when the replica cannot be reached)."""
        if self.replica is not None and not self._recent_writer(organization_id):
            replica = await self._fresh_replica()
            if replica is not None:
                try:
                    yield replica
                    await replica.commit()
                finally:
                    await replica.close()
                return
        async with self.transaction() as connection:
            yield connection

    async def _fresh_replica(self) -> AsyncConnection | None:
        assert self.replica is not None
        try:
            connection = await self.replica.connect()
        except Exception as error:
            if _unreachable(error):
                return None
            raise
        try:
            lag = (await connection.exec_driver_sql(_REPLAY_LAG)).scalar_one()
        except BaseException:
            await connection.close()
            raise
        if lag is None or lag > self.max_lag:
            # Not a standby (misconfigured: never trusted with reads), or too far behind.
            await connection.close()
            return None
        return connection

    async def read_url(self, organization_id: uuid.UUID | None = None) -> str:
        """The libpq URL bulk extracts (ADBC) read from: the replica's when `reading` would
        choose it, the primary's otherwise."""
        if self.replica is not None and not self._recent_writer(organization_id):
            replica = await self._fresh_replica()
            if replica is not None:
                await replica.close()
                return libpq_url(self.replica.url)
        return self.url

    @property
    def url(self) -> str:
        """The server's libpq URL (for ADBC and tools), password included."""
        return libpq_url(self.engine.url)

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
        if self.replica is not None:
            await self.replica.dispose()


def _unreachable(error: BaseException) -> bool:
    current: BaseException | None = error
    while current is not None:
        if isinstance(current, OSError | asyncpg.PostgresConnectionError | TimeoutError):
            return True
        current = current.__cause__ or current.__context__
    return False


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


async def _on_driver(database: Database, method: str, query: str, *arguments: Any) -> Any:
    """One statement in one round trip: prepared once per connection by asyncpg, sent on the
    driver outside any transaction (no BEGIN, no ROLLBACK): the per-request checks."""
    async with database.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        try:
            return await getattr(driver, method)(query, *arguments)
        except (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError):
            # Sent past SQLAlchemy, so it cannot see the connection is gone: say so, or the
            # pool would hand the dead connection to the next request.
            await connection.invalidate()
            raise


async def fetch_value(database: Database, query: str, *arguments: Any) -> Any:
    """One value in one round trip (see `_on_driver`)."""
    return await _on_driver(database, "fetchval", query, *arguments)


async def fetch_row(database: Database, query: str, *arguments: Any) -> Any:
    """One row in one round trip (see `_on_driver`)."""
    return await _on_driver(database, "fetchrow", query, *arguments)


async def current_generation(database: Database, name: str) -> int:
    """The counter ``name`` of `cache_generations`."""
    value: int = await fetch_value(
        database, "SELECT generation FROM cache_generations WHERE name = $1", name
    )
    return value


class Seen(NamedTuple):
    """What a request with a cached key needs to know its process's caches still hold: the key
    generation and the newest taxonomy version, read together."""

    keys: int
    taxonomy: int | None


_SEEN = (
    "SELECT (SELECT generation FROM cache_generations WHERE name = 'keys'),"
    " (SELECT max(version) FROM taxonomy_versions)"
)


async def seen(database: Database) -> Seen:
    """Both checks of a request in one prepared round trip instead of two."""
    row = await _on_driver(database, "fetchrow", _SEEN)
    return Seen(row[0], row[1])


async def driver_in_transaction(connection: AsyncConnection) -> Any:
    """The asyncpg connection under ``connection``, in its transaction: SQLAlchemy sends BEGIN
    only before the first statement it runs itself, so a statement sent straight to the driver
    first would otherwise run on its own, outside the request's transaction."""
    raw = await connection.get_raw_connection()
    adapted: Any = raw.dbapi_connection
    if connection.in_transaction() and getattr(adapted, "_transaction", True) is None:
        await adapted._start_transaction()
    return raw.driver_connection


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
