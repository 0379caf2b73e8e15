"""Charger quirks repaired before validation (scenario 40, Q10–Q15), then accepted end to end."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from joule.ocpp.errors import ErrorKind, OcppError
from joule.ocpp.frames import Call, Send, decode_frame
from joule.ocpp.inbound import accept_request, accept_send
from joule.ocpp.quirks import normalise_request
from joule.ocpp.schemas import load_schema
from joule.ocpp.validation import validate
from joule.ocpp.versions import OcppVersion

V16, V201, V21 = OcppVersion.V16, OcppVersion.V201, OcppVersion.V21
AT = "2025-03-01T12:00:00Z"


def v16_meter_values(*samples: dict[str, Any], extra_readings: int = 0) -> dict[str, Any]:
    readings = [{"timestamp": AT, "sampledValue": list(samples)}]
    readings += [{"timestamp": AT, "sampledValue": [{"value": "1"}]}] * extra_readings
    return {"connectorId": 1, "transactionId": 9, "meterValue": readings}


def v16_status(**fields: Any) -> dict[str, Any]:
    return {"connectorId": 1, "errorCode": "NoError", "status": "Available", **fields}


def v2x_meter_values(*samples: dict[str, Any]) -> dict[str, Any]:
    return {"evseId": 1, "meterValue": [{"timestamp": AT, "sampledValue": list(samples)}]}


def repaired(
    version: OcppVersion, action: str, payload: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """normalise_request, checking that the caller's payload is never changed."""
    before = copy.deepcopy(payload)
    result = normalise_request(version, action, payload)
    assert payload == before
    validate(version, action, "request", result[0], quirks=result[1])
    return result


# --- the fast path -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "action", "payload"),
    [
        (V16, "Heartbeat", {}),
        (V16, "MeterValues", v16_meter_values({"value": "1", "unit": "Wh"})),
        (V16, "StatusNotification", v16_status(info="fine")),
        (V201, "MeterValues", v2x_meter_values({"value": 1.5})),
        (V201, "BootNotification", {"reason": "PowerUp"}),
    ],
)
def test_clean_payloads_are_returned_as_is(
    version: OcppVersion, action: str, payload: dict[str, Any]
) -> None:
    result, quirks = normalise_request(version, action, payload)
    assert result is payload
    assert quirks == []


# --- Q10 / Q11: unit spellings -----------------------------------------------------------


@pytest.mark.parametrize("unit", ["Celsius", "Celcius"])
def test_both_celsius_spellings_are_accepted_in_v16(unit: str) -> None:
    payload = v16_meter_values({"value": "21.5", "measurand": "Temperature", "unit": unit})
    result, quirks = repaired(V16, "MeterValues", payload)
    assert result["meterValue"][0]["sampledValue"][0]["unit"] == unit  # both in the schema
    assert quirks == []


@pytest.mark.parametrize(
    ("unit", "expected", "quirk"),
    [
        ("Hz", "Hertz", "unit_hz"),
        ("hz", "Hertz", "unit_hz"),
        ("celsius", "Celsius", "unit_celsius_spelling"),
        ("kwh", "kWh", "unit_case"),
        ("KW", "kW", "unit_case"),
    ],
)
def test_unit_spellings_are_mapped_to_the_schema(unit: str, expected: str, quirk: str) -> None:
    payload = v16_meter_values({"value": "50", "unit": unit})
    result, quirks = repaired(V16, "MeterValues", payload)
    assert result["meterValue"][0]["sampledValue"][0]["unit"] == expected
    assert quirks == [quirk]


