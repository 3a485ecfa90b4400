"""The `incidents` command: serve, db, members, taxonomy, audit, import, generate, brief."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import errno
import getpass
import os
import signal
import socket
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
import msgspec

from incidents.audit.service import Actor
from incidents.config import Settings, SettingsError, settings_from_env
from incidents.db import Database, DatabaseUnavailable, check_server, create_engine, describe
from incidents.embedded import EmbeddedCluster, EmbeddedError
from incidents.errors import IncidentsError
from incidents.logs import configure_logging
from incidents.validation import collect_errors, plain_message

T = TypeVar("T")


def fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def load_settings(**overrides: object) -> Settings:
    try:
        return settings_from_env(overrides=overrides)
    except SettingsError as error:
        fail(str(error))


def cli_actor() -> Actor:
    return Actor(label=f"cli:{getpass.getuser()}")


@contextlib.contextmanager
def server_url(settings: Settings) -> Iterator[str]:
    """The database URL to use: the configured server, or an embedded cluster started here."""
    if settings.database_url is not None:
        try:
            asyncio.run(check_server(settings.database_url))
        except DatabaseUnavailable as error:
            fail(str(error))
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

        try:
            return asyncio.run(main())
        except IncidentsError as error:
            detail = "; ".join(f"{e.field}: {e.message}" for e in error.errors or [])
            fail(f"{error.detail}{' (' + detail + ')' if detail else ''}")


def print_json(value: Any) -> None:
    click.echo(msgspec.json.format(msgspec.json.encode(value), indent=2).decode())


def _user_error(error: Exception) -> str | None:
    """The one line a person reads for an error their input caused (None: not such an error)."""
    from alembic.util import CommandError

    if isinstance(error, IncidentsError):
        detail = "; ".join(f"{e.field}: {e.message}" for e in error.errors or [])
        return f"{error.detail}{' (' + detail + ')' if detail else ''}"
    if isinstance(error, msgspec.ValidationError):
        reason, _, where = str(error).partition(" - at `$.")
        field = where.rstrip("`")
        message = plain_message(reason)
        return f"{field}: {message}" if field else message
    if isinstance(error, CommandError | SettingsError | DatabaseUnavailable | EmbeddedError):
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


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="incidents")
def main() -> None:
    """The shared AI incident and risk registry.

    Configuration comes from INCIDENTS_* environment variables (see the README). Without
    INCIDENTS_DATABASE_URL every command starts, uses and stops an embedded PostgreSQL in
    INCIDENTS_DATA_DIR.
    """


# -- serve ---------------------------------------------------------------------------------


def _exit_quietly(signum: int, _frame: object) -> None:
    # Uvicorn re-raises the signal that stopped it once it has shut down; exiting here (0) lets
    # the embedded cluster be stopped by the `finally` below instead of dying with the process.
    raise SystemExit(0)


@main.command()
@click.option("--host", default=None, help="Interface to bind (default 127.0.0.1, INCIDENTS_HOST).")
@click.option("--port", type=int, default=None, help="Port (default 8000, INCIDENTS_PORT).")
@click.option("--workers", type=int, default=None, help="Worker processes (default 1).")
@click.option("--reload", is_flag=True, help="Restart on code changes (development only).")
@click.option("--demo", is_flag=True, help="Load a small generated registry and print demo keys.")
def serve(
    host: str | None, port: int | None, workers: int | None, reload: bool, demo: bool
) -> None:
    """Run the API (and, without INCIDENTS_DATABASE_URL, an embedded PostgreSQL)."""
    settings = load_settings(host=host, port=port, workers=workers)
    configure_logging(settings.log_level, settings.log_format)
    # Taken before the database starts and the banner prints: a port in use is one line, and
    # the single-worker server then listens on this very socket.
    listening = _bind(settings.host, settings.port)
    signal.signal(signal.SIGTERM, _exit_quietly)
    signal.signal(signal.SIGINT, _exit_quietly)
    with listening, server_url(settings) as url:
        from incidents.bootstrap import prepare

        try:
            messages = asyncio.run(prepare(settings, url, demo=demo))
        except (IncidentsError, DatabaseUnavailable) as error:
            fail(str(error))
        for line in messages:
            click.echo(line)
        base = f"http://{settings.host}:{settings.port}"
        click.echo(f"API on {base}  (docs: {base}/schema, database: {describe(url)})")
        sys.stdout.flush()
        _run_server(settings, url, listening, reload=reload)


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


def _run_server(settings: Settings, url: str, listening: socket.socket, *, reload: bool) -> None:
    import uvicorn

    common: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_config": None,
        "access_log": False,
        "proxy_headers": False,
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


# -- db --------------------------------------------------------------------------------------


@main.group()
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


# -- members ---------------------------------------------------------------------------------


@main.group()
def members() -> None:
    """Member organizations and their API keys."""


async def _find_organization(connection: Any, reference: str) -> Any:
    from incidents.members import service

    with contextlib.suppress(ValueError):
        return await service.get_organization(connection, uuid.UUID(reference))
    for organization in await service.list_organizations(connection):
        if organization.name == reference:
            return organization
    fail(f"no organization with id or name {reference!r}")


@members.command("add-org")
@click.option("--name", required=True, help="Unique display name.")
@click.option(
    "--kind",
    required=True,
    type=click.Choice(["regulator", "research", "secretariat", "source"]),
    help="regulator (needs --jurisdiction), research, secretariat, or source (an outside dataset).",
)
@click.option("--jurisdiction", default=None, help="ISO 3166-1 alpha-2 code, e.g. KE.")
def add_org(name: str, kind: str, jurisdiction: str | None) -> None:
    """Add a member organization."""
    from incidents.members import schemas, service
    from incidents.taxonomy.geography import known_country_codes

    raw = {
        "name": name,
        "kind": kind,
        "jurisdiction": jurisdiction.upper() if jurisdiction else None,
    }
    try:
        data = msgspec.convert(raw, schemas.OrganizationCreate)
    except msgspec.ValidationError:
        errors = collect_errors(raw, schemas.OrganizationCreate)
        fail("; ".join(f"--{error.field}: {error.message}" for error in errors))

    async def work(database: Database) -> Any:
        async with database.transaction() as connection:
            return await service.create_organization(
                connection, cli_actor(), data, known_country_codes()
            )

    print_json(run_with_database(load_settings(), work))


@members.command("list-orgs")
def list_orgs() -> None:
    """List member organizations."""
    from incidents.members import service

    async def work(database: Database) -> Any:
        async with database.connect() as connection:
            return await service.list_organizations(connection)

    for organization in run_with_database(load_settings(), work):
        click.echo(
            f"{organization.id}  {organization.kind:<11} {organization.jurisdiction or '--'}  "
            f"{'active  ' if organization.active else 'inactive'}  {organization.name}"
        )


@members.command("issue-key")
@click.argument("organization")
@click.option("--label", required=True, help="What the key is for, e.g. 'bulk upload'.")
def issue_key(organization: str, label: str) -> None:
    """Issue an API key to ORGANIZATION (id or name); the key is printed once."""
    from incidents.members import service

    async def work(database: Database) -> Any:
        async with database.transaction() as connection:
            found = await _find_organization(connection, organization)
            return await service.issue_key(connection, cli_actor(), found.id, label)

    issued = run_with_database(load_settings(), work)
    click.echo(f"key id:  {issued.id}\nprefix:  {issued.prefix}\nkey:     {issued.key}")
    click.echo("Store the key now: it is not kept and cannot be shown again.", err=True)


@members.command("revoke-key")
@click.argument("key")
def revoke_key(key: str) -> None:
    """Revoke KEY (its id or visible prefix); it stops working at once."""
    from incidents.members import service

    async def work(database: Database) -> Any:
        async with database.transaction() as connection:
            found = await service.get_key(connection, key)
            return await service.revoke_key(connection, cli_actor(), found.id)

    revoked = run_with_database(load_settings(), work)
    click.echo(f"revoked {revoked.prefix} ({revoked.label}) at {revoked.revoked_at}")


@members.command("list-keys")
@click.argument("organization", required=False)
def list_keys(organization: str | None) -> None:
    """List API keys (never secrets), of one ORGANIZATION or of all."""
    from incidents.members import service

    async def work(database: Database) -> list[tuple[str, Any]]:
        async with database.connect() as connection:
            if organization is not None:
                found = [await _find_organization(connection, organization)]
            else:
                found = await service.list_organizations(connection)
            return [
                (org.name, key)
                for org in found
                for key in await service.list_keys(connection, org.id)
            ]

    for name, key in run_with_database(load_settings(), work):
        state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
        used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
        click.echo(f"{key.id}  {key.prefix}  {state:<18} last used {used:<16} {name}: {key.label}")


# -- audit -----------------------------------------------------------------------------------


@main.group()
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
    from incidents.audit.verify import verify_database

    async def work(database: Database) -> Any:
        return await verify_database(
            database,
            expected_head=expect_head,
            incremental=incremental,
            record_as=None if no_checkpoint else cli_actor().label,
            progress=_phase_progress(),
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


def _phase_progress() -> Callable[[str, int, int], None]:
    """One progress bar per phase, each on its own line."""
    bars: dict[str, Callable[[int, int], None]] = {}
    unfinished: list[str] = []

    def report(phase: str, done: int, total: int) -> None:
        if phase not in bars:
            if unfinished:  # the last phase ended short of its total (rows missing)
                click.echo("", err=True)
            bars[phase] = _progress(f"verifying {phase:<7}")
        bars[phase](done, total)
        unfinished[:] = [phase] if done < total else []

    return report


# -- taxonomy --------------------------------------------------------------------------------


@main.group()
def taxonomy() -> None:
    """The shared taxonomy: check files, load versions, compare versions."""


def _taxonomy_directory(directory: str | None) -> Path:
    from incidents.paths import taxonomy_dir

    return Path(directory) if directory else (load_settings().taxonomy_dir or taxonomy_dir())


@taxonomy.command("check")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def taxonomy_check(directory: str | None) -> None:
    """Validate the taxonomy files in DIRECTORY (default: the shipped taxonomy).

    Prints each problem as FILE  CODE  REASON and exits 1 if there is any.
    """
    from incidents.taxonomy.files import TaxonomyInvalid, read_directory

    folder = _taxonomy_directory(directory)
    try:
        document = read_directory(folder)
    except TaxonomyInvalid as invalid:
        for problem in invalid.problems:
            click.echo(f"{problem.file}  {problem.code or '-'}  {problem.reason}")
        click.echo(f"{len(invalid.problems)} problem(s) in {folder}", err=True)
        sys.exit(1)
    codes = sum(len(dimension.codes) for dimension in document.dimensions)
    click.echo(
        f"{folder}: version {document.manifest.version} is valid "
        f"({len(document.dimensions)} dimensions, {codes} codes, "
        f"{len(document.crosswalks)} crosswalks, {len(document.geography)} countries)"
    )


@taxonomy.command("load")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def taxonomy_load(directory: str | None) -> None:
    """Release the taxonomy in DIRECTORY into the database (loading it again changes nothing)."""
    from incidents.taxonomy.files import TaxonomyInvalid, read_directory
    from incidents.taxonomy.service import store

    try:
        document = read_directory(_taxonomy_directory(directory))
    except TaxonomyInvalid as invalid:
        for problem in invalid.problems:
            click.echo(f"{problem.file}  {problem.code or '-'}  {problem.reason}")
        sys.exit(1)

    async def work(database: Database) -> Any:
        async with database.transaction() as connection:
            return await store(connection, cli_actor(), document)

    result = run_with_database(load_settings(), work)
    state = "loaded" if result.created else "already loaded, nothing changed"
    click.echo(f"taxonomy version {result.version} {state} (sha256 {result.content_hash[:16]})")


@taxonomy.command("diff")
@click.argument("old")
@click.argument("new")
def taxonomy_diff(old: str, new: str) -> None:
    """Show codes added, retired and relabelled from OLD to NEW.

    Each is a version number in the database or a taxonomy directory.
    """
    from incidents.taxonomy.files import TaxonomyInvalid, read_directory
    from incidents.taxonomy.schemas import TaxonomyDocument
    from incidents.taxonomy.service import diff, document_of

    def from_database(versions: list[int]) -> dict[int, TaxonomyDocument]:
        async def work(database: Database) -> dict[int, TaxonomyDocument]:
            async with database.connect() as connection:
                return {v: await document_of(connection, v) for v in versions}

        return run_with_database(load_settings(), work)

    def resolve(reference: str, stored: dict[int, TaxonomyDocument]) -> TaxonomyDocument:
        if reference.isdigit():
            return stored[int(reference)]
        try:
            return read_directory(Path(reference))
        except TaxonomyInvalid as invalid:
            fail(f"{reference} is not a valid taxonomy ({len(invalid.problems)} problems)")

    numbers = [int(ref) for ref in (old, new) if ref.isdigit()]
    stored = from_database(numbers) if numbers else {}
    changes = diff(resolve(old, stored), resolve(new, stored))
    symbols = {
        "added": "+",
        "retired": "-",
        "relabelled": "~",
        "redefined": "~",
        "moved": ">",
        "crosswalk": "~",
    }
    for change in changes:
        where = f"{change.dimension}:{change.code}"
        click.echo(f"{symbols[change.kind]} {change.kind:<10} {where}  {change.detail}")
    click.echo(f"{len(changes)} change(s)")


@taxonomy.command("geography")
@click.option(
    "--write",
    "write_to",
    type=click.Path(file_okay=False),
    default=None,
    help="Write geography.csv into this taxonomy directory instead of printing it.",
)
def taxonomy_geography(write_to: str | None) -> None:
    """Regenerate the country table from pycountry and country_converter (development tools)."""
    from incidents.taxonomy.geography import FILE_NAME, build_rows, to_csv

    try:
        text = to_csv(build_rows())
    except ModuleNotFoundError as missing:
        fail(f"{missing.name} is needed to regenerate geography (uv sync installs it)")
    if write_to is None:
        click.echo(text, nl=False)
    else:
        (Path(write_to) / FILE_NAME).write_text(text, encoding="utf-8")
        click.echo(f"wrote {Path(write_to) / FILE_NAME}")


# -- data in ---------------------------------------------------------------------------------


def _progress(label: str) -> Callable[[int, int], None]:
    def report(done: int, total: int) -> None:
        width = 30
        filled = int(width * done / max(total, 1))
        click.echo(
            f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,}",
            nl=False,
            err=True,
        )
        if done >= total:
            click.echo("", err=True)

    return report


@main.command()
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
    from incidents.synthetic.generate import generate as run
    from incidents.taxonomy.service import TaxonomyRegistry

    async def work(database: Database) -> Any:
        from incidents.bootstrap import load_shipped_taxonomy

        settings = load_settings()
        await load_shipped_taxonomy(database, settings)
        registry = TaxonomyRegistry()
        async with database.connect() as connection:
            await registry.refresh(connection, force=True)
        return await run(
            database,
            registry.current,
            reports_wanted=count,
            seed=seed,
            years=years,
            progress=_progress("generating"),
        )

    summary = run_with_database(load_settings(), work)
    click.echo(
        f"generated {summary.reports:,} reports in {summary.incidents:,} incidents from "
        f"{summary.organizations} regulators in {summary.seconds:.1f} s"
        f"{' (indexes rebuilt)' if summary.indexes_rebuilt else ''}"
    )


@main.group("import")
def import_() -> None:
    """Bring outside incident data in: the AI Incident Database, mapped CSV, NDJSON exports."""


def _run_import(work: Callable[[Database, Any], Awaitable[Any]], dry_run: bool) -> None:
    from incidents.bootstrap import load_shipped_taxonomy
    from incidents.taxonomy.service import TaxonomyRegistry

    async def run(database: Database) -> Any:
        await load_shipped_taxonomy(database, load_settings())
        registry = TaxonomyRegistry()
        async with database.connect() as connection:
            await registry.refresh(connection, force=True)
        return await work(database, registry.current)

    try:
        summary = run_with_database(load_settings(), run)
    except (FileNotFoundError, ValueError) as error:
        fail(str(error))
    for problem in summary.problems[:1000]:
        where = f"row {problem.row}, " if problem.row else ""
        click.echo(f"{where}column {problem.column}: {problem.message}")
    click.echo(
        f"read {summary.read:,}  created {summary.created:,}  updated {summary.updated:,}  "
        f"unchanged {summary.unchanged:,}"
    )
    for field, count in sorted(summary.unmapped.items()):
        click.echo(f"unmapped {field}: {count:,} (kept as unclassified)")
    if summary.problems:
        click.echo(f"{len(summary.problems):,} problem(s); nothing was written", err=True)
        sys.exit(1)
    if dry_run:
        click.echo("dry run: everything is valid; nothing was written")


@import_.command("aiid")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check everything, write nothing.")
def import_aiid(directory: Path, dry_run: bool) -> None:
    """Import an AI Incident Database snapshot (incidents.csv, classifications_MIT.csv, and
    classifications_CSETv1.csv when present). Re-importing changes only what changed."""
    from incidents.importers.service import import_aiid as run

    _run_import(
        lambda database, taxonomy: run(database, taxonomy, directory, cli_actor(), dry_run=dry_run),
        dry_run,
    )


@import_.command("csv")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--mapping",
    "mapping_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML file mapping source columns and values onto report fields (see README).",
)
@click.option(
    "--dry-run", is_flag=True, help="Check every row, print every problem, write nothing."
)
def import_csv(file: Path, mapping_path: Path, dry_run: bool) -> None:
    """Import any incident list as CSV through a mapping file; all rows or none."""
    from incidents.importers.service import import_csv as run

    _run_import(
        lambda database, taxonomy: run(
            database, taxonomy, file, mapping_path, cli_actor(), dry_run=dry_run
        ),
        dry_run,
    )


@import_.command("ndjson")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--organization",
    default=None,
    help="File every report under this organization (default: each line's own, by name).",
)
@click.option("--dry-run", is_flag=True, help="Check every line, write nothing.")
def import_ndjson(file: Path, organization: str | None, dry_run: bool) -> None:
    """Import reports in this API's own NDJSON format (e.g. /api/v1/reports.ndjson of another
    instance). Reports that shared an incident there share one here."""
    from incidents.importers.service import import_ndjson as run

    _run_import(
        lambda database, taxonomy: run(
            database, taxonomy, file, cli_actor(), organization=organization, dry_run=dry_run
        ),
        dry_run,
    )


# -- briefs ----------------------------------------------------------------------------------


@main.command()
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
    issuing_body: str | None,
    issued_on: datetime.datetime | None,
    summary_file: Path | None,
    publish: bool,
) -> None:
    """Make a risk brief for a period; it is also stored in the registry (as a draft, or
    published with --publish)."""
    from incidents.briefs import service
    from incidents.briefs.schemas import BriefEdit, BriefRequest, check_period, scope_filters
    from incidents.errors import ValidationFailed
    from incidents.reports.filters import compile_filters
    from incidents.taxonomy.service import TaxonomyRegistry
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
            {"period": period, "scope": scope, "provisional": provisional}, BriefRequest
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

    async def work(database: Database) -> Any:
        registry = TaxonomyRegistry()
        async with database.connect() as connection:
            await registry.refresh(connection, force=True)
        try:
            compile_filters(filters, registry)
        except ValidationFailed as error:
            fail(_problems(error, prefix="scope."))
        async with database.transaction() as connection:
            queued = await service.queue(connection, cli_actor(), request)
        try:
            await service.run(database, registry, queued.id, method, step)
        except Exception as error:
            detail = getattr(error, "detail", None) or f"{type(error).__name__}: {error}"
            fail(f"brief {queued.id} failed: {detail}")
        async with database.transaction() as connection:
            if editing:
                await service.edit(connection, cli_actor(), queued.id, edit)
            made = await service.get(connection, queued.id, secretariat=True)
            if publish:
                if made.audit is None or not made.audit.passed:
                    fail(f"brief {queued.id}: its disclosure audit failed; it cannot be published")
                await service.approve(connection, cli_actor(), queued.id)
                made = await service.publish(connection, cli_actor(), queued.id)
            files = {
                f"{'brief' if variant in {'html', 'pdf'} else 'data'}.{variant}": (
                    await service.content(connection, queued.id, variant, secretariat=True)
                )
                for variant in service.VARIANTS
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


def _problems(error: Any, prefix: str = "") -> str:
    """A 422's field errors as one line for the terminal, named as the options are."""
    found = []
    for item in error.errors or []:
        field = f"{prefix}{item.field}"
        option = f"--scope {field.removeprefix('scope.')}" if field.startswith("scope.") else field
        found.append(f"{option.replace('period', '--period')}: {item.message}")
    return "; ".join(found) or str(error.detail)
