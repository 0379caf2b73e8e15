"""Measure Joule's server CPU per message for Heartbeat and a 10-sample MeterValues (full path).

Starts `joule serve` as a subprocess on a fresh database, connects N stations over loopback,
keeps one CALL outstanding per station (the OCPP rule) for a fixed time, and reads the server
process's CPU time from /proc. Prints µs of server CPU per message and msg/s.

    .venv/bin/python scripts/measure_path.py [--stations 50] [--seconds 10] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from websockets.asyncio.client import connect


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def meter_values(tx: int, i: int) -> dict[str, object]:
    sampled = [
        {"value": str(1000 + i), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
        {"value": "7200", "measurand": "Power.Active.Import", "unit": "W"},
    ]
    for phase in ("L1", "L2", "L3"):
        sampled.append(
            {"value": "10.0", "measurand": "Current.Import", "unit": "A", "phase": phase}
        )
        sampled.append({"value": "230.1", "measurand": "Voltage", "unit": "V", "phase": phase})
    sampled.append({"value": "55", "measurand": "SoC", "unit": "Percent"})
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return {
        "connectorId": 1,
        "transactionId": tx,
        "meterValue": [{"timestamp": stamp, "sampledValue": sampled}],
    }


async def station(url: str, sid: str, action: str, stop_at: float, counts: list[int]) -> None:
    async with connect(f"{url}/{sid}", subprotocols=["ocpp1.6"], ping_interval=None) as ws:  # type: ignore[list-item]
        n = 0

        async def call(act: str, payload: dict[str, object]) -> list[object]:
            nonlocal n
            n += 1
            await ws.send(json.dumps([2, str(n), act, payload]))
            frame: list[object] = json.loads(await ws.recv())
            if frame[0] != 3:
                raise RuntimeError(f"{act}: {frame}")
            return frame

        await call("BootNotification", {"chargePointVendor": "Bench", "chargePointModel": "B"})
        tx = 0
        if action == "MeterValues":
            frame = await call(
                "StartTransaction",
                {
                    "connectorId": 1,
                    "idTag": "BENCH",
                    "meterStart": 0,
                    "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ"),
                },
            )
            tx = int(frame[2]["transactionId"])  # type: ignore[index]
        counts.append(0)
        idx = len(counts) - 1
        await asyncio.sleep(max(0.0, stop_at - 1e9))  # no-op: all start together below
        while time.monotonic() < stop_at:
            await call(action, {} if action == "Heartbeat" else meter_values(tx, counts[idx]))
            counts[idx] += 1


async def measure(
    url: str, pid: int, action: str, stations: int, seconds: float
) -> tuple[int, float]:
    counts: list[int] = []
    warm = time.monotonic() + 2
    await asyncio.gather(
        *(station(url, f"W{action[:2]}{i}", action, warm, []) for i in range(stations))
    )
    cpu0 = cpu_seconds(pid)
    stop_at = time.monotonic() + seconds
    await asyncio.gather(
        *(station(url, f"S{action[:2]}{i}", action, stop_at, counts) for i in range(stations))
    )
    return sum(counts), cpu_seconds(pid) - cpu0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stations", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--database-url", default=None)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="joule-measure-")
    db = args.database_url or f"sqlite:///{tmp}/joule.db"
    ocpp, http = free_port(), free_port()
    env = {**os.environ, "JOULE_UNKNOWN_STATIONS": "accept", "JOULE_LOG_LEVEL": "WARNING"}
    prof = os.environ.get("JOULE_PROFILE")
    pre = ["-m", "cProfile", "-o", prof] if prof else []
    cmd = [
        sys.executable,
        *pre,
        "-m",
        "joule.cli.main",
        "serve",
        "--ocpp-port",
        str(ocpp),
        "--http-port",
        str(http),
        "--database-url",
        db,
    ]
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                with socket.create_connection(("127.0.0.1", ocpp), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        url = f"ws://127.0.0.1:{ocpp}/ocpp"
        for action in os.environ.get("JOULE_ACTIONS", "Heartbeat,MeterValues").split(","):
            n, cpu = asyncio.run(measure(url, proc.pid, action, args.stations, args.seconds))
            rate = n / args.seconds
            per_msg = cpu / max(n, 1) * 1e6
            print(
                f"{action:12s} {n:7d} msgs in {args.seconds:.0f} s = {rate:8.0f} msg/s; "
                f"server CPU {cpu:.2f} s = {per_msg:7.1f} µs/msg ({db.split(':')[0]})"
            )
    finally:
        proc.terminate()
        proc.wait(timeout=20)


if __name__ == "__main__":
    main()