def test_stop_transaction_drops_samples_its_schema_cannot_carry() -> None:
    # The 1.6 StopTransaction unit enum has no Hertz: dropping one frequency sample beats
    # losing the whole StopTransaction to retries (C16 §3.7.1).
    payload = {
        "transactionId": 9,
        "timestamp": AT,
        "meterStop": 1500,
        "transactionData": [
            {
                "timestamp": AT,
                "sampledValue": [
                    {"value": "1500", "unit": "Wh"},
                    {"value": "50", "measurand": "Frequency", "unit": "Hz"},
                ],
            }
        ],
    }
    result, quirks = repaired(V16, "StopTransaction", payload)
    assert result["transactionData"][0]["sampledValue"] == [{"value": "1500", "unit": "Wh"}]
    assert quirks == ["unrepresentable_unit"]


def test_unknown_units_are_left_for_the_validator() -> None:
    payload = v16_meter_values({"value": "1", "unit": "furlongs"})
    result, quirks = normalise_request(V16, "MeterValues", payload)
    assert result is payload and quirks == []
    with pytest.raises(OcppError) as caught:
        validate(V16, "MeterValues", "request", result)
    assert caught.value.kind is ErrorKind.PROPERTY


# --- Q12 / Q15: StatusNotification ------------------------------------------------------


def test_unknown_error_code_becomes_other_error_and_keeps_raw_value() -> None:
    result, quirks = repaired(V16, "StatusNotification", v16_status(errorCode="Error"))
    assert result["errorCode"] == "OtherError"
    assert result["vendorErrorCode"] == "Error"
    assert quirks == ["unknown_error_code"]


def test_unknown_error_code_keeps_an_existing_vendor_error_code() -> None:
    payload = v16_status(errorCode="Error", vendorErrorCode="E42")
    result, _ = repaired(V16, "StatusNotification", payload)
    assert (result["errorCode"], result["vendorErrorCode"]) == ("OtherError", "E42")


def test_long_info_is_truncated() -> None:
    result, quirks = repaired(V16, "StatusNotification", v16_status(info="i" * 80))
    assert result["info"] == "i" * 50
    assert quirks == ["info_truncated"]


def test_both_status_quirks_at_once() -> None:
    payload = v16_status(errorCode="x" * 70, info="i" * 80)
    result, quirks = repaired(V16, "StatusNotification", payload)
    assert result["vendorErrorCode"] == "x" * 50
    assert quirks == ["unknown_error_code", "info_truncated"]


# --- Q13: value types --------------------------------------------------------------------


def test_numeric_values_become_strings_in_v16() -> None:
    payload = v16_meter_values({"value": 1234}, {"value": 12.5, "unit": "kW"})
    result, quirks = repaired(V16, "MeterValues", payload)
    values = [s["value"] for s in result["meterValue"][0]["sampledValue"]]
    assert values == ["1234", "12.5"]
    assert quirks == ["numeric_value"]


@pytest.mark.parametrize("version", [V201, V21])
def test_numeric_strings_become_numbers_in_2x(version: OcppVersion) -> None:
    payload = v2x_meter_values({"value": "1234"}, {"value": "12.5"}, {"value": 7})
    result, quirks = repaired(version, "MeterValues", payload)
    values = [s["value"] for s in result["meterValue"][0]["sampledValue"]]
    assert values == [1234, 12.5, 7]
    assert isinstance(values[0], int)
    assert quirks == ["string_value"]


def test_non_numeric_strings_are_left_for_the_validator_in_2x() -> None:
    payload = v2x_meter_values({"value": "NaN"}, {"value": "abc"})
    result, quirks = normalise_request(V201, "MeterValues", payload)
    assert result is payload and quirks == []
    with pytest.raises(OcppError) as caught:
        validate(V201, "MeterValues", "request", result)
    assert caught.value.kind is ErrorKind.TYPE


# --- Q14: empty sampledValue ------------------------------------------------------------


def test_empty_reading_is_dropped_and_the_rest_kept_v16() -> None:
    payload = v16_meter_values(extra_readings=1)  # first reading has sampledValue: []
    result, quirks = repaired(V16, "MeterValues", payload)
    assert result["meterValue"] == [{"timestamp": AT, "sampledValue": [{"value": "1"}]}]
    assert quirks == ["empty_sampled_value"]


