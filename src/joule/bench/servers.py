"""The servers under test, each in its own process tree: Joule (`joule serve`) and the raw ceiling.

Server CPU time and memory are read from /proc for the whole process tree (a `--workers N` Joule
is a supervisor plus N children), so per-server-CPU-second rates stay robust on a shared box
(performance.md §2.6).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit, urlunsplit

_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")

BENCH_ADMIN_EMAIL = "bench@joule.local"
BENCH_ADMIN_PASSWORD = "joule-bench-admin"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            text = Path(f"/proc/{pid}/task/{task}/children").read_text()
            found.extend(int(child) for child in text.split())
    except OSError:
        pass
    return found


def process_tree(pid: int) -> list[int]:
    """The process and all its descendants."""
    tree = [pid]
    index = 0
    while index < len(tree):
        tree.extend(_children(tree[index]))
        index += 1
    return tree


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by the process tree (children still running)."""
    total = 0
    for member in process_tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICKS


def rss_bytes(pid: int) -> int:
    """Resident memory of the process tree."""
    total = 0
    for member in process_tree(pid):
        try:
            total += int(Path(f"/proc/{member}/statm").read_text().split()[1]) * _PAGE
        except OSError:
            continue
    return total


def load_average() -> float:
    """The one-minute load average."""
    return os.getloadavg()[0]


@dataclass
class ServerProcess:
    """A server under test running as a child process."""

    name: str
    process: subprocess.Popen[bytes]
    ocpp_url: str  # ws://host:port/ocpp — stations append /<id>
    http_url: str | None = None
    cleanup: list[str] = field(default_factory=list)  # directories to remove after stop

    @property
    def pid(self) -> int:
        """The root process id."""
        return self.process.pid

    def cpu(self) -> float:
        """CPU seconds of the server's process tree."""
        return cpu_seconds(self.pid)

    def rss(self) -> int:
        """Resident bytes of the server's process tree."""
        return rss_bytes(self.pid)

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM (Joule drains), then SIGKILL if it does not exit in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for path in self.cleanup:
            shutil.rmtree(path, ignore_errors=True)


def _wait_port(host: str, port: int, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout:g} s")


def start_raw(impl: str = "websockets", host: str = "127.0.0.1") -> ServerProcess:
    """Start the raw ceiling server; returns once it listens."""
    cmd = [sys.executable, "-m", "joule.bench.raw", "--host", host, "--impl", impl]
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdout is not None
    line = _read_line(process.stdout, process, 30.0)
    if not line.startswith("READY "):
        process.kill()
        raise RuntimeError(f"raw server did not start: {line!r}")
    port = int(line.split()[1])
    return ServerProcess(f"raw-{impl}", process, f"ws://{host}:{port}/ocpp")


