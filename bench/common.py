"""What every benchmark shares: a registry to run against, a service process, keys, load
generators, and the table each benchmark prints (figure, target, baseline, ratio)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
DATA = Path(os.environ.get("INCIDENTS_BENCH_DATA", ROOT.parent / "bench-data"))


@dataclass
class Result:
    name: str
    figure: float
    unit: str
    target: str
    met: bool
    baseline: float | None = None
    baseline_name: str = ""
    note: str = ""

    @property
    def ratio(self) -> str:
        if not self.baseline:
            return "-"
        return f"{self.figure / self.baseline:.2f}x"


def report(results: Sequence[Result], title: str) -> None:
    """Print the table and keep the figures in bench/out/results.json."""
    rows = [
        (
            r.name,
            f"{r.figure:,.1f} {r.unit}",
            r.target,
            f"{r.baseline:,.1f} {r.unit} ({r.baseline_name})" if r.baseline is not None else "-",
            r.ratio,
            "yes" if r.met else "NO",
            r.note,
        )
        for r in results
    ]
    header = ("benchmark", "measured", "target", "baseline (same run)", "ratio", "met", "note")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))
    OUT.mkdir(parents=True, exist_ok=True)
    store = OUT / "results.json"
    known = json.loads(store.read_text()) if store.exists() else {}
    known.update(
        {
            r.name: {**asdict(r), "ratio": r.ratio, "at": time.strftime("%Y-%m-%d %H:%M")}
            for r in results
        }
    )
    store.write_text(json.dumps(known, indent=2))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("INCIDENTS_")}
    env.update({"INCIDENTS_DATA_DIR": str(data_dir), "INCIDENTS_LOG_LEVEL": "warning"})
    env.update(extra)
    return env


def incidents(*arguments: str, data_dir: Path, timeout: float = 7200) -> str:
    """Run the `incidents` command (as a user would) and return what it printed."""
    done = subprocess.run(
        [sys.executable, "-m", "incidents", *arguments],
        env=environment(data_dir),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"incidents {' '.join(arguments)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def ensure_registry(reports: int, seed: int = 1) -> Path:
    """A data dir holding a generated registry of ``reports`` (made once, then reused)."""
    data_dir = DATA / f"registry-{reports}"
    marker = data_dir / "generated.txt"
    if not marker.exists():
        if data_dir.exists():
            shutil.rmtree(data_dir)
        data_dir.mkdir(parents=True)
        print(f"generating a registry of {reports:,} reports in {data_dir} (once) ...", flush=True)
        output = incidents(
            "generate", "--reports", str(reports), "--seed", str(seed), data_dir=data_dir
        )
        marker.write_text(output)
    return data_dir


@contextlib.contextmanager
def scratch_copy(data_dir: Path) -> Iterator[Path]:
    """A throw-away copy of a registry's data directory (the server must not be running)."""
    scratch = data_dir.with_name(data_dir.name + "-scratch")
    if scratch.exists():
        shutil.rmtree(scratch)
    subprocess.run(["cp", "-a", str(data_dir), str(scratch)], check=True)  # keeps owners
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch)


@dataclass
class Service:
    base: str
    process: subprocess.Popen[str]
    database_url: str

    @property
    def worker(self) -> psutil.Process:
        """The process answering requests (with one worker, the serve process itself)."""
        return psutil.Process(self.process.pid)


@contextlib.contextmanager
def serve(data_dir: Path, *, workers: int = 1, **settings: str) -> Iterator[Service]:
    """`incidents serve` on a free port of the registry in ``data_dir``; stopped on exit."""
    port = free_port()
    env = environment(
        data_dir, **{f"INCIDENTS_{key.upper()}": value for key, value in settings.items()}
    )
    env["INCIDENTS_WORKERS"] = str(workers)
    OUT.mkdir(parents=True, exist_ok=True)
    log_path = OUT / "serve.log"
    log = log_path.open("w")  # a pipe nobody reads would block the server once full
    process = subprocess.Popen(
        [sys.executable, "-m", "incidents", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    url = ""
    deadline = time.monotonic() + 600
    while not url:
        if match := re.search(r"database: (\S+)\)", log_path.read_text()):
            url = match.group(1)
        elif process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"serve did not start:\n{log_path.read_text()}")
        time.sleep(0.2)
    _wait_ready(base)
    try:
        yield Service(base, process, url)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=120)
        log.close()
        errors = [line for line in log_path.read_text().splitlines() if "ERROR" in line]
        if errors:
            print(f"  the service logged {len(errors)} error(s), see {log_path}: {errors[0]}")


def _wait_ready(base: str) -> None:
    import httpx

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError("the service never became ready")


def found(pattern: str, text: str) -> str:
    """The first group of ``pattern`` in ``text`` (a tool's output); an error if it is not there."""
    match = re.search(pattern, text)
    if match is None:
        raise RuntimeError(f"{pattern!r} not found in:\n{text}")
    return match.group(1)