@pytest.mark.parametrize("version", list(OcppVersion))
def test_meter_values_with_only_empty_readings_are_acked_empty(version: OcppVersion) -> None:
    payload = v16_meter_values() if version is V16 else v2x_meter_values()
    result, quirks = repaired(version, "MeterValues", payload)
    assert result["meterValue"] == []  # the domain acks and stores nothing
    assert quirks == ["empty_sampled_value"]


def test_transaction_event_without_samples_loses_only_the_empty_list() -> None:
    payload = {
        "eventType": "Updated",
        "timestamp": AT,
        "triggerReason": "MeterValuePeriodic",
        "seqNo": 4,
        "transactionInfo": {"transactionId": "tx"},
        "meterValue": [{"timestamp": AT, "sampledValue": []}],
    }
    result, quirks = repaired(V201, "TransactionEvent", payload)
    assert "meterValue" not in result
    assert result["seqNo"] == 4
    assert quirks == ["empty_sampled_value"]


def test_stop_transaction_with_only_empty_readings_keeps_the_stop() -> None:
    payload = {
        "transactionId": 9,
        "timestamp": AT,
        "meterStop": 1500,
        "transactionData": [{"timestamp": AT, "sampledValue": []}],
    }
    result, quirks = repaired(V16, "StopTransaction", payload)
    assert result == {"transactionId": 9, "timestamp": AT, "meterStop": 1500}
    assert quirks == ["empty_sampled_value"]


@pytest.mark.parametrize("version", list(OcppVersion))
@pytest.mark.parametrize(
    ("action", "key"),
    [("MeterValues", "meterValue"), ("StopTransaction", "transactionData"),
     ("TransactionEvent", "meterValue")],
)  # fmt: skip
def test_an_empty_optional_list_of_readings_the_schema_refuses_is_left_out(
    version: OcppVersion, action: str, key: str
) -> None:
    try:
        schema = load_schema(version, action, "request")
    except KeyError:
        return  # not a message of this version
    refused = schema["properties"][key].get("minItems", 0) >= 1
    optional = key not in schema.get("required", [])
    result, quirks = normalise_request(version, action, {key: []})  # the list alone matters
    if refused and optional:
        assert (result, quirks) == ({}, ["empty_sampled_value"])  # the rest of it counts
    else:
        # Valid as sent (nothing to repair), or a message with nothing in it: refused as the
        # schema says (scenario 23).
        assert (result, quirks) == ({key: []}, [])


@pytest.mark.parametrize("version", [V201, V21])
def test_a_transaction_event_with_no_readings_is_accepted_without_them(
    version: OcppVersion,
) -> None:
    payload = {
        "eventType": "Ended",
        "timestamp": AT,
        "triggerReason": "StopAuthorized",
        "seqNo": 5,
        "transactionInfo": {"transactionId": "tx", "stoppedReason": "Local"},
        "meterValue": [],
    }
    frame = decode_frame(version, orjson.dumps([2, "m1", "TransactionEvent", payload]).decode())
    assert isinstance(frame, Call)
    request = accept_request(version, frame)
    assert request.payload == {k: v for k, v in payload.items() if k != "meterValue"}
    assert request.quirks == ("empty_sampled_value",)


def test_meter_values_with_no_readings_are_still_refused_v16() -> None:
    text = orjson.dumps([2, "m1", "MeterValues", {"connectorId": 1, "meterValue": []}]).decode()
    frame = decode_frame(V16, text)
    assert isinstance(frame, Call)
    with pytest.raises(OcppError) as caught:
        accept_request(V16, frame)
    assert caught.value.kind is ErrorKind.PROPERTY


# --- the whole inbound pipeline (scenario 40 protocol part) ------------------------------


def reading(*samples: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"timestamp": AT, "sampledValue": list(samples)}]


