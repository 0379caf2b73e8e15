"""Schema validation: error kinds and paths (scenario 23), extra properties (scenario 27)."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from joule.ocpp.errors import ErrorKind, OcppError, error_code
from joule.ocpp.frames import encode_error
from joule.ocpp.schemas import schema_files
from joule.ocpp.validation import measure_cost, validate, validate_outbound, warm_up
from joule.ocpp.versions import OcppVersion

V16, V201, V21 = OcppVersion.V16, OcppVersion.V201, OcppVersion.V21
AT = "2025-03-01T12:00:00Z"


def failure(
    version: OcppVersion, action: str, payload: dict[str, Any], kind: str = "request"
) -> OcppError:
    with pytest.raises(OcppError) as caught:
        validate(version, action, kind, payload)  # type: ignore[arg-type]
    return caught.value


def v16_meter_values(**sample: Any) -> dict[str, Any]:
    return {
        "connectorId": 1,
        "transactionId": 5,
        "meterValue": [{"timestamp": AT, "sampledValue": [{"value": "10", **sample}]}],
    }


def v201_transaction_event(**extra: Any) -> dict[str, Any]:
    return {
        "eventType": "Updated",
        "timestamp": AT,
        "triggerReason": "MeterValuePeriodic",
        "seqNo": 3,
        "transactionInfo": {"transactionId": "tx-1"},
        "meterValue": [
            {"timestamp": AT, "sampledValue": [{"value": 10.5, "unitOfMeasure": {"unit": "Wh"}}]}
        ],
        **extra,
    }


def v201_status(**changes: Any) -> dict[str, Any]:
    payload = {"timestamp": AT, "connectorStatus": "Available", "evseId": 1, "connectorId": 1}
    return {**payload, **changes}


# --- every schema compiles ---------------------------------------------------------------


@pytest.mark.parametrize("version", list(OcppVersion))
def test_every_schema_of_every_version_compiles(version: OcppVersion) -> None:
    assert warm_up(version) == len(schema_files(version))
    assert len(schema_files(version)) >= 78


def test_measure_cost_reports_microseconds_per_message() -> None:
    costs = measure_cost(iterations=50)
    assert set(costs) == {
        "1.6 Heartbeat",
        "1.6 MeterValues (10 samples)",
        "2.0.1 TransactionEvent (10 samples)",
        # What a valid frame as sent costs on the gateway's typed path (ADR 0020, 0021).
        "1.6 MeterValues (10 samples), typed frame decode",
        "2.0.1 TransactionEvent (10 samples), typed frame decode",
    }
    assert all(cost > 0 for cost in costs.values())


# --- valid payloads ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "action", "payload"),
    [
        (V16, "Heartbeat", {}),
        (
            V16,
            "MeterValues",
            v16_meter_values(unit="kWh", measurand="Energy.Active.Import.Register"),
        ),
        (V16, "Authorize", {"idTag": "ÄÖÜ-TAG"}),
        (V201, "TransactionEvent", v201_transaction_event()),
        (V201, "StatusNotification", v201_status()),
        # 2.1 shares the 2.0.1 TransactionEvent and StatusNotification messages.
        (V21, "TransactionEvent", v201_transaction_event()),
        (V21, "StatusNotification", v201_status()),
        (V21, "Heartbeat", {}),
    ],
)
def test_valid_requests_pass(version: OcppVersion, action: str, payload: dict[str, Any]) -> None:
    before = copy.deepcopy(payload)
    assert validate(version, action, "request", payload) == []
    assert payload == before  # schema defaults are never written into the payload


def test_responses_are_validated_too() -> None:
    validate(
        V16,
        "BootNotification",
        "response",
        {"status": "Accepted", "currentTime": AT, "interval": 300},
    )
    error = failure(V16, "BootNotification", {"status": "Accepted", "currentTime": AT}, "response")
    assert error.kind is ErrorKind.OCCURRENCE
    assert error.details == {"path": "data.interval", "rule": "required"}


@pytest.mark.parametrize(
    "timestamp",
    ["2025-03-01T12:00:00", "2025-03-01T12:00:00.123456789+01:00", "2025-03-01T12:00:00+0100"],
)
def test_timestamps_without_offset_or_with_long_fractions_pass(timestamp: str) -> None:
    # Q7: local time without offset is accepted here and interpreted by the domain.
    validate(V201, "StatusNotification", "request", v201_status(timestamp=timestamp))


# --- scenario 23: violations by kind -----------------------------------------------------


@pytest.mark.parametrize(
    ("version", "action", "payload", "kind", "path", "rule"),
    [
        # missing required field
        (V16, "Authorize", {}, ErrorKind.OCCURRENCE, "data.idTag", "required"),
        (V201, "Authorize", {}, ErrorKind.OCCURRENCE, "data.idToken", "required"),
        (V201, "Authorize", {"idToken": {"type": "Local"}}, ErrorKind.OCCURRENCE,
         "data.idToken.idToken", "required"),
        # wrong JSON type
        (V16, "StatusNotification",
         {"connectorId": "1", "errorCode": "NoError", "status": "Available"},
         ErrorKind.TYPE, "data.connectorId", "type"),
        (V201, "StatusNotification", v201_status(connectorId="1"), ErrorKind.TYPE,
         "data.connectorId", "type"),
        (V201, "TransactionEvent", v201_transaction_event(seqNo=1.5), ErrorKind.TYPE,
         "data.seqNo", "type"),
        # bad enum value (SteVe: "Faultd")
        (V16, "StatusNotification",
         {"connectorId": 1, "errorCode": "NoError", "status": "Faultd"},
         ErrorKind.PROPERTY, "data.status", "enum"),
        (V201, "StatusNotification", v201_status(connectorStatus="Faultd"), ErrorKind.PROPERTY,
         "data.connectorStatus", "enum"),
        # string over its maximum length
        (V16, "Authorize", {"idTag": "x" * 21}, ErrorKind.TYPE, "data.idTag", "maxLength"),
        (V201, "Authorize", {"idToken": {"idToken": "x" * 37, "type": "Local"}}, ErrorKind.TYPE,
         "data.idToken.idToken", "maxLength"),
        # empty array where minItems is 1 (not the tolerated quirk: nothing was emptied)
        (V16, "MeterValues", {"connectorId": 1, "meterValue": []}, ErrorKind.PROPERTY,
         "data.meterValue", "minItems"),
        (V201, "MeterValues", {"evseId": 1, "meterValue": []}, ErrorKind.PROPERTY,
         "data.meterValue", "minItems"),
        # other value constraints
        (V16, "MeterValues", v16_meter_values(measurand="Energy"), ErrorKind.PROPERTY,
         "data.meterValue[0].sampledValue[0].measurand", "enum"),
        (V201, "StatusNotification", v201_status(timestamp="yesterday"), ErrorKind.PROPERTY,
         "data.timestamp", "format"),
        (V201, "StatusNotification", v201_status(timestamp="2025-02-30T10:00:00Z"),
         ErrorKind.PROPERTY, "data.timestamp", "format"),
        (V201, "Authorize",
         {"idToken": {"idToken": "A", "type": "Local"},
          "iso15118CertificateHashData": [
              {"hashAlgorithm": "SHA256", "issuerNameHash": "a", "issuerKeyHash": "b",
               "serialNumber": "c", "responderURL": "http://x"}] * 5},
         ErrorKind.PROPERTY, "data.iso15118CertificateHashData", "maxItems"),
        (V201, "NotifyEVChargingNeeds",
         {"evseId": 1, "chargingNeeds": {"requestedEnergyTransfer": "DC",
                                         "dcChargingParameters": {"evMaxCurrent": 1,
                                                                  "evMaxVoltage": 1,
                                                                  "stateOfCharge": 101}}},
         ErrorKind.PROPERTY, "data.chargingNeeds.dcChargingParameters.stateOfCharge", "maximum"),
        # extra property in strict mode
        (V16, "Heartbeat", {"foo": 1}, ErrorKind.FORMAT, "data.foo", "additionalProperties"),
        (V201, "Heartbeat", {"foo": 1}, ErrorKind.FORMAT, "data.foo", "additionalProperties"),
    ],
)  # fmt: skip
def test_violation_kinds_and_paths(
    version: OcppVersion,
    action: str,
    payload: dict[str, Any],
    kind: ErrorKind,
    path: str,
    rule: str,
) -> None:
    error = failure(version, action, payload)
    assert error.kind is kind
    assert error.details == {"path": path, "rule": rule}


@pytest.mark.parametrize(
    ("version", "payload", "code"),
    [
        (V16, {}, "OccurenceConstraintViolation"),
        (V201, {}, "OccurrenceConstraintViolation"),
        (V16, {"idTag": 5}, "TypeConstraintViolation"),
        (V16, {"idTag": "A", "x": 1}, "FormationViolation"),
        (V201, {"idToken": {"idToken": "A", "type": "Local"}, "x": 1}, "FormatViolation"),
        (V201, {"idToken": {"idToken": "A", "type": "Badge"}}, "PropertyConstraintViolation"),
    ],
)
def test_wire_codes_carry_path_in_error_details(
    version: OcppVersion, payload: dict[str, Any], code: str
) -> None:
    error = failure(version, "Authorize", payload)
    reply = orjson.loads(encode_error(version, "m1", error.kind, error.description, error.details))
    assert reply[:3] == [4, "m1", code]
    assert reply[4]["path"].startswith("data")
    assert error_code(version, error.kind) == code


def test_2_1_reports_the_same_kinds_as_2_0_1_for_shared_messages() -> None:
    for payload in (v201_status(connectorStatus="Faultd"), v201_status(evseId="1"), {}):
        assert (
            failure(V21, "StatusNotification", payload).details
            == failure(V201, "StatusNotification", payload).details
        )


def test_unknown_actions() -> None:
    assert failure(V16, "FooBar", {}).kind is ErrorKind.NOT_IMPLEMENTED
    assert failure(V201, "NotifyDERAlarm", {}).kind is ErrorKind.NOT_SUPPORTED
    assert failure(V16, "TransactionEvent", {}).kind is ErrorKind.NOT_SUPPORTED


# --- scenario 27: extra properties -------------------------------------------------------


def test_custom_data_is_always_accepted_in_2x() -> None:
    payload = v201_transaction_event(customData={"vendorId": "ACME", "anything": [1, 2]})
    payload["meterValue"][0]["customData"] = {"vendorId": "ACME", "nested": {"deep": True}}
    payload["meterValue"][0]["sampledValue"][0]["customData"] = {"vendorId": "ACME", "x": 1}
    assert validate(V201, "TransactionEvent", "request", payload) == []
    assert validate(V201, "TransactionEvent", "request", payload, lenient=True) == []
    assert payload["customData"] == {"vendorId": "ACME", "anything": [1, 2]}


def test_custom_data_still_needs_its_vendor_id() -> None:
    error = failure(V201, "Heartbeat", {"customData": {"x": 1}})
    assert error.kind is ErrorKind.OCCURRENCE
    assert error.details["path"] == "data.customData.vendorId"


@pytest.mark.parametrize("version", [V201, V21])
def test_strict_mode_rejects_nested_extras(version: OcppVersion) -> None:
    payload = v201_transaction_event()
    payload["meterValue"][0]["sampledValue"][0]["colour"] = "blue"
    error = failure(version, "TransactionEvent", payload)
    assert error.kind is ErrorKind.FORMAT
    assert error.details == {
        "path": "data.meterValue[0].sampledValue[0].colour",
        "rule": "additionalProperties",
    }


def test_lenient_mode_strips_extras_at_any_depth_v16() -> None:
    payload = v16_meter_values(unit="Wh", vendorStuff="x")
    payload["firmware"] = "1.2"
    payload["meterValue"][0]["extra"] = {"a": 1}
    stripped = validate(V16, "MeterValues", "request", payload, lenient=True)
    assert sorted(stripped) == [
        "data.firmware",
        "data.meterValue[0].extra",
        "data.meterValue[0].sampledValue[0].vendorStuff",
    ]
    assert payload == v16_meter_values(unit="Wh")


def test_lenient_mode_strips_extras_but_keeps_custom_data_v201() -> None:
    payload = v201_transaction_event(customData={"vendorId": "ACME", "keep": 1}, bogus=True)
    payload["transactionInfo"]["bogus"] = 1
    stripped = validate(V201, "TransactionEvent", "request", payload, lenient=True)
    assert sorted(stripped) == ["data.bogus", "data.transactionInfo.bogus"]
    assert payload["customData"] == {"vendorId": "ACME", "keep": 1}
    assert "bogus" not in payload["transactionInfo"]


def test_lenient_mode_strips_custom_data_where_the_schema_has_none() -> None:
    # 1.6 schemas are closed and know no customData (1.6 J errata §3.2).
    payload = {"idTag": "A", "customData": {"vendorId": "ACME"}}
    assert validate(V16, "Authorize", "request", payload, lenient=True) == ["data.customData"]
    assert payload == {"idTag": "A"}


def test_lenient_mode_still_reports_other_violations() -> None:
    payload = {"idTag": "x" * 30, "extra": 1}
    with pytest.raises(OcppError) as caught:
        validate(V16, "Authorize", "request", payload, lenient=True)
    assert caught.value.kind is ErrorKind.TYPE


def test_outbound_validation_is_always_strict() -> None:
    validate_outbound(V16, "Reset", "request", {"type": "Hard"})
    with pytest.raises(OcppError) as caught:
        validate_outbound(V16, "Reset", "request", {"type": "Hard", "extra": 1})
    assert caught.value.kind is ErrorKind.FORMAT
    with pytest.raises(OcppError) as caught:
        validate_outbound(V201, "SetChargingProfile", "request", {"evseId": 1})
    assert caught.value.kind is ErrorKind.OCCURRENCE


# --- Q14: a meter-value list emptied by the quirk ----------------------------------------


@pytest.mark.parametrize("version", list(OcppVersion))
def test_meter_values_emptied_by_the_quirk_are_accepted(version: OcppVersion) -> None:
    payload: dict[str, Any] = {"meterValue": []}
    payload["connectorId" if version is V16 else "evseId"] = 1
    validate(version, "MeterValues", "request", payload, quirks=["empty_sampled_value"])
    with pytest.raises(OcppError):
        validate(version, "MeterValues", "request", payload)
    # The relaxation is only for that list: everything else is still checked.
    payload["meterValue"] = [{"timestamp": AT, "sampledValue": []}]
    with pytest.raises(OcppError) as caught:
        validate(version, "MeterValues", "request", payload, quirks=["empty_sampled_value"])
    assert caught.value.details["rule"] == "minItems"
