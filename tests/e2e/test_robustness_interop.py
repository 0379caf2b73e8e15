"""Interop over real sockets (ocpp-robustness.md §3 and §6, scenarios 27 and 40).

Extra properties (Q25) in lenient and strict mode, and the tolerated payload quirks Q10–Q17:
each is acknowledged (no CALLERROR, so no retry loop), the normalised value is stored and visible
through the API, the raw frame is in the message log, and the station's quirk counters increase.
"""

from __future__ import annotations

from typing import Any

import httpx

from joule.runtime import Joule
from tests.e2e.conftest import MakeJoule, api_client, ocpp_url
from tests.e2e.station import CallErrorReceived, TestStation
from tests.e2e.test_charging_session import add_station, add_token, eventually, station_view
from tests.e2e.test_robustness_input import (
    BOOT,
    VERSIONS,
    assert_alive,
    assert_call_error,
    online_station,
    violation,
)

AT = "2026-11-28T08:00:00Z"


async def quirks_of(api: httpx.AsyncClient, station_id: str) -> dict[str, int]:
    """The station's tolerated-quirk counters (GET /stations/{id})."""
    quirks: dict[str, int] = (await station_view(api, station_id))["quirks"]
    return quirks


async def last_boot_payload(api: httpx.AsyncClient, station_id: str) -> dict[str, Any]:
    resp = await api.get(f"/stations/{station_id}/boots")
    assert resp.status_code == 200, resp.text
    payload: dict[str, Any] = resp.json()["items"][0]["payload"]
    return payload


# --- 27: extra properties ------------------------------------------------------------------

CUSTOM = {"vendorId": "com.example", "anything": {"goes": [1, 2, 3]}}  # P4 §9: left open


def boot_with_extras(version: str) -> dict[str, Any]:
    """A BootNotification with an unknown property at the top level and one nested."""
    if version == "1.6":
        return {**BOOT["1.6"], "foo": "top"}  # 1.6 BootNotification has no nested object
    station = {**BOOT["2.0.1"]["chargingStation"], "bar": "nested"}
    return {**BOOT["2.0.1"], "chargingStation": station, "foo": "top"}


def meter_values_with_nested_extra(version: str) -> dict[str, Any]:
    """MeterValues with an unknown property inside a sampledValue."""
    if version == "1.6":
        sample: dict[str, Any] = {"value": "10", "measurand": "Voltage", "unit": "V"}
        payload = {"connectorId": 1, "meterValue": [{"timestamp": AT, "sampledValue": [sample]}]}
    else:
        sample = {"value": 10, "measurand": "Voltage", "unitOfMeasure": {"unit": "V"}}
        payload = {"evseId": 1, "meterValue": [{"timestamp": AT, "sampledValue": [sample]}]}
    sample["baz"] = "deep"  # 1.6 has nested objects only in transaction messages
    return payload


def boot_with_custom_data() -> dict[str, Any]:
    """A 2.0.1 BootNotification carrying customData at the top level and nested."""
    station = {**BOOT["2.0.1"]["chargingStation"], "customData": CUSTOM}
    return {**BOOT["2.0.1"], "chargingStation": station, "customData": CUSTOM}