def text(message_id: str, action: str, payload: dict[str, Any]) -> str:
    return orjson.dumps([2, message_id, action, payload]).decode()


@pytest.mark.parametrize(
    ("version", "text", "quirk"),
    [
        (V16, text("q10", "MeterValues", {"connectorId": 1, "meterValue": reading(
            {"value": "21", "measurand": "Temperature", "unit": "Celsius"})}), None),
        (V16, text("q11", "MeterValues", {"connectorId": 1, "meterValue": reading(
            {"value": "50", "measurand": "Frequency", "unit": "Hz"})}), "unit_hz"),
        (V16, text("q12", "StatusNotification",
                   {"connectorId": 1, "errorCode": "Error", "status": "Faulted"}),
         "unknown_error_code"),
        (V16, text("q13", "MeterValues", {"connectorId": 1, "meterValue": reading(
            {"value": 1234.5})}), "numeric_value"),
        (V16, text("q14", "MeterValues", {"connectorId": 1, "meterValue": reading()}),
         "empty_sampled_value"),
        (V16, text("q15", "StatusNotification", v16_status(info="i" * 120)), "info_truncated"),
        (V16, text("q17", "MeterValues", {"connectorId": 1, "transactionId": 0,
                                          "meterValue": reading({"value": "5"})}), None),
        (V201, text("q13", "MeterValues", v2x_meter_values({"value": "1234.5"})),
         "string_value"),
        (V201, text("q14", "MeterValues", v2x_meter_values()), "empty_sampled_value"),
        (V201, text("q10", "MeterValues", v2x_meter_values(
            {"value": 21, "unitOfMeasure": {"unit": "Celcius"}})), None),
        (V21, text("q14", "TransactionEvent", {
            "eventType": "Updated", "timestamp": AT, "triggerReason": "MeterValuePeriodic",
            "seqNo": 1, "transactionInfo": {"transactionId": "t"}, "meterValue": reading()}),
         "empty_sampled_value"),
    ],
)  # fmt: skip
def test_quirky_frames_are_accepted(version: OcppVersion, text: str, quirk: str | None) -> None:
    frame = decode_frame(version, text)
    assert isinstance(frame, Call)
    accepted = accept_request(version, frame)
    assert accepted.message_id == frame.message_id
    assert accepted.quirks == ((quirk,) if quirk else ())
    assert accepted.stripped == ()


def test_pipeline_checks_the_action_first() -> None:
    with pytest.raises(OcppError) as caught:
        accept_request(V201, Call("m", "NotifyDERAlarm", {}))
    assert caught.value.kind is ErrorKind.NOT_SUPPORTED


def test_pipeline_lenient_mode_reports_stripped_paths() -> None:
    call = Call("m", "Heartbeat", {"uptime": 5})
    with pytest.raises(OcppError) as caught:
        accept_request(V16, call)
    assert caught.value.kind is ErrorKind.FORMAT
    accepted = accept_request(V16, Call("m", "Heartbeat", {"uptime": 5}), lenient=True)
    assert accepted.stripped == ("data.uptime",)
    assert accepted.payload == {}


def test_pipeline_for_a_v21_send() -> None:
    payload = {"id": 1, "pending": 0, "basetime": AT, "data": [{"t": 0, "v": "1.5"}]}
    accepted = accept_send(V21, Send("s", "NotifyPeriodicEventStream", payload))
    assert accepted.action == "NotifyPeriodicEventStream"
    with pytest.raises(OcppError) as caught:
        accept_send(V21, Send("s", "Heartbeat", {}))
    assert caught.value.kind is ErrorKind.NOT_SUPPORTED


def test_absurd_numeric_strings_are_left_for_the_validator_in_2x() -> None:
    payload = v2x_meter_values({"value": "1e5000"})
    result, quirks = normalise_request(V201, "MeterValues", payload)
    assert result is payload and quirks == []
