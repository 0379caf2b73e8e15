"""A full charging session over real WebSockets and HTTP, for OCPP 1.6 and 2.0.1."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from joule.runtime import Joule
from tests.e2e.conftest import ocpp_url
from tests.e2e.station import TestStation

PASSWORD = "a-station-password-123"


async def add_station(
    api: httpx.AsyncClient, station_id: str, password: str | None = PASSWORD
) -> None:
    body: dict[str, Any] = {"id": station_id}
    if password is not None:
        body["password"] = password
    resp = await api.post("/stations", json=body)
    assert resp.status_code == 201, resp.text


async def add_token(api: httpx.AsyncClient, uid: str, status: str = "Accepted") -> None:
    resp = await api.post("/tokens", json={"uid": uid, "status": status})
    assert resp.status_code == 201, resp.text


async def station_view(api: httpx.AsyncClient, station_id: str) -> dict[str, Any]:
    resp = await api.get(f"/stations/{station_id}")
    assert resp.status_code == 200, resp.text
    data: dict[str, Any] = resp.json()
    return data


async def eventually(check: Any, timeout: float = 20.0) -> Any:
    """Poll an async predicate until it returns a truthy value.

    The wait is long because CI runs the SQLite and PostgreSQL suites side by side on two cores:
    event-driven background work (alerts, live pages, local lists) then takes seconds, not
    milliseconds. A condition that never holds still fails; it only fails later.
    """
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


def register(v: dict[str, Any], wh: int) -> dict[str, Any]:
    return {"measurand": "Energy.Active.Import.Register", "unit": "Wh", **v, "value": str(wh)}


async def test_full_session_ocpp16(joule: Joule, api: httpx.AsyncClient) -> None:
    await add_station(api, "CP16-1")
    await add_token(api, "TAG-OK")
    st = await TestStation.connect(
        ocpp_url(joule), "CP16-1", subprotocols=["ocpp1.6"], password=PASSWORD
    )
    assert st.subprotocol == "ocpp1.6"
    boot = await st.call(
        "BootNotification",
        {"chargePointVendor": "Acme", "chargePointModel": "AC22", "firmwareVersion": "1.2.3"},
    )
    assert (
        boot["status"] == "Accepted" and boot["interval"] > 0 and boot["currentTime"].endswith("Z")
    )
    view = await station_view(api, "CP16-1")
    assert view["online"] is True and view["ocpp_version"] == "1.6"
    assert (
        view["vendor"] == "Acme" and view["model"] == "AC22" and view["firmware_version"] == "1.2.3"
    )

    for cid in (0, 1):
        await st.call(
            "StatusNotification",
            {"connectorId": cid, "errorCode": "NoError", "status": "Available"},
        )
    await st.call(
        "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Preparing"}
    )
    view = await station_view(api, "CP16-1")
    assert [(c["evse_id"], c["connector_id"], c["status"]) for c in view["connectors"]] == [
        (1, 1, "Preparing")
    ]

    auth = await st.call("Authorize", {"idTag": "TAG-OK"})
    assert auth["idTagInfo"]["status"] == "Accepted"
    start = await st.call(
        "StartTransaction",
        {
            "connectorId": 1,
            "idTag": "TAG-OK",
            "meterStart": 1000,
            "timestamp": "2026-11-28T08:00:00Z",
        },
    )
    assert start["idTagInfo"]["status"] == "Accepted"
    tx_id = start["transactionId"]
    await st.call(
        "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Charging"}
    )
    await st.call(
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": tx_id,
            "meterValue": [
                {
                    "timestamp": "2026-11-28T08:15:00Z",
                    "sampledValue": [
                        {
                            "value": "3500",
                            "measurand": "Energy.Active.Import.Register",
                            "unit": "Wh",
                        },
                        {"value": "11.0", "measurand": "Power.Active.Import", "unit": "kW"},
                    ],
                }
            ],
        },
    )
    resp = await api.get("/transactions", params={"station_id": "CP16-1", "status": "active"})
    assert resp.status_code == 200
    items = resp.json()["items"] if isinstance(resp.json(), dict) else resp.json()
    assert len(items) == 1 and items[0]["energy_wh"] == 2500  # live: latest register − start
    view = await station_view(api, "CP16-1")
    assert view["connectors"][0]["status"] == "Charging"

    await st.call(
        "StopTransaction",
        {
            "transactionId": tx_id,
            "meterStop": 7000,
            "timestamp": "2026-11-28T08:40:00Z",
            "reason": "EVDisconnected",
        },
    )
    resp = await api.get(f"/transactions/{items[0]['id']}")
    tx = resp.json()
    assert (
        tx["status"] == "completed"
        and tx["energy_wh"] == 6000
        and tx["stop_reason"] == "EVDisconnected"
    )
    assert tx["id_token"] == "TAG-OK" and tx["station_id"] == "CP16-1"
    power = [m for m in tx["meter_values"] if m["measurand"] == "Power.Active.Import"]
    assert power and power[0]["unit"] == "W" and float(power[0]["value"]) == 11000.0
    await st.close()
    await eventually(lambda: _offline(api, "CP16-1"))


async def _offline(api: httpx.AsyncClient, station_id: str) -> bool:
    return (await station_view(api, station_id))["online"] is False


async def test_full_session_ocpp201(joule: Joule, api: httpx.AsyncClient) -> None:
    await add_station(api, "CP201-1")
    await add_token(api, "TOKEN-201")
    st = await TestStation.connect(
        ocpp_url(joule), "CP201-1", subprotocols=["ocpp2.0.1"], password=PASSWORD
    )
    assert st.subprotocol == "ocpp2.0.1"
    boot = await st.call(
        "BootNotification",
        {
            "reason": "PowerUp",
            "chargingStation": {"vendorName": "Acme", "model": "DC50", "firmwareVersion": "2.0"},
        },
    )
    assert boot["status"] == "Accepted"
    await st.call(
        "StatusNotification",
        {
            "timestamp": "2026-11-28T08:00:00Z",
            "connectorStatus": "Available",
            "evseId": 1,
            "connectorId": 1,
        },
    )
    auth = await st.call("Authorize", {"idToken": {"idToken": "TOKEN-201", "type": "ISO14443"}})
    assert auth["idTokenInfo"]["status"] == "Accepted"
    base = {"transactionInfo": {"transactionId": "TX-201-A"}, "evse": {"id": 1, "connectorId": 1}}
    started = await st.call(
        "TransactionEvent",
        {
            **base,
            "eventType": "Started",
            "timestamp": "2026-11-28T08:01:00Z",
            "triggerReason": "Authorized",
            "seqNo": 0,
            "idToken": {"idToken": "TOKEN-201", "type": "ISO14443"},
            "meterValue": [
                {
                    "timestamp": "2026-11-28T08:01:00Z",
                    "sampledValue": [{"value": 20000, "context": "Transaction.Begin"}],
                }
            ],
        },
    )
    assert started["idTokenInfo"]["status"] == "Accepted"
    await st.call(
        "StatusNotification",
        {
            "timestamp": "2026-11-28T08:01:01Z",
            "connectorStatus": "Occupied",
            "evseId": 1,
            "connectorId": 1,
        },
    )
    await st.call(
        "TransactionEvent",
        {
            **base,
            "eventType": "Updated",
            "timestamp": "2026-11-28T08:11:00Z",
            "triggerReason": "MeterValuePeriodic",
            "seqNo": 1,
            "meterValue": [
                {
                    "timestamp": "2026-11-28T08:11:00Z",
                    "sampledValue": [
                        {
                            "value": 28.5,
                            "unitOfMeasure": {"unit": "kWh"},
                            "context": "Sample.Periodic",
                        }
                    ],
                }
            ],
        },
    )
    resp = await api.get("/transactions", params={"station_id": "CP201-1", "status": "active"})
    items = resp.json()["items"]
    assert len(items) == 1 and items[0]["energy_wh"] == 8500
    view = await station_view(api, "CP201-1")
    assert view["ocpp_version"] == "2.0.1" and view["connectors"][0]["status"] == "Occupied"
    await st.call(
        "TransactionEvent",
        {
            "transactionInfo": {"transactionId": "TX-201-A", "stoppedReason": "EVDisconnected"},
            "eventType": "Ended",
            "timestamp": "2026-11-28T08:30:00Z",
            "triggerReason": "EVCommunicationLost",
            "seqNo": 2,
            "meterValue": [
                {
                    "timestamp": "2026-11-28T08:30:00Z",
                    "sampledValue": [{"value": 35000, "context": "Transaction.End"}],
                }
            ],
        },
    )
    tx = (await api.get(f"/transactions/{items[0]['id']}")).json()
    assert (
        tx["status"] == "completed"
        and tx["energy_wh"] == 15000
        and tx["stop_reason"] == "EVDisconnected"
    )
    assert tx["transaction_uid"] == "TX-201-A"
    await st.close()


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_tokens_known_unknown_blocked(
    joule: Joule, api: httpx.AsyncClient, version: str
) -> None:
    sid = f"CP-TOK-{version}"
    await add_station(api, sid)
    await add_token(api, "GOOD")
    await add_token(api, "BAD", status="Blocked")
    st = await TestStation.connect(
        ocpp_url(joule), sid, subprotocols=[f"ocpp{version}"], password=PASSWORD
    )
    if version == "1.6":
        await st.call("BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "M"})
        results = [
            (await st.call("Authorize", {"idTag": t}))["idTagInfo"]["status"]
            for t in ("GOOD", "NOPE", "BAD")
        ]
        start = await st.call(
            "StartTransaction",
            {
                "connectorId": 1,
                "idTag": "BAD",
                "meterStart": 0,
                "timestamp": "2026-11-28T08:00:00Z",
            },
        )
        # C16 §4.8: the transaction exists (it has an id) even though the tag is refused.
        assert start["idTagInfo"]["status"] == "Blocked" and start["transactionId"] > 0
    else:
        await st.call(
            "BootNotification",
            {"reason": "PowerUp", "chargingStation": {"vendorName": "A", "model": "M"}},
        )
        results = [
            (await st.call("Authorize", {"idToken": {"idToken": t, "type": "ISO14443"}}))[
                "idTokenInfo"
            ]["status"]
            for t in ("GOOD", "NOPE", "BAD")
        ]
    assert results == ["Accepted", "Invalid", "Blocked"]
    await st.close()