def key_for(data_dir: Path, kind: str) -> str:
    """A fresh API key for the first organization of ``kind`` in the bench registry (a
    generated registry holds regulators only: a research or secretariat one is added)."""
    for attempt in range(2):
        listed = incidents("members", "list-orgs", data_dir=data_dir)
        for line in listed.splitlines():
            parts = line.split()
            if len(parts) > 1 and parts[1] == kind:
                issued = incidents(
                    "members", "issue-key", parts[0], "--label", "bench", data_dir=data_dir
                )
                return found(r"key:\s+(\S+)", issued)
        if attempt == 0:
            name = f"Bench {kind}"
            incidents("members", "add-org", "--name", name, "--kind", kind, data_dir=data_dir)
    raise RuntimeError(f"no {kind} organization in {data_dir}")


# -- load ------------------------------------------------------------------------------------


@dataclass
class Load:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies_ms)
        return (
            ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]
            if ordered
            else float("nan")
        )


def wrk(
    url: str,
    *,
    seconds: int,
    connections: int,
    threads: int = 1,
    script: str | None = None,
    headers: Sequence[str] = (),
) -> dict[str, float]:
    """Closed-loop maximum throughput with wrk (Debian's `wrk` package)."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed: apt-get install wrk")
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    for header in headers:
        command += ["-H", header]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        if script:
            handle.write(script)
    if script:
        command += ["-s", handle.name]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    Path(handle.name).unlink()
    rate = float(found(r"Requests/sec:\s+([\d.]+)", output))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    latency = {m.group(1): _ms(m.group(2)) for m in re.finditer(r"\s+(\d+)%\s+([\d.]+\w+)", output)}
    return {
        "rate": rate,
        "errors": float(non2xx.group(1)) if non2xx else 0.0,
        "p50": latency.get("50", float("nan")),
        "p99": latency.get("99", float("nan")),
    }


def _ms(text: str) -> float:
    value, unit = found(r"^([\d.]+)", text), found(r"^[\d.]+(\w+)", text)
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


REQUEST_TIMEOUT = 60


async def open_loop(
    base: str, rate: float, seconds: float, request: Any, *, connections: int = 64
) -> Load:
    """Requests sent at a fixed arrival rate whatever the answers take (open loop): latency is
    measured from each request's scheduled time, so a slow server cannot hide its queue.

    No packaged open-loop generator (wrk2, vegeta, k6) is in Debian; this one writes
    pre-encoded HTTP/1.1 requests on keep-alive connections, so its own cost stays small.
    """
    host, port = base.removeprefix("http://").split(":")
    idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    opened = 0
    latencies: list[float] = []
    errors = 0

    async def connection() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        nonlocal opened
        if idle.empty() and opened < connections:
            opened += 1
            return await asyncio.open_connection(host, int(port))
        return await idle.get()

    async def one(scheduled: float, payload: bytes) -> None:
        nonlocal errors, opened
        reader, writer = await connection()
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                writer.write(payload)
                status = await _read_response(reader)
            if not 200 <= status < 300:
                errors += 1
        except (OSError, asyncio.IncompleteReadError, TimeoutError):
            errors += 1
            writer.close()
            opened -= 1  # a new connection may take its place
            return
        latencies.append((time.perf_counter() - scheduled) * 1000)
        idle.put_nowait((reader, writer))

    loop = asyncio.get_running_loop()
    start = time.perf_counter() + 0.1
    total = int(rate * seconds)
    tasks = []
    for index in range(total):
        scheduled = start + index / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(loop.create_task(one(scheduled, request(index))))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    while not idle.empty():
        _, writer = idle.get_nowait()
        writer.close()
    return Load(total, errors, elapsed, latencies)


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
        if name.strip().lower() == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readline()).strip() or b"0", 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


def http_request(
    method: str, path: str, *, body: bytes = b"", headers: dict[str, str] | None = None
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: keep-alive"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class PeakRss:
    """The highest resident memory of a process (and its children) while the block runs."""

    def __init__(self, process: psutil.Process) -> None:
        self.process = process
        self.peak = 0
        self.before = self._rss()
        self._task: asyncio.Task[None] | None = None

    def _rss(self) -> int:
        processes = [self.process, *self.process.children(recursive=True)]
        return sum(
            p.memory_info().rss for p in processes if p.is_running() and p.name() != "postgres"
        )

    async def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, self._rss())
            await asyncio.sleep(0.05)

    async def __aenter__(self) -> PeakRss:
        self._task = asyncio.create_task(self._sample())
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()
        self.peak = max(self.peak, self._rss())


@contextlib.asynccontextmanager
async def asyncpg_connection(url: str) -> AsyncIterator[Any]:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        yield connection
    finally:
        await connection.close()
