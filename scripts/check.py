"""The one check command: format, lint, types, import contracts, tests on SQLite and PostgreSQL.

PostgreSQL runs when it is reachable at 127.0.0.1:5432 (user postgres); with
JOULE_REQUIRE_POSTGRES=1 (CI) an unreachable PostgreSQL is a failure, not a skip.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run(title: str, cmd: list[str], env: dict[str, str] | None = None) -> None:
    print(f"\n=== {title}: {' '.join(cmd)}", flush=True)
    started = time.monotonic()
    code = subprocess.call(cmd, cwd=ROOT, env={**os.environ, **(env or {})})
    print(f"=== {title}: exit {code} in {time.monotonic() - started:.1f} s", flush=True)
    if code != 0:
        sys.exit(code)


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
    pytest = [str(BIN / "pytest"), "-q", "-p", "no:cacheprovider"]
    run("tests on SQLite", [*pytest], {"JOULE_TEST_DB": "sqlite"})
    if postgres_reachable():
        run("tests on PostgreSQL", [*pytest], {"JOULE_TEST_DB": "postgres"})
    elif os.environ.get("JOULE_REQUIRE_POSTGRES") == "1":
        print("PostgreSQL is required (JOULE_REQUIRE_POSTGRES=1) but 127.0.0.1:5432 is unreachable")
        sys.exit(1)
    else:
        print("\n=== PostgreSQL not reachable at 127.0.0.1:5432: the PostgreSQL run was skipped")


if __name__ == "__main__":
    main()
