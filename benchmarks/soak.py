"""Soak: a mixed-version simulated fleet against `joule serve` for minutes (issue 3, "Done when").

    .venv/bin/python benchmarks/soak.py --stations 1000 --minutes 10 [--database-url URL]

Starts `joule serve` (a fresh SQLite file unless --database-url), runs the fleet in this
process with sessions arriving (`demo` pattern: ~20 arrivals per EVSE-hour, 1.5–8 min dwell) and
meter values every 30 s, and sends remote commands through the API the whole time: start and
stop on a set of stations that have no traffic of their own, soft resets and trigger messages
on others. At the end it checks that the stations received no CALLERROR from Joule and that
every transaction the stations completed is in the database with exactly the energy they
metered; it prints one JSON summary (and exits 1 if a check failed).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from joule.simulator import PATTERNS, Fleet, FleetPlan, IdToken

ADMIN = ("soak@example.test", "soak-admin-password-1")
DRIVERS = [f"SOAK-{n:03d}" for n in range(50)]
CONFIG = {"MeterValueSampleInterval": "30", "MessageTimeout": "30"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_joule(database_url: str, log: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    ocpp, http = _free_port(), _free_port()
    env = {
        **os.environ,
        "JOULE_ADMIN_EMAIL": ADMIN[0],
        "JOULE_ADMIN_PASSWORD": ADMIN[1],
        "JOULE_LOG_LEVEL": "WARNING",
    }
    cmd = [sys.executable, "-m", "joule.cli.main", "serve", "--unknown-stations", "accept"]
    cmd += ["--ocpp-port", str(ocpp), "--http-port", str(http), "--database-url", database_url]
    with log.open("wb") as out:
        process = subprocess.Popen(cmd, env=env, stdout=out, stderr=out)
    api = f"http://127.0.0.1:{http}/api/v1"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            raise SystemExit(f"joule did not start: {log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.5)
    return process, f"ws://127.0.0.1:{ocpp}/ocpp", api


async def _transactions(api: httpx.AsyncClient, **query: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while True:
        resp = await api.get("/transactions", params={**query, "limit": 500, "offset": len(found)})
        resp.raise_for_status()
        page = resp.json()["items"]
        found += page
        if len(page) < 500:
            return found


class Commands:
    """Remote commands through the API, and what came of them."""

    def __init__(self, api: httpx.AsyncClient, fleet: Fleet, quiet: list[str]) -> None:
        self.api = api
        self.fleet = fleet
        self.quiet = quiet
        self.sent: dict[str, int] = {}
        self.refused: list[str] = []  # anything but 200 + Accepted: worth a look

    async def _post(self, path: str, body: dict[str, Any]) -> None:
        name = path.rsplit("/", 1)[1]
        self.sent[name] = self.sent.get(name, 0) + 1
        resp = await self.api.post(path, json=body)
        status = resp.json().get("status") if resp.status_code == 200 else None
        if status not in ("Accepted", None) or resp.status_code != 200:
            self.refused.append(f"{path} {resp.status_code} {resp.text[:200]}")

    async def run(self, until: float) -> None:
        rng = random.Random(3)
        while time.monotonic() < until:
            station_id = rng.choice(self.quiet)
            station = self.fleet[station_id]
            if station.online:
                if station.sessions():
                    items = await _transactions(self.api, station_id=station_id, status="active")
                    for item in items:
                        body = {"transaction_id": item["id"]}
                        await self._post(f"/stations/{station_id}/stop", body)
                else:
                    body = {"uid": rng.choice(DRIVERS), "evse_id": 1}
                    await self._post(f"/stations/{station_id}/start", body)
            busy = self.fleet[f"SOAK-{rng.randint(1, len(self.fleet) - len(self.quiet)):05d}"]
            if busy.online and rng.random() < 0.5:
                body = {"message": "StatusNotification"}
                await self._post(f"/stations/{busy.station_id}/trigger", body)
            elif busy.online and not busy.sessions() and rng.random() < 0.1:
                await self._post(f"/stations/{busy.station_id}/reset", {"type": "Soft"})
            await asyncio.sleep(1.0)


async def soak(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="joule-soak-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'joule.db'}"
    process, ocpp_url, api_url = _start_joule(database_url, workdir / "joule.log")
    started = time.monotonic()
    try:
        async with httpx.AsyncClient(base_url=api_url, timeout=60) as api:
            login = {"username": ADMIN[0], "password": ADMIN[1]}
            token = (await api.post("/auth/token", data=login)).json()["access_token"]
            api.headers["Authorization"] = f"Bearer {token}"
            for uid in DRIVERS:
                resp = await api.post("/tokens", json={"uid": uid, "max_concurrent": 1000})
                resp.raise_for_status()
            tokens = tuple(IdToken(uid) for uid in DRIVERS)
            quiet_count = max(4, args.stations // 20)
            busy = FleetPlan(
                stations=args.stations - quiet_count,
                prefix="SOAK",
                pattern=PATTERNS["demo"],
                tokens=tokens,
                config=CONFIG,
                seed=11,
            )
            # Stations without traffic of their own: the operator starts and stops them.
            quiet_pattern = dataclasses.replace(PATTERNS["demo"], arrivals_per_hour=0.0)
            quiet = dataclasses.replace(
                busy, stations=quiet_count, prefix="CMD", pattern=quiet_pattern
            )
            fleet = Fleet(ocpp_url, busy.specs() + quiet.specs(), tick_s=1.0)
            await fleet.start(ramp_s=args.ramp)
            await fleet.wait_booted(args.ramp + 120)
            booted_s = time.monotonic() - started
            commands = Commands(api, fleet, [s.station_id for s in quiet.specs()])
            await commands.run(time.monotonic() + args.minutes * 60)
            await fleet.stop()
            counters = fleet.counters()
            stored = {
                (t["station_id"], t["transaction_uid"]): t
                for t in await _transactions(api)
                if t["status"] == "completed"
            }
            metered = {(tx.station_id, tx.transaction_id): tx for tx in fleet.completed()}
            missing = sorted(set(metered) - set(stored))
            wrong = sorted(
                key
                for key, tx in metered.items()
                if key in stored and Decimal(stored[key]["energy_wh_exact"]) != tx.energy_wh
            )
            active_left = len(await _transactions(api, status="active"))
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(120)
    summary = {
        "stations": args.stations,
        "minutes": args.minutes,
        "database": "postgresql" if args.database_url else "sqlite",
        "booted_after_s": round(booted_s, 1),
        "counters": counters.to_dict(),
        "transactions_completed_by_stations": len(metered),
        "transactions_completed_in_db": len(stored),
        "missing_in_db": missing[:20],
        "energy_mismatches": wrong[:20],
        "active_left_in_db": active_left,
        "metered_wh_total": str(sum(tx.energy_wh for tx in metered.values())),
        "commands_sent": commands.sent,
        "commands_not_accepted": commands.refused[:20],
        "joule_exit_code": code,
        "loadavg": os.getloadavg(),
    }
    print(json.dumps(summary, indent=2, default=str))
    ok = (
        counters.callerrors_received == 0
        and counters.schema_failures == 0
        and not missing
        and not wrong
        and code == 0
    )
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--ramp", type=float, default=30, help="seconds to power the fleet up")
    parser.add_argument("--database-url", default=None)
    raise SystemExit(asyncio.run(soak(parser.parse_args())))


if __name__ == "__main__":
    main()
