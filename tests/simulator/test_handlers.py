"""The station's answers to CSMS calls, per version: schema-valid, and doing what they say."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from joule.ocpp.errors import ErrorKind, OcppError
from joule.ocpp.versions import OcppVersion
from joule.simulator import device_model
from joule.simulator.effects import Status
from joule.simulator.handlers import VENDOR_ID
from joule.simulator.station import SimulatedStation
from tests.simulator.conftest import check, offline_station

SOON = "2026-05-01T19:00:00Z"
NEW_PASSWORD = "rotated-password-0123456"


async def answer(station: SimulatedStation, action: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Ask the station; both the request and its answer must match the official schemas."""
    check(station.version, action, "request", payload)
    reply = await station.handle_call(action, payload)
    check(station.version, action, "response", reply.payload)
    return reply.payload


def tx_default(version: OcppVersion, limit: int, *, pid: int = 1) -> dict[str, Any]:
    schedule: dict[str, Any] = {
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
    }
    if version is OcppVersion.V16:
        return {
            "chargingProfileId": pid,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": schedule,
        }
    return {
        "id": pid,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": [{"id": 1, **schedule}],
    }


async def test_v16_configuration_keys() -> None:
    st, _ = offline_station(OcppVersion.V16)
    everything = await answer(st, "GetConfiguration", {})
    keys = {item["key"] for item in everything["configurationKey"]}
    assert {"HeartbeatInterval", "MeterValueSampleInterval", "NumberOfConnectors"} <= keys
    assert "AuthorizationKey" not in keys  # write-only: never read back
    some = await answer(st, "GetConfiguration", {"key": ["HeartbeatInterval", "Nope"]})
    assert some["unknownKey"] == ["Nope"]
    for key, value, expected in (
        ("HeartbeatInterval", "60", "Accepted"),
        ("HeartbeatInterval", "soon", "Rejected"),
        ("NumberOfConnectors", "9", "Rejected"),
        ("NoSuchKey", "1", "NotSupported"),
        ("AuthorizationKey", "short", "Rejected"),
        ("AuthorizationKey", "a-new-password-of-24chars", "Accepted"),
    ):
        assert (await answer(st, "ChangeConfiguration", {"key": key, "value": value}))[
            "status"
        ] == expected, key
    assert st.config.get_int("HeartbeatInterval") == 60
    assert st.config.get("AuthorizationKey") == "a-new-password-of-24chars"  # next connect


@pytest.mark.parametrize("version", [OcppVersion.V16, OcppVersion.V201, OcppVersion.V21], ids=str)
async def test_charging_profiles_and_composite_schedule(version: OcppVersion) -> None:
    st, _ = offline_station(version)
    set_action = "SetChargingProfile"
    if version is OcppVersion.V16:
        body: dict[str, Any] = {"connectorId": 0, "csChargingProfiles": tx_default(version, 10)}
        composite = {"connectorId": 2, "duration": 3600, "chargingRateUnit": "A"}
    else:
        body = {"evseId": 0, "chargingProfile": tx_default(version, 10)}
        composite = {"evseId": 2, "duration": 3600, "chargingRateUnit": "A"}
    assert (await answer(st, set_action, body))["status"] == "Accepted"
    schedule = await answer(st, "GetCompositeSchedule", composite)
    periods = (
        schedule["chargingSchedule"] if version is OcppVersion.V16 else schedule["schedule"]
    )["chargingSchedulePeriod"]
    assert periods == [{"startPeriod": 0, "limit": Decimal(10), "numberPhases": 3}]
    # A TxProfile without a running transaction is refused (K01.FR.09).
    tx = tx_default(version, 6, pid=2)
    tx["chargingProfilePurpose"] = "TxProfile"
    key = "csChargingProfiles" if version is OcppVersion.V16 else "chargingProfile"
    target = "connectorId" if version is OcppVersion.V16 else "evseId"
    assert (await answer(st, set_action, {target: 1, key: tx}))["status"] == "Rejected"
    # The power follows: an EV on EVSE 2 (AC 32 A three-phase) now draws 10 A.
    st.plug_in(2, ev="suv", soc=20)
    st.chargepoint.auth.update_list(2, "Full", {"TAG-1": "Accepted"})
    assert await st.present_token(2, "TAG-1")
    assert st.chargepoint.evses[2].meter.draw.power_w == Decimal(230 * 10 * 3)
    clear = {"chargingProfileId": 1} if version is not OcppVersion.V16 else {"id": 1}
    assert (await answer(st, "ClearChargingProfile", clear))["status"] == "Accepted"
    assert st.chargepoint.evses[2].meter.draw.power_w == Decimal(230 * 32 * 3)
    assert (await answer(st, "ClearChargingProfile", clear))["status"] == "Unknown"