async def test_s27_lenient_by_default_strict_per_station(
    joule: Joule, api: httpx.AsyncClient
) -> None:
    assert joule.settings.strict_extra_properties is False
    for version in VERSIONS:
        sid = f"S27-LENIENT-{version}"
        st = await online_station(joule, api, sid, version)
        assert await quirks_of(api, sid) == {}
        # Accepted, logged, stripped (Q25): what is stored does not carry the extras.
        boot = await st.call("BootNotification", boot_with_extras(version))
        assert boot["status"] == "Accepted"
        stored = await last_boot_payload(api, sid)
        assert "foo" not in stored
        if version != "1.6":
            assert "bar" not in stored["chargingStation"]
            assert stored["chargingStation"]["vendorName"] == "Acme"
        payload = meter_values_with_nested_extra(version)
        assert await st.call("MeterValues", payload) == {}
        assert (await quirks_of(api, sid)).get("extra_properties") == 2
        if version != "1.6":
            # customData is part of every 2.x schema: always accepted, kept, never a quirk.
            boot = await st.call("BootNotification", boot_with_custom_data())
            assert boot["status"] == "Accepted"
            stored = await last_boot_payload(api, sid)
            assert stored["customData"] == CUSTOM
            assert stored["chargingStation"]["customData"] == CUSTOM
            assert (await quirks_of(api, sid)).get("extra_properties") == 2
        await assert_alive(st)
        await st.close()
    # Per station: lenient=false makes one station strict while the CSMS default is lenient.
    for version in VERSIONS:
        sid = f"S27-STRICT-{version}"
        resp = await api.post("/stations", json={"id": sid, "lenient": False})
        assert resp.status_code == 201, resp.text
        st = await TestStation.connect(ocpp_url(joule), sid, subprotocols=[f"ocpp{version}"])
        await assert_strict(st, version)
        await st.close()


async def test_s27_strict_mode_globally_and_lenient_station(make_joule: MakeJoule) -> None:
    joule = await make_joule(strict_extra_properties=True)
    api = await api_client(joule)
    for version in VERSIONS:
        st = await online_station(joule, api, f"S27-GSTRICT-{version}", version)
        await assert_strict(st, version)
        await st.close()
        # Per station: lenient=true tolerates a known charger under a strict CSMS.
        sid = f"S27-GLENIENT-{version}"
        resp = await api.post("/stations", json={"id": sid, "lenient": True})
        assert resp.status_code == 201, resp.text
        st = await TestStation.connect(ocpp_url(joule), sid, subprotocols=[f"ocpp{version}"])
        boot = await st.call("BootNotification", boot_with_extras(version))
        assert boot["status"] == "Accepted"
        assert (await quirks_of(api, sid)).get("extra_properties") == 1
        await st.close()
    await api.aclose()


async def assert_strict(st: TestStation, version: str) -> None:
    """Strict mode: unknown properties are a FormatViolation (1.6 FormationViolation) with path."""
    frame = await st.call_frame("BootNotification", boot_with_extras(version))
    details = assert_call_error(frame, frame[1], violation(version))
    assert details["path"] in ("data.foo", "data.chargingStation.bar"), details
    if version != "1.6":
        # customData stays accepted in strict mode (P4 §9).
        boot = await st.call("BootNotification", boot_with_custom_data())
        assert boot["status"] == "Accepted"
    else:
        boot = await st.call("BootNotification", BOOT[version])
        assert boot["status"] == "Accepted"
    # Transaction data is never lost to strict mode (C16 §3.7.1: the station would retry, then
    # discard it): its extras are stripped, logged and counted instead of refused.
    payload = meter_values_with_nested_extra(version)
    assert await st.call("MeterValues", payload) == {}
    heartbeat = await st.call_frame("Heartbeat", {"uptime": 5})
    details = assert_call_error(heartbeat, heartbeat[1], violation(version))
    assert details["path"] == "data.uptime"
    await assert_alive(st)


# --- 40: tolerated payload quirks Q10–Q17 ----------------------------------------------------


def sample_16(value: Any, measurand: str, unit: str) -> dict[str, Any]:
    return {"value": value, "measurand": measurand, "unit": unit}


async def transaction(api: httpx.AsyncClient, tx_id: int) -> dict[str, Any]:
    resp = await api.get(f"/transactions/{tx_id}")
    assert resp.status_code == 200, resp.text
    detail: dict[str, Any] = resp.json()
    return detail


