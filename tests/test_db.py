"""How the service reads and writes PostgreSQL URLs: for SQLAlchemy, for libpq, for people."""

from __future__ import annotations

import pytest
from sqlalchemy import URL

from incidents.db import (
    create_engine,
    database_name,
    describe,
    libpq_url,
    parse_url,
    with_database,
)

SECRET = "s3cr@t/pass"
WITH_PASSWORD = "postgres://registry:s3cr%40t%2Fpass@db.example.org:5433/incidents?sslmode=require"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://registry@db.example.org/incidents",
        "postgres://registry@db.example.org/incidents",
        "postgresql+psycopg://registry@db.example.org/incidents",
    ],
)
async def test_any_postgres_url_gives_an_asyncpg_engine(url: str) -> None:
    engine = create_engine(url, pool_size=1)
    try:
        assert engine.url.drivername == "postgresql+asyncpg"
        assert engine.dialect.driver == "asyncpg"
        assert (engine.url.host, engine.url.database) == ("db.example.org", "incidents")
    finally:
        await engine.dispose()


def test_the_libpq_url_keeps_the_password_for_tools_and_adbc() -> None:
    assert libpq_url(WITH_PASSWORD) == (
        "postgresql://registry:s3cr%40t%2Fpass@db.example.org:5433/incidents?sslmode=require"
    )
    assert parse_url(libpq_url(WITH_PASSWORD)).password == SECRET


def test_a_socket_directory_with_a_space_survives_for_libpq() -> None:
    # How the embedded cluster is reached. libpq reads "+" literally, so the space (macOS keeps
    # user data under "Application Support") must be written %20.
    socket = "/Users/a/Library/Application Support/incidents/postgres"
    url = libpq_url(URL.create("postgresql", username="postgres", query={"host": socket}))
    assert url == (
        "postgresql://postgres@?host=/Users/a/Library/Application%20Support/incidents/postgres"
    )
    assert parse_url(url).query["host"] == socket
    assert libpq_url(url) == url


@pytest.mark.parametrize(
    "url",
    [WITH_PASSWORD, "postgresql://registry@db.example.org/incidents?password=" + "s3cr%40t"],
)
def test_messages_never_show_the_password(url: str) -> None:
    shown = describe(url)
    assert "s3cr" not in shown
    assert "registry@db.example.org" in shown


def test_a_url_can_name_another_database_on_the_same_server() -> None:
    other = with_database(WITH_PASSWORD, "incidents_test_1")
    assert database_name(other) == "incidents_test_1"
    assert parse_url(other).password == SECRET
    assert database_name(WITH_PASSWORD) == "incidents"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("mysql://user:secret@localhost/x", "not mysql://"),
        ("sqlite+pysqlite:///registry.db", "not sqlite://"),
        ("localhost:5432/incidents", "not a URL"),
        ("postgresql://user@localhost:port/incidents", "not a URL"),
    ],
)
def test_anything_but_a_postgres_url_is_refused_saying_why(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as refused:
        parse_url(url)
    assert "secret" not in str(refused.value)
