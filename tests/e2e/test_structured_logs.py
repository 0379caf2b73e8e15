"""Issue 4: `joule serve --log-format json` writes one JSON object per line, with context bound.

A real `joule serve` subprocess, a real WebSocket station (Boot, a malformed frame, answers to
commands), real HTTP commands; then every line the process wrote on stdout and stderr is parsed.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import free_port
from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.e2e.station import TestStation
from tests.e2e.test_charging_session import PASSWORD, add_station
from tests.e2e.test_robustness_faults_restart import Served

JWT_SECRET = "log-test-jwt-secret-0123456789abcdef"
STATION = "CP-LOG-1"
NEW_KEY = "rotated-station-key-7731"  # a station password sent by ChangeConfiguration


async def serve_json(database_url: str, out: Path, err: Path) -> Served:
    """`joule serve --log-format json --log-level debug`, stdout and stderr kept apart."""
    http_port, ocpp_port = free_port(), free_port()
    env = {
        **os.environ,
        "JOULE_ADMIN_EMAIL": ADMIN_EMAIL,
        "JOULE_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "JOULE_JWT_SECRET": JWT_SECRET,
        "JOULE_UNKNOWN_STATIONS": "reject",
    }
    env.pop("JOULE_LOG_FORMAT", None)
    args = [
        *(sys.executable, "-m", "joule.cli.main", "serve", "--host", "127.0.0.1"),
        *("--http-port", str(http_port), "--ocpp-port", str(ocpp_port)),
        *("--database-url", database_url, "--log-format", "json", "--log-level", "debug"),
    ]
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            *args, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=stdout, stderr=stderr
        )
    served = Served(process, http_port, ocpp_port, err)
    deadline = asyncio.get_running_loop().time() + 60
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            if process.returncode is not None:
                raise AssertionError(f"joule serve exited:\n{_text(err)}")
            try:
                if (await client.get(f"{served.api_url}/health")).status_code == 200:
                    return served
            except httpx.TransportError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                process.kill()
                raise AssertionError("joule serve never became healthy")
            await asyncio.sleep(0.1)


def _text(path: Path) -> str:
    return path.read_text(errors="replace")


def parse_lines(*paths: Path) -> list[dict[str, Any]]:
    """Every non-empty line of the files as a JSON object; fails on the first that is not."""
    records = []
    for path in paths:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                raise AssertionError(f"{path.name}:{number} is not JSON: {line!r}") from None
            assert isinstance(record, dict), line
            records.append(record)
    return records


def having(records: list[dict[str, Any]], **fields: Any) -> list[dict[str, Any]]:
    """The records whose fields hold these values."""
    return [r for r in records if all(r.get(k) == v for k, v in fields.items())]


async def test_json_logs_bind_station_message_and_command(
    database_url: str, tmp_path: Path
) -> None:
    out, err = tmp_path / "stdout.log", tmp_path / "stderr.log"
    served = await serve_json(database_url, out, err)
    try:
        api = httpx.AsyncClient(base_url=served.api_url, timeout=15)
        token = (
            await api.post(
                "/auth/token", data={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
            )
        ).json()["access_token"]
        api.headers["Authorization"] = f"Bearer {token}"
        await add_station(api, STATION)

        st = await TestStation.connect(served.ocpp_url, STATION, password=PASSWORD)
        st.answers["Reset"] = lambda action, payload: {"status": "Accepted"}
        st.answers["ChangeConfiguration"] = lambda action, payload: {"status": "Accepted"}
        boot = await st.call(
            "BootNotification",
            {"chargePointVendor": "Joule", "chargePointModel": "LogTest"},
            message_id="boot-1",
        )
        assert boot["status"] == "Accepted"
        # A malformed CALL: the payload is not an object. CALLERROR, and the connection lives on.
        await st.send_raw('[2, "bad-1", "Heartbeat", "not-an-object"]')
        error = await st.expect_frame()
        assert isinstance(error, list) and error[:2] == [4, "bad-1"], error
        assert "currentTime" in await st.call("Heartbeat", {}, message_id="hb-1")

        reset = await api.post(
            f"/stations/{STATION}/reset", json={"type": "Soft"}, headers={"X-Request-ID": "rq-42"}
        )
        assert reset.status_code == 200, reset.text
        assert reset.headers["X-Request-ID"] == "rq-42"
        rotated = await api.post(
            f"/stations/{STATION}/configuration", json={"key": "AuthorizationKey", "value": NEW_KEY}
        )
        assert rotated.status_code == 200, rotated.text
        generated_id = rotated.headers["X-Request-ID"]
        audit = (await api.get(f"/stations/{STATION}/commands")).json()["items"]
        command_ids = {a["action"]: a["message_id"] for a in audit}
        await st.close()
        await api.aclose()
    finally:
        served.process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(served.process.wait(), 30) == 0

    records = parse_lines(out, err)
    text = _text(out) + _text(err)
    assert len(records) > 20

    # Shape: ts in ISO-8601 UTC, level, logger, event on every line.
    for r in records:
        assert {"ts", "level", "logger", "event"} <= r.keys(), r
        assert r["ts"].endswith("Z") and datetime.fromisoformat(r["ts"]).utcoffset() is not None
        assert r["level"] in ("debug", "info", "warning", "error", "critical"), r
    assert having(records, logger="joule.serve")[0]["event"].startswith("Joule is running")

    # The station connection's task: connect and disconnect lines carry the station id.
    connected = having(records, logger="joule.gateway.server", station_id=STATION)
    assert any("connected" in r["event"] for r in connected), connected
    assert any("disconnected" in r["event"] for r in connected), connected

    # Inbound CALL: the gateway's frame lines and the dispatcher's line in the group-commit
    # writer (another task: bound again there) carry station id, message id and action.
    boot_lines = having(records, message_id="boot-1", station_id=STATION)
    assert {r["logger"] for r in boot_lines} >= {
        "joule.gateway.connection",
        "joule.domain.dispatcher",
    }, boot_lines
    assert all(r["action"] == "BootNotification" for r in boot_lines), boot_lines

    # The malformed frame: an INFO line with the CALLERROR, its message id and the station.
    refused = having(records, message_id="bad-1", station_id=STATION, level="info")
    assert refused and "CALLERROR FormationViolation" in refused[0]["event"], refused

    # Commands: operator, command id (= the audit record's message id), request id, station.
    reset_line = having(records, logger="joule.domain.command.service", request_id="rq-42")
    assert reset_line, having(records, request_id="rq-42")
    assert reset_line[0]["operator"] == ADMIN_EMAIL
    assert reset_line[0]["command_id"] == command_ids["Reset"]
    assert reset_line[0]["station_id"] == STATION
    outbound = having(records, message_id=command_ids["Reset"], action="Reset")
    assert any(r["event"].startswith("out") and r.get("request_id") == "rq-42" for r in outbound)
    # The request's own DEBUG line: the operator bound when the bearer token was resolved.
    access = having(records, logger="joule.api.request_id", request_id="rq-42")
    assert access and access[0]["operator"] == ADMIN_EMAIL, access
    assert access[0]["event"].startswith(f"POST /api/v1/stations/{STATION}/reset 200 ")
    rotate_line = having(records, command_id=command_ids["ChangeConfiguration"])
    assert rotate_line and rotate_line[0]["request_id"] == generated_id

    # Never a secret: passwords, the Basic header, the bearer token, the JWT secret, a station
    # key sent by an operator.
    basic = base64.b64encode(f"{STATION}:{PASSWORD}".encode()).decode()
    for secret in (ADMIN_PASSWORD, PASSWORD, basic, token, JWT_SECRET, NEW_KEY):
        assert secret not in text, secret