async def test_s40_tolerated_quirks_v16(joule: Joule, api: httpx.AsyncClient) -> None:
    sid = "S40-16"
    st = await online_station(joule, api, sid, "1.6")
    await add_token(api, "TAG-Q40")
    start = await st.call(
        "StartTransaction",
        {"connectorId": 1, "idTag": "TAG-Q40", "meterStart": 1000, "timestamp": AT},
    )
    tx_id = start["transactionId"]
    register = "Energy.Active.Import.Register"

    async def meter_values(at: str, samples: list[dict[str, Any]], tx: int = tx_id) -> None:
        reading = {"timestamp": at, "sampledValue": samples}
        payload = {"connectorId": 1, "transactionId": tx, "meterValue": [reading]}
        assert await st.call("MeterValues", payload) == {}  # acknowledged: no retry loop

    # Q10 both spellings, Q11 Hz, Q13 a number instead of a string.
    await meter_values(
        "2026-11-28T08:10:00Z",
        [
            sample_16(3500, register, "Wh"),  # Q13
            sample_16("21.5", "Temperature", "Celsius"),  # Q10 (1.6 errata spelling)
            sample_16("22.5", "Temperature", "Celcius"),  # Q10 (schema spelling)
            sample_16("50.1", "Frequency", "Hz"),  # Q11
        ],
    )
    # Q14: an empty sampledValue list (violates minItems) stores nothing.
    await meter_values("2026-11-28T08:11:00Z", [])
    # Q17: transactionId 0 during a running transaction: attached by connector and time.
    await meter_values("2026-11-28T08:20:00Z", [sample_16("4000", register, "Wh")], tx=0)
    # Q16: a register that suddenly reads 4.1 "Wh" is kWh labelled Wh: flagged, energy kept.
    await meter_values("2026-11-28T08:25:00Z", [sample_16("4.1", register, "Wh")])
    # Q12 an errorCode outside the enum, Q15 info longer than 50 characters.
    status = {"connectorId": 1, "errorCode": "Error", "status": "Faulted", "info": "i" * 80}
    assert await st.call("StatusNotification", status) == {}

    detail = await transaction(api, tx_id)
    values = {(m["measurand"], m["raw_value"]): m for m in detail["meter_values"]}
    assert values[(register, "3500")]["value"] == "3500"
    assert values[("Temperature", "21.5")]["unit"] == "Celsius"
    assert values[("Temperature", "22.5")]["unit"] == "Celsius"  # one spelling stored
    assert values[("Frequency", "50.1")]["unit"] == "Hz"
    assert values[(register, "4000")]["timestamp"].startswith("2026-11-28T08:20")
    assert (register, "4.1") in values  # stored as sent, not taken as the register
    assert detail["energy_wh"] == 3000  # 4000 − 1000: the Q16 reading did not reset the energy
    assert len(detail["meter_values"]) == 6  # nothing stored for the empty list
    connector = (await station_view(api, sid))["connectors"][0]
    assert (connector["status"], connector["error_code"]) == ("Faulted", "OtherError")
    assert connector["info"] == "i" * 50

    async def raw_kept() -> bool:
        # The raw frames are kept in the message log (written in batches), as the station sent them.
        resp = await api.get(f"/stations/{sid}/messages", params={"action": "StatusNotification"})
        frames = [m["frame"].replace(" ", "") for m in resp.json()["items"]]
        return any('"errorCode":"Error"' in f for f in frames)

    await eventually(raw_kept)

    async def counted() -> dict[str, int] | None:
        quirks = await quirks_of(api, sid)
        return quirks if len(quirks) >= 7 else None

    quirks = await eventually(counted)
    for name in (
        "numeric_value",
        "unit_hz",
        "empty_sampled_value",
        "transaction_id_zero",
        "kwh_labelled_wh",
        "unknown_error_code",
        "info_truncated",
    ):
        assert quirks.get(name, 0) >= 1, (name, quirks)
    await assert_alive(st)
    await st.close()
    await _quirks_are_not_a_licence_for_real_errors(joule, api)


