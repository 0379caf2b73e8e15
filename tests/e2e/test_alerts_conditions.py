"""Alert conditions end to end on a Joule whose clock the test moves: offline, stuck transaction,
critical security event, firmware failure, boot loop — each raised, then resolved when it clears.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from joule.config import Settings
from joule.kit.clock import FixedClock, utc_iso
from joule.runtime import Joule
from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, api_client, ocpp_url
from tests.e2e.station import TestStation
from tests.e2e.test_charging_session import PASSWORD, add_station, add_token, eventually


class Clocked:
    """A running Joule, its movable clock and an admin client."""

    def __init__(self, joule: Joule, clock: FixedClock, api: httpx.AsyncClient) -> None:
        self.joule = joule
        self.clock = clock
        self.api = api

    async def later(self, **delta: float) -> None:
        """Move the clock and evaluate the rules at the new time."""
        self.clock.set(self.clock.now() + timedelta(**delta))
        assert self.joule.monitoring is not None
        await self.joule.monitoring.evaluator.evaluate()

    async def alerts(self, **filters: str) -> list[dict[str, Any]]:
        resp = await self.api.get("/alerts", params=filters)
        assert resp.status_code == 200, resp.text
        items: list[dict[str, Any]] = resp.json()["items"]
        return items

    async def states(self, station_id: str) -> dict[str, str]:
        """rule → state of the station's alerts."""
        return {a["rule"]: a["state"] for a in await self.alerts(station_id=station_id)}


@pytest.fixture
async def clocked(database_url: str) -> AsyncIterator[Clocked]:
    # Starts at the real time: JWTs and the stations' own timestamps are real-time based.
    clock = FixedClock(datetime.now(UTC))
    settings = Settings(
        host="127.0.0.1",
        http_port=0,
        ocpp_port=0,
        database_url=database_url,
        unknown_stations="reject",
        admin_email=ADMIN_EMAIL,
        admin_password=ADMIN_PASSWORD,
        jwt_secret="test-secret-test-secret-test-secret",
        jwt_ttl_s=7 * 24 * 3600,  # the clock jumps by a day
        alert_interval_s=3600,  # the tests evaluate explicitly after moving the clock
    )
    joule = Joule(settings, clock=clock)
    await joule.start()
    api = await api_client(joule)
    try:
        yield Clocked(joule, clock, api)
    finally:
        await api.aclose()
        await joule.stop()


