"""Operator commands travel API → core → gateway → station and come back with its answer."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from joule.ocpp.validation import validate
from joule.ocpp.versions import OcppVersion
from joule.runtime import Joule
from tests.e2e.conftest import ocpp_url
from tests.e2e.station import TestStation
from tests.e2e.test_charging_session import PASSWORD, add_station, add_token


async def booted(joule: Joule, api: httpx.AsyncClient, sid: str, version: str) -> TestStation:
    await add_station(api, sid)
    st = await TestStation.connect(
        ocpp_url(joule), sid, subprotocols=[f"ocpp{version}"], password=PASSWORD
    )
    if version == "1.6":
        await st.call("BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "M"})
    else:
        await st.call(
            "BootNotification",
            {"reason": "PowerUp", "chargingStation": {"vendorName": "A", "model": "M"}},
        )
    return st


def accept(status: str = "Accepted") -> Any:
    return lambda action, payload: {"status": status}


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_every_basic_command_reaches_the_station(
    joule: Joule, api: httpx.AsyncClient, version: str
) -> None:
    sid = f"CMD-{version}"
    st = await booted(joule, api, sid, version)
    await add_token(api, "REMOTE-1")
    v = OcppVersion(version)
    for action in (
        "RemoteStartTransaction",
        "RequestStartTransaction",
        "RemoteStopTransaction",
        "RequestStopTransaction",
        "Reset",
        "UnlockConnector",
        "ChangeAvailability",
        "TriggerMessage",
        "ChangeConfiguration",
    ):
        st.answers[action] = accept()
    st.answers["UnlockConnector"] = lambda a, p: {"status": "Unlocked"}
    st.answers["GetConfiguration"] = lambda a, p: {
        "configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "300"}]
    }
    st.answers["GetVariables"] = lambda a, p: {
        "getVariableResult": [
            {
                "attributeStatus": "Accepted",
                "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "HeartbeatInterval"},
                "attributeValue": "300",
            }
        ]
    }
    st.answers["SetVariables"] = lambda a, p: {
        "setVariableResult": [
            {
                "attributeStatus": "Accepted",
                "component": p["setVariableData"][0]["component"],
                "variable": p["setVariableData"][0]["variable"],
            }
        ]
    }

    r = await api.post(f"/stations/{sid}/start", json={"uid": "REMOTE-1", "evse_id": 1})
    assert r.status_code == 200 and r.json()["status"] == "Accepted", r.text
    r = await api.post(
        f"/stations/{sid}/reset", json={"type": "Hard" if version == "1.6" else "Immediate"}
    )
    assert r.status_code == 200 and r.json() == {"status": "Accepted"}
    # The contract's cross-version names are translated (Soft ↔ OnIdle).
    r = await api.post(f"/stations/{sid}/reset", json={"type": "Soft"})
    assert r.status_code == 200
    r = await api.post(f"/stations/{sid}/unlock", json={"evse_id": 1, "connector_id": 1})
    assert r.status_code == 200 and r.json()["status"] == "Unlocked"
    r = await api.post(f"/stations/{sid}/availability", json={"operative": False, "evse_id": 1})
    assert r.status_code == 200 and r.json()["status"] == "Accepted"
    r = await api.post(
        f"/stations/{sid}/trigger", json={"message": "StatusNotification", "evse_id": 1}
    )
    assert r.status_code == 200 and r.json()["status"] == "Accepted"
    r = await api.post(f"/stations/{sid}/configuration", json={})
    assert r.status_code == 200, r.text
    r = await api.post(
        f"/stations/{sid}/configuration",
        json={
            "key": "OCPPCommCtrlr.HeartbeatInterval" if version != "1.6" else "HeartbeatInterval",
            "value": "120",
        },
    )
    assert r.status_code == 200, r.text
    received = {c[2]: c[3] for c in st.received_calls}
    if version == "1.6":
        assert received["RemoteStartTransaction"] == {"connectorId": 1, "idTag": "REMOTE-1"}
        assert received["Reset"] == {"type": "Soft"}
        assert received["ChangeAvailability"] == {"connectorId": 1, "type": "Inoperative"}
        assert received["ChangeConfiguration"] == {"key": "HeartbeatInterval", "value": "120"}
    else:
        assert received["RequestStartTransaction"]["idToken"]["idToken"] == "REMOTE-1"
        assert received["RequestStartTransaction"]["evseId"] == 1
        assert received["Reset"]["type"] == "OnIdle"
        assert received["ChangeAvailability"]["operationalStatus"] == "Inoperative"
        assert (
            received["SetVariables"]["setVariableData"][0]["variable"]["name"]
            == "HeartbeatInterval"
        )
    # Every CALL Joule sent validates against the official schema (both versions).
    for frame in st.received_calls:
        validate(v, frame[2], "request", frame[3])
    r = await api.get(f"/stations/{sid}/commands")
    assert (
        r.status_code == 200
        and len(r.json()["items"] if isinstance(r.json(), dict) else r.json()) >= 8
    )
    await st.close()


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_remote_stop_maps_our_transaction_id(
    joule: Joule, api: httpx.AsyncClient, version: str
) -> None:
    sid = f"STOP-{version}"
    st = await booted(joule, api, sid, version)
    await add_token(api, "T-STOP")
    if version == "1.6":
        start = await st.call(
            "StartTransaction",
            {
                "connectorId": 1,
                "idTag": "T-STOP",
                "meterStart": 0,
                "timestamp": "2026-11-28T08:00:00Z",
            },
        )
        station_tx: Any = start["transactionId"]
        st.answers["RemoteStopTransaction"] = accept()
    else:
        station_tx = "UID-STOP-1"
        await st.call(
            "TransactionEvent",
            {
                "eventType": "Started",
                "timestamp": "2026-11-28T08:00:00Z",
                "triggerReason": "Authorized",
                "seqNo": 0,
                "transactionInfo": {"transactionId": station_tx},
                "idToken": {"idToken": "T-STOP", "type": "ISO14443"},
                "evse": {"id": 1, "connectorId": 1},
            },
        )
        st.answers["RequestStopTransaction"] = accept()
    items = (await api.get("/transactions", params={"station_id": sid})).json()["items"]
    r = await api.post(f"/stations/{sid}/stop", json={"transaction_id": items[0]["id"]})
    assert r.status_code == 200 and r.json()["status"] == "Accepted", r.text
    sent = next(
        c for c in st.received_calls if c[2] in ("RemoteStopTransaction", "RequestStopTransaction")
    )
    assert sent[3] == {"transactionId": station_tx}
    await st.close()


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_rejected_timeout_callerror_offline(
    joule: Joule, api: httpx.AsyncClient, version: str
) -> None:
    sid = f"REJ-{version}"
    st = await booted(joule, api, sid, version)
    st.answers["Reset"] = accept("Rejected")
    r = await api.post(f"/stations/{sid}/reset", json={"type": "Soft"})
    assert r.status_code == 200 and r.json() == {"status": "Rejected"}
    # A station that answers with a CALLERROR: 502 with its code, never 500.
    r = await api.post(f"/stations/{sid}/unlock", json={"evse_id": 1, "connector_id": 1})
    assert r.status_code == 502 and "NotImplemented" in r.text
    # Q5: a station that stops answering: 504 after the call timeout, connection still usable.
    st.silent = True
    r = await api.post(f"/stations/{sid}/reset", json={"type": "Soft"})
    assert r.status_code == 504, r.text
    st.silent = False
    r = await api.post(f"/stations/{sid}/reset", json={"type": "Soft"})
    assert r.status_code == 200
    await st.close()
    await asyncio.sleep(0.2)
    r = await api.post(f"/stations/{sid}/reset", json={"type": "Soft"})
    assert r.status_code == 409 and "not connected" in r.json()["detail"]
    r = await api.post("/stations/NO-SUCH-STATION/reset", json={"type": "Soft"})
    assert r.status_code == 404


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_raw_ocpp_and_validation_before_sending(
    joule: Joule, api: httpx.AsyncClient, version: str
) -> None:
    sid = f"RAW-{version}"
    st = await booted(joule, api, sid, version)
    st.answers["ClearCache"] = accept()
    r = await api.post(f"/stations/{sid}/ocpp/ClearCache", json={})
    assert r.status_code == 200 and r.json() == {"response": {"status": "Accepted"}}
    bad_profile: dict[str, Any] = (
        {"connectorId": 1, "csChargingProfiles": {"chargingProfileId": "x"}}
        if version == "1.6"
        else {"evseId": 1, "chargingProfile": {"id": "x"}}
    )
    r = await api.post(f"/stations/{sid}/ocpp/SetChargingProfile", json=bad_profile)
    assert r.status_code == 422
    r = await api.post(f"/stations/{sid}/ocpp/NoSuchAction", json={})
    assert r.status_code == 422
    assert not any(c[2] == "SetChargingProfile" for c in st.received_calls)  # never sent
    await st.close()


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_one_outstanding_call_per_station(
    joule: Joule, api: httpx.AsyncClient, version: str
) -> None:
    """Scenario 15: concurrent commands go one at a time; each gets its own answer."""
    sid = f"SEQ-{version}"
    st = await booted(joule, api, sid, version)
    outstanding = 0
    peak = 0

    async def slow(action: str, payload: dict[str, Any]) -> dict[str, Any]:
        nonlocal outstanding, peak
        outstanding += 1
        peak = max(peak, outstanding)
        await asyncio.sleep(0.2)
        outstanding -= 1
        return {"status": "Accepted"} if action != "UnlockConnector" else {"status": "Unlocked"}

    for action in ("Reset", "UnlockConnector", "ClearCache"):
        st.answers[action] = slow
    results = await asyncio.gather(
        api.post(f"/stations/{sid}/reset", json={"type": "Soft"}),
        api.post(f"/stations/{sid}/unlock", json={"evse_id": 1, "connector_id": 1}),
        api.post(f"/stations/{sid}/ocpp/ClearCache", json={}),
    )
    assert [r.status_code for r in results] == [200, 200, 200]
    assert results[1].json()["status"] == "Unlocked"
    assert peak == 1 and len(st.received_calls) == 3
    assert len({c[1] for c in st.received_calls}) == 3  # nothing sent twice
    await st.close()