async def test_v16_remote_start_stop_reservation_and_availability() -> None:
    st, _ = offline_station(OcppVersion.V16)
    st.fault(1, "GroundFailure")
    assert (await answer(st, "RemoteStartTransaction", {"idTag": "X", "connectorId": 1}))[
        "status"
    ] == "Rejected"
    assert (await answer(st, "RemoteStopTransaction", {"transactionId": 42}))["status"] == (
        "Rejected"
    )
    reserve = {"connectorId": 2, "expiryDate": SOON, "idTag": "OWNER", "reservationId": 5}
    assert (await answer(st, "ReserveNow", reserve))["status"] == "Accepted"
    assert st.chargepoint.evses[2].status is Status.RESERVED
    assert (await answer(st, "CancelReservation", {"reservationId": 5}))["status"] == "Accepted"
    assert (await answer(st, "CancelReservation", {"reservationId": 5}))["status"] == "Rejected"
    off = {"connectorId": 0, "type": "Inoperative"}
    assert (await answer(st, "ChangeAvailability", off))["status"] == "Accepted"
    assert st.chargepoint.evses[2].status is Status.UNAVAILABLE
    assert (await answer(st, "UnlockConnector", {"connectorId": 9}))["status"] == "NotSupported"
    assert (await answer(st, "UnlockConnector", {"connectorId": 2}))["status"] == "Unlocked"


@pytest.mark.parametrize("version", [OcppVersion.V16, OcppVersion.V201], ids=str)
async def test_local_list_cache_data_transfer_and_triggers(version: OcppVersion) -> None:
    st, _ = offline_station(version)
    if version is OcppVersion.V16:
        entry: dict[str, Any] = {"idTag": "A", "idTagInfo": {"status": "Accepted"}}
        full = {"listVersion": 5, "updateType": "Full", "localAuthorizationList": [entry]}
        stale = {"listVersion": 4, "updateType": "Differential"}
        version_key = "listVersion"
    else:
        entry = {
            "idToken": {"idToken": "A", "type": "ISO14443"},
            "idTokenInfo": {"status": "Accepted"},
        }
        full = {"versionNumber": 5, "updateType": "Full", "localAuthorizationList": [entry]}
        stale = {"versionNumber": 4, "updateType": "Differential"}
        version_key = "versionNumber"
    assert (await answer(st, "SendLocalList", full))["status"] == "Accepted"
    assert (await answer(st, "SendLocalList", stale))["status"] == "VersionMismatch"
    assert (await answer(st, "GetLocalListVersion", {}))[version_key] == 5
    assert st.chargepoint.auth.lookup("a") == "Accepted"
    assert (await answer(st, "ClearCache", {}))["status"] == "Accepted"
    echo = await answer(st, "DataTransfer", {"vendorId": VENDOR_ID, "data": "ping"})
    assert echo == {"status": "Accepted", "data": "ping"}
    other = await answer(st, "DataTransfer", {"vendorId": "com.example"})
    assert other["status"] == "UnknownVendorId"
    for message in ("StatusNotification", "MeterValues", "Heartbeat"):
        assert (await answer(st, "TriggerMessage", {"requestedMessage": message}))["status"] == (
            "Accepted"
        )