async def test_s40_tolerated_quirks_v201(joule: Joule, api: httpx.AsyncClient) -> None:
    sid = "S40-201"
    st = await online_station(joule, api, sid, "2.0.1")
    await add_token(api, "TAG-Q40-2")

    def event(event_type: str, seq_no: int, at: str, **extra: Any) -> dict[str, Any]:
        return {
            "eventType": event_type,
            "timestamp": at,
            "triggerReason": "Authorized" if event_type == "Started" else "MeterValuePeriodic",
            "seqNo": seq_no,
            "transactionInfo": {"transactionId": "Q40-TX"},
            "evse": {"id": 1, "connectorId": 1},
            **extra,
        }

    register = {"measurand": "Energy.Active.Import.Register", "unitOfMeasure": {"unit": "Wh"}}
    started = event(
        "Started",
        0,
        AT,
        idToken={"idToken": "TAG-Q40-2", "type": "ISO14443"},
        meterValue=[{"timestamp": AT, "sampledValue": [{**register, "value": 1000}]}],
    )
    assert (await st.call("TransactionEvent", started))["idTokenInfo"]["status"] == "Accepted"
    # The 2.x mirror of Q13: a numeric value sent as a JSON string.
    at = "2026-11-28T08:10:00Z"
    as_text = [{"timestamp": at, "sampledValue": [{**register, "value": "2500"}]}]
    await st.call("TransactionEvent", event("Updated", 1, at, meterValue=as_text))
    # Q14 in a TransactionEvent and in MeterValues: acknowledged, nothing stored.
    at = "2026-11-28T08:11:00Z"
    empty = [{"timestamp": at, "sampledValue": []}]
    await st.call("TransactionEvent", event("Updated", 2, at, meterValue=empty))
    assert await st.call("MeterValues", {"evseId": 1, "meterValue": empty}) == {}
    resp = await api.get("/transactions", params={"station_id": sid})
    [tx] = resp.json()["items"] if isinstance(resp.json(), dict) else resp.json()
    detail = await transaction(api, tx["id"])
    assert sorted(m["value"] for m in detail["meter_values"]) == ["1000", "2500"]
    assert detail["energy_wh"] == 1500
    quirks = await quirks_of(api, sid)
    assert quirks.get("string_value", 0) >= 1 and quirks.get("empty_sampled_value", 0) >= 2, quirks
    # An empty list of readings (minItems 1) in the event that ends the transaction: the list is
    # left out and the end counts (a CALLERROR would have the station retry, then discard it).
    at = "2026-11-28T08:12:00Z"
    info = {"transactionId": "Q40-TX", "stoppedReason": "Local"}
    ended = event("Ended", 3, at, triggerReason="StopAuthorized", transactionInfo=info)
    assert await st.call("TransactionEvent", {**ended, "meterValue": []}) == {}
    detail = await transaction(api, tx["id"])
    assert detail["status"] == "completed" and detail["energy_wh"] == 1500, detail
    await assert_alive(st)
    await st.close()


async def _quirks_are_not_a_licence_for_real_errors(joule: Joule, api: httpx.AsyncClient) -> None:
    # Only the listed quirks are tolerated: a value that is no number at all is still refused.
    st = await online_station(joule, api, "S40-REAL", "1.6")
    bad = {"timestamp": AT, "sampledValue": [{"value": "12", "unit": "Parsecs"}]}
    try:
        await st.call("MeterValues", {"connectorId": 1, "meterValue": [bad]})
    except CallErrorReceived as exc:
        assert exc.code == "PropertyConstraintViolation"
        assert exc.details["path"].endswith("sampledValue[0].unit")
    else:
        raise AssertionError("an unknown unit was accepted")
    await assert_alive(st)
    await st.close()
    await add_station(api, "S40-UNUSED", password=None)  # a registered station has no quirks
    assert await quirks_of(api, "S40-UNUSED") == {}