async def connect(c: Clocked, sid: str, version: str = "1.6") -> TestStation:
    st = await TestStation.connect(
        ocpp_url(c.joule), sid, subprotocols=[f"ocpp{version}"], password=PASSWORD
    )
    if version == "1.6":
        await st.call("BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "M1"})
    else:
        await st.call(
            "BootNotification",
            {"reason": "PowerUp", "chargingStation": {"vendorName": "Acme", "model": "M2"}},
        )
    return st


async def test_offline_station_alert_resolves_on_reconnect(clocked: Clocked) -> None:
    c = clocked
    await add_station(c.api, "OFF-1")
    st = await connect(c, "OFF-1")
    await st.call("Heartbeat", {})
    await st.close()

    async def offline() -> bool:
        return not (await c.api.get("/stations/OFF-1")).json()["online"]

    await eventually(offline)
    await c.later(minutes=9)
    assert await c.states("OFF-1") == {}
    await c.later(minutes=2)
    assert await c.states("OFF-1") == {"station_offline": "open"}
    [alert] = await c.alerts(station_id="OFF-1")
    # The message names when the station went silent, so it does not change while it is open.
    seen = datetime.fromisoformat(alert["details"]["last_seen"])
    assert alert["message"] == f"OFF-1 offline since {seen:%Y-%m-%d %H:%M} UTC (over 10 min)"

    st = await connect(c, "OFF-1")
    await c.later(seconds=1)
    assert await c.states("OFF-1") == {"station_offline": "resolved"}
    await st.close()


async def test_threshold_edit_takes_effect(clocked: Clocked) -> None:
    c = clocked
    resp = await c.api.patch("/alert-rules/station_offline", json={"params": {"minutes": 2}})
    assert resp.status_code == 200, resp.text
    assert resp.json()["params"] == {"minutes": 2}
    await add_station(c.api, "OFF-2")
    st = await connect(c, "OFF-2")
    await st.close()
    await eventually(lambda: _offline(c, "OFF-2"))
    await c.later(minutes=3)
    assert await c.states("OFF-2") == {"station_offline": "open"}

    resp = await c.api.patch("/alert-rules/station_offline", json={"enabled": False})
    assert resp.json()["enabled"] is False
    await c.later(seconds=1)
    assert await c.states("OFF-2") == {"station_offline": "resolved"}


async def _offline(c: Clocked, sid: str) -> bool:
    return not (await c.api.get(f"/stations/{sid}")).json()["online"]


async def test_stuck_transaction_alert_resolves_with_meter_values(clocked: Clocked) -> None:
    c = clocked
    await add_station(c.api, "TX-1")
    await add_token(c.api, "TAG-1")
    st = await connect(c, "TX-1")
    started = await st.call(
        "StartTransaction",
        {
            "connectorId": 1,
            "idTag": "TAG-1",
            "meterStart": 1000,
            "timestamp": utc_iso(c.clock.now()),
        },
    )
    tx = started["transactionId"]
    await c.later(minutes=29)
    assert "transaction_no_meter_values" not in await c.states("TX-1")
    await c.later(minutes=2)
    await st.call("Heartbeat", {})  # keeps the station from looking silent
    assert (await c.states("TX-1")).get("transaction_no_meter_values") == "open"
    [alert] = await c.alerts(rule="transaction_no_meter_values")
    assert alert["target"] == f"TX-1/tx/{tx}"

    await st.call(
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": tx,
            "meterValue": [
                {
                    "timestamp": utc_iso(c.clock.now()),
                    "sampledValue": [
                        {
                            "value": "1500",
                            "measurand": "Energy.Active.Import.Register",
                            "unit": "Wh",
                        }
                    ],
                }
            ],
        },
    )
    await c.later(seconds=1)
    assert (await c.states("TX-1"))["transaction_no_meter_values"] == "resolved"
    await st.close()


async def test_critical_security_event_alert_expires_after_its_window(clocked: Clocked) -> None:
    c = clocked
    await add_station(c.api, "SEC-1")
    st = await connect(c, "SEC-1", "2.0.1")
    await st.call(
        "SecurityEventNotification",
        {"type": "TamperDetectionActivated", "timestamp": utc_iso(c.clock.now())},
    )
    await st.call(
        "SecurityEventNotification",
        {"type": "SettingSystemTimeFailed", "timestamp": utc_iso(c.clock.now())},
    )
    await c.later(seconds=1)
    [alert] = await c.alerts(station_id="SEC-1", rule="security_event")
    assert alert["state"] == "open"
    assert alert["severity"] == "critical"
    assert alert["details"]["type"] == "TamperDetectionActivated"
    await c.later(hours=25)
    [alert] = await c.alerts(station_id="SEC-1", rule="security_event")
    assert alert["state"] == "resolved"
    await st.close()


async def test_firmware_failure_and_boot_loop(clocked: Clocked) -> None:
    c = clocked
    await add_station(c.api, "FW-1")
    st = await connect(c, "FW-1")
    await st.call("FirmwareStatusNotification", {"status": "InstallationFailed"})
    for _ in range(4):
        await c.later(minutes=1)
        await st.call("BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "M1"})
    await c.later(seconds=1)
    states = await c.states("FW-1")
    assert states["firmware_failed"] == "open"
    assert states["boot_loop"] == "open"
    await st.call("FirmwareStatusNotification", {"status": "Installed"})
    await c.later(minutes=30)
    await st.call("Heartbeat", {})
    await c.later(seconds=1)
    states = await c.states("FW-1")
    assert states["firmware_failed"] == "resolved"
    assert states["boot_loop"] == "resolved"
    await st.close()
