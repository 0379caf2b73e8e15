"""The one check command: format, lint, types, import contracts, tests on SQLite and PostgreSQL.

PostgreSQL runs when it is reachable at 127.0.0.1:5432 (user postgres); with
JOULE_REQUIRE_POSTGRES=1 (CI) an unreachable PostgreSQL is a failure, not a skip.

The two test runs go at the same time, spread over pytest-xdist workers: JOULE_TEST_WORKERS
for SQLite (default 2), JOULE_TEST_PG_WORKERS for PostgreSQL (default 3). Much of the suite
waits on sockets, timers, subprocesses and the database server, so five workers keep a 2-core
machine busy. Each run writes to its own log, printed whole when it ends;
the check fails if either run fails, "no tests ran" (pytest exit 5) included.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run(title: str, cmd: list[str], env: dict[str, str] | None = None) -> None:
    print(f"\n=== {title}: {' '.join(cmd)}", flush=True)
    started = time.monotonic()
    code = subprocess.call(cmd, cwd=ROOT, env={**os.environ, **(env or {})})
    print(f"=== {title}: exit {code} in {time.monotonic() - started:.1f} s", flush=True)
    if code != 0:
        sys.exit(code)


@dataclass
class Background:
    """A command running with its output in a file of its own."""

    title: str
    cmd: list[str]
    process: subprocess.Popen[bytes]
    log: IO[bytes]
    scratch: Path
    started: float


def start(title: str, cmd: list[str], env: dict[str, str]) -> Background:
    scratch = Path(tempfile.mkdtemp(prefix=f"joule-check-{env['JOULE_TEST_DB']}-"))
    log = open(scratch / "output.log", "w+b")  # noqa: SIM115 - closed in finish()
    # Each run its own pytest base temp directory: two sessions never clean up each other's.
    cmd = [*cmd, f"--basetemp={scratch / 'tmp'}"]
    print(f"=== {title}: started: {' '.join(cmd)}", flush=True)
    process = subprocess.Popen(
        cmd, cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
    )
    return Background(title, cmd, process, log, scratch, time.monotonic())


def finish(job: Background) -> int:
    code = job.process.wait()
    elapsed = time.monotonic() - job.started
    job.log.seek(0)
    print(f"\n=== {job.title}: {' '.join(job.cmd)}", flush=True)
    sys.stdout.buffer.write(job.log.read())
    sys.stdout.flush()
    job.log.close()
    print(f"=== {job.title}: exit {code} in {elapsed:.1f} s", flush=True)
    if code == 0:
        shutil.rmtree(job.scratch, ignore_errors=True)
    else:
        print(f"=== {job.title}: its temporary files are kept in {job.scratch}", flush=True)
    return code


def postgres_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=2):
            return True
    except OSError:
        return False


def main() -> None:
    run("format", [str(BIN / "ruff"), "format", "--check", "src", "tests", "scripts"])
    run("lint", [str(BIN / "ruff"), "check", "src", "tests", "scripts"])
    run("types", [str(BIN / "mypy")])
    run("contracts", [str(BIN / "lint-imports")])
    with_postgres = postgres_reachable()
    if not with_postgres and os.environ.get("JOULE_REQUIRE_POSTGRES") == "1":
        print("PostgreSQL is required (JOULE_REQUIRE_POSTGRES=1) but 127.0.0.1:5432 is unreachable")
        sys.exit(1)
    pytest = [str(BIN / "pytest"), "-q", "-p", "no:cacheprovider", "--durations=15", "-n"]
    workers = os.environ.get("JOULE_TEST_WORKERS", "2")
    jobs = [start("tests on SQLite", [*pytest, workers], {"JOULE_TEST_DB": "sqlite"})]
    if with_postgres:
        # A PostgreSQL test waits more (its own database, cloned and dropped): one worker more.
        pg_workers = os.environ.get("JOULE_TEST_PG_WORKERS", "3")
        jobs.append(
            start("tests on PostgreSQL", [*pytest, pg_workers], {"JOULE_TEST_DB": "postgres"})
        )
    try:
        codes = [finish(job) for job in jobs]
    except BaseException:
        for job in jobs:
            if job.process.poll() is None:
                job.process.terminate()
        raise
    if not with_postgres:
        print("\n=== PostgreSQL not reachable at 127.0.0.1:5432: the PostgreSQL run was skipped")
    failed = [code for code in codes if code != 0]
    if failed:
        sys.exit(failed[0])


if __name__ == "__main__":
    main()