def _read_line(stream: IO[bytes], process: subprocess.Popen[bytes], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    os.set_blocking(stream.fileno(), False)
    buffer = b""
    while time.monotonic() < deadline:
        chunk = stream.read()
        if chunk:
            buffer += chunk
            if b"\n" in buffer:
                return buffer.split(b"\n", 1)[0].decode()
        elif process.poll() is not None:
            break
        time.sleep(0.02)
    return buffer.decode(errors="replace")


def start_joule(
    database_url: str,
    *,
    workers: int = 1,
    host: str = "127.0.0.1",
    log_level: str = "WARNING",
    log_path: Path | None = None,
) -> ServerProcess:
    """Start `joule serve` (unknown stations accepted) on free ports; returns once it is healthy."""
    ocpp_port, http_port = free_port(host), free_port(host)
    cmd = [
        sys.executable,
        "-m",
        "joule.cli.main",
        # N workers: the cluster supervisor (cluster.py), `joule serve`'s flags plus --workers.
        "serve",
        *(("--workers", str(workers)) if workers > 1 else ()),
        "--host",
        host,
        "--ocpp-port",
        str(ocpp_port),
        "--http-port",
        str(http_port),
        "--database-url",
        database_url,
        "--unknown-stations",
        "accept",
    ]
    env = {
        **os.environ,
        "JOULE_LOG_LEVEL": log_level,
        "JOULE_ADMIN_EMAIL": BENCH_ADMIN_EMAIL,
        "JOULE_ADMIN_PASSWORD": BENCH_ADMIN_PASSWORD,
    }
    cleanup: list[str] = []
    if log_path is None and workers > 1:
        # The supervisor's "running with N workers" line is the only sign that all listen.
        scratch = tempfile.mkdtemp(prefix="joule-bench-log-")
        cleanup.append(scratch)
        log_path = Path(scratch) / "serve.log"
    log = open(log_path, "ab") if log_path is not None else subprocess.DEVNULL  # noqa: SIM115
    try:
        process = subprocess.Popen(cmd, env=env, stdout=log, stderr=log)
    finally:
        if log_path is not None:
            log.close()  # type: ignore[union-attr]
    http_url = f"http://{host}:{http_port}/api/v1"
    try:
        _wait_port(host, ocpp_port, process, 120.0)
        _wait_healthy(http_url, process, 60.0)
        if workers > 1 and log_path is not None:
            _wait_for_line(log_path, f"running with {workers} workers", process, 120.0)
    except Exception:
        process.kill()
        process.wait()
        raise
    name = "joule" if workers == 1 else f"joule-{workers}w"
    return ServerProcess(name, process, f"ws://{host}:{ocpp_port}/ocpp", http_url, cleanup)


def _wait_for_line(path: Path, text: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"joule exited with {process.returncode}")
        if text in path.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise TimeoutError(f"joule did not log {text!r}")


def _wait_healthy(http_url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"joule serve exited with {process.returncode}")
        with (
            contextlib.suppress(OSError, urllib.error.URLError),
            urllib.request.urlopen(f"{http_url}/health", timeout=2) as response,
        ):
            if response.status == 200:
                return
        time.sleep(0.1)
    raise TimeoutError("joule serve did not become healthy")


def api_token(http_url: str) -> str:
    """A bearer token for the bench's admin operator."""
    form = f"username={BENCH_ADMIN_EMAIL}&password={BENCH_ADMIN_PASSWORD}".encode()
    request = urllib.request.Request(f"{http_url}/auth/token", data=form, method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(request, timeout=30) as response:
        return str(json.loads(response.read())["access_token"])


def api_post(http_url: str, token: str, path: str, body: dict[str, object]) -> int:
    """POST JSON to the operator API; returns the HTTP status."""
    request = urllib.request.Request(
        f"{http_url}{path}", data=json.dumps(body).encode(), method="POST"
    )
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


_RESERVED = frozenset({"", "postgres", "template0", "template1"})


class FreshDatabase:
    """A database that exists only for one server run, dropped afterwards.

    Without a URL: a temporary SQLite file. With a PostgreSQL URL: the database it names is
    created (a random name when it names none or a system database) and dropped at the end; an
    existing database is never touched, so a wrong URL cannot destroy data.
    """

    def __init__(self, postgres_url: str | None) -> None:
        self._postgres_url = postgres_url
        self._name: str | None = None
        self._dir: str | None = None
        self.url = ""

    def __enter__(self) -> FreshDatabase:
        if self._postgres_url is None:
            self._dir = tempfile.mkdtemp(prefix="joule-bench-")
            self.url = f"sqlite:///{self._dir}/joule.db"
            return self
        parts = urlsplit(self._postgres_url)
        name = parts.path.lstrip("/")
        if name in _RESERVED:
            name = f"joule_bench_{uuid.uuid4().hex[:12]}"
        if not name.replace("_", "").isalnum():
            raise ValueError(f"bench database name {name!r}: use letters, digits and _ only")
        asyncio.run(self._admin(f'CREATE DATABASE "{name}"'))
        self._name = name
        self.url = urlunsplit(parts._replace(path=f"/{name}"))
        return self

    def __exit__(self, *_: object) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
        if self._name is not None:
            asyncio.run(self._admin(f'DROP DATABASE IF EXISTS "{self._name}" WITH (FORCE)'))

    async def _admin(self, statement: str) -> None:
        import asyncpg  # type: ignore[import-untyped]

        assert self._postgres_url is not None
        parts = urlsplit(self._postgres_url)
        scheme = parts.scheme.split("+", 1)[0]  # postgresql+asyncpg:// → postgresql://
        dsn = urlunsplit(parts._replace(scheme=scheme, path="/postgres"))
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(statement)
        except asyncpg.DuplicateDatabaseError:
            raise RuntimeError(
                f"{statement.split()[-1]} already exists: the bench only uses a database it creates"
            ) from None
        finally:
            await connection.close()