async def test_v2x_variables_and_reports() -> None:
    st, _ = offline_station(OcppVersion.V201)

    def item(component: str, variable: str, **extra: Any) -> dict[str, Any]:
        return {"component": {"name": component}, "variable": {"name": variable}, **extra}

    got = await answer(
        st,
        "GetVariables",
        {
            "getVariableData": [
                item("OCPPCommCtrlr", "HeartbeatInterval"),
                item("SecurityCtrlr", "BasicAuthPassword"),
                item("NoSuchCtrlr", "X"),
                item("OCPPCommCtrlr", "NoSuchVariable"),
                item("OCPPCommCtrlr", "HeartbeatInterval", attributeType="Target"),
            ]
        },
    )
    assert [r["attributeStatus"] for r in got["getVariableResult"]] == [
        "Accepted",
        "Rejected",
        "UnknownComponent",
        "UnknownVariable",
        "NotSupportedAttributeType",
    ]
    assert got["getVariableResult"][0]["attributeValue"] == "300"
    set_ = await answer(
        st,
        "SetVariables",
        {
            "setVariableData": [
                {**item("OCPPCommCtrlr", "HeartbeatInterval"), "attributeValue": "45"},
                {**item("SecurityCtrlr", "SecurityProfile"), "attributeValue": "3"},
                {**item("SecurityCtrlr", "BasicAuthPassword"), "attributeValue": NEW_PASSWORD},
            ]
        },
    )
    assert [r["attributeStatus"] for r in set_["setVariableResult"]] == [
        "Accepted",
        "Rejected",
        "Accepted",
    ]
    assert st.config.get_int("HeartbeatInterval") == 45
    assert st.config.get("AuthorizationKey") == NEW_PASSWORD
    assert (await answer(st, "GetBaseReport", {"requestId": 1, "reportBase": "FullInventory"}))[
        "status"
    ] == "Accepted"
    data = device_model.base_report(st.config, "FullInventory")
    for n, part in enumerate(device_model.chunks(data)):
        report = {
            "requestId": 1,
            "generatedAt": "2026-05-01T18:00:00Z",
            "seqNo": n,
            "tbc": False,
            "reportData": part,
        }
        check(OcppVersion.V201, "NotifyReport", "request", report)


async def test_v2x_transactions_reset_and_unlock() -> None:
    st, _ = offline_station(OcppVersion.V201)
    token = {"idToken": "TAG-1", "type": "ISO14443"}
    bad = {"evseId": 9, "remoteStartId": 1, "idToken": token}
    assert (await answer(st, "RequestStartTransaction", bad))["status"] == "Rejected"
    assert (await answer(st, "Reset", {"type": "OnIdle"}))["status"] == "Accepted"
    st.plug_in(1, ev="compact")
    assert await st.present_token(1, "TAG-1")
    session = st.sessions()[0]
    status = await answer(st, "GetTransactionStatus", {"transactionId": session.transaction_id})
    assert status == {"ongoingIndicator": True, "messagesInQueue": True}  # offline: queued
    assert (await answer(st, "Reset", {"type": "OnIdle"}))["status"] == "Scheduled"
    unlock = {"evseId": 1, "connectorId": 1}
    assert (await answer(st, "UnlockConnector", unlock))["status"] == (
        "OngoingAuthorizedTransaction"
    )
    stop = {"transactionId": session.transaction_id}
    assert (await answer(st, "RequestStopTransaction", stop))["status"] == "Accepted"
    assert st.sessions() == []
    assert (await answer(st, "UnlockConnector", unlock))["status"] == "Unlocked"
    assert (await answer(st, "CostUpdated", {"totalCost": 1.5, "transactionId": "x"})) == {}


async def test_an_action_the_station_does_not_implement_is_not_supported() -> None:
    st, _ = offline_station(OcppVersion.V201)
    with pytest.raises(OcppError) as raised:
        await st.handle_call("SetNetworkProfile", {})
    assert raised.value.kind is ErrorKind.NOT_SUPPORTED
