"""`incidents serve`: take the port, prepare the database, run the API until stopped."""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import os
import signal
import socket
import sys
from typing import Any

import click
import msgspec

from incidents.cli.shared import fail, load_settings, server_url
from incidents.config import Settings
from incidents.db import describe
from incidents.logs import configure_logging


@click.command()
@click.option("--host", default=None, help="Interface to bind (default 127.0.0.1, INCIDENTS_HOST).")
@click.option("--port", type=int, default=None, help="Port (default 8000, INCIDENTS_PORT).")
@click.option("--workers", type=int, default=None, help="Worker processes (default 1).")
@click.option("--reload", is_flag=True, help="Restart on code changes (development only).")
@click.option("--demo", is_flag=True, help="Load a small generated registry and print demo keys.")
@click.option(
    "--forwarded-allow-ips",
    envvar="INCIDENTS_FORWARDED_ALLOW_IPS",
    default=None,
    help=(
        "Trust X-Forwarded-For/-Proto from these proxy addresses (comma-separated IPs or "
        "networks, INCIDENTS_FORWARDED_ALLOW_IPS); off by default. Behind a trusted reverse "
        "proxy, requests then carry the client's address and the proxy's scheme."
    ),
)
def serve(
    host: str | None,
    port: int | None,
    workers: int | None,
    reload: bool,
    demo: bool,
    forwarded_allow_ips: str | None,
) -> None:
    """Run the API (and, without INCIDENTS_DATABASE_URL, an embedded PostgreSQL)."""
    settings = load_settings(host=host, port=port, workers=workers)
    proxy = proxy_options(forwarded_allow_ips)  # a bad address is one line, before anything
    configure_logging(settings.log_level, settings.log_format)
    # Taken before the database starts and the banner prints: a port in use is one line, and
    # the single-worker server then listens on this very socket.
    listening = _bind(settings.host, settings.port)
    signal.signal(signal.SIGTERM, _exit_quietly)
    signal.signal(signal.SIGINT, _exit_quietly)
    with listening, server_url(settings) as url:
        from incidents.bootstrap import prepare

        for line in asyncio.run(prepare(settings, url, demo=demo)):
            click.echo(line)
        base = f"http://{settings.host}:{settings.port}"
        click.echo(f"API on {base}  (docs: {base}/schema, database: {describe(url)})")
        sys.stdout.flush()
        _run_server(settings, url, listening, reload=reload, proxy=proxy)


def _exit_quietly(signum: int, _frame: object) -> None:
    # Uvicorn re-raises the signal that stopped it once it has shut down; exiting here (0) lets
    # the embedded cluster be stopped by the `finally` below instead of dying with the process.
    raise SystemExit(0)


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, or one line saying why the address cannot be had."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except socket.gaierror as error:
        sock.close()
        fail(f"cannot listen on {host!r} (--host, INCIDENTS_HOST): {error}")
    except OSError as error:
        sock.close()
        reason = "is in use" if error.errno == errno.EADDRINUSE else f"cannot be used ({error})"
        fail(
            f"port {port} on {host} {reason}; choose another with --port or INCIDENTS_PORT "
            "(the interface with --host or INCIDENTS_HOST)"
        )
    return sock


def proxy_options(forwarded: str | None) -> dict[str, Any]:
    """Uvicorn's proxy settings: none trusted unless named (a client could otherwise claim any
    address and scheme); "*" trusts every peer, for a proxy on a private network only."""
    if forwarded is None or not forwarded.strip():
        return {"proxy_headers": False}
    addresses = [part.strip() for part in forwarded.split(",") if part.strip()]
    for address in addresses:
        if address == "*":
            continue
        try:
            ipaddress.ip_network(address, strict=False)
        except ValueError:
            raise click.BadParameter(
                f"{address!r} is not an IP address or network (or *)",
                param_hint="--forwarded-allow-ips",
            ) from None
    return {"proxy_headers": True, "forwarded_allow_ips": addresses}


def _run_server(
    settings: Settings,
    url: str,
    listening: socket.socket,
    *,
    reload: bool,
    proxy: dict[str, Any],
) -> None:
    import uvicorn

    common: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_config": None,
        "access_log": False,
        **proxy,
        "server_header": False,
        "timeout_graceful_shutdown": 10,
    }
    if settings.workers == 1 and not reload:
        from incidents.app import create_app

        app = create_app(msgspec.structs.replace(settings, database_url=url))
        uvicorn.Server(uvicorn.Config(app, lifespan="on", **common)).run(sockets=[listening])
        return
    listening.close()  # uvicorn's supervisor binds it again for its workers
    # Worker processes build their own app from the environment; hand them the URL.
    os.environ["INCIDENTS_DATABASE_URL"] = url
    uvicorn.run(
        "incidents.app:create_app_from_environment",
        factory=True,
        workers=None if reload else settings.workers,
        reload=reload,
        **common,
    )
