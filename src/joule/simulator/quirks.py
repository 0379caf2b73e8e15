"""Real-charger quirks (ocpp-robustness.md §3) a simulated station can show on demand.

Messages are built correct, checked against the schema when asked, and only then bent by the
quirks below, so a quirky station sends exactly what the field evidence describes and nothing
else. Connection-level quirks (no subprotocol header, no pong) live in link.py; clock quirks
(local time, 1970 before sync) in the station's time formatter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from joule.ocpp.versions import OcppVersion

Payload = dict[str, Any]

KWH_AS_WH = "kwh_as_wh"  # Q16: energy registers in kWh, labelled Wh
NUMERIC_VALUES = "numeric_values"  # Q13: 1.6 sampledValue.value as a JSON number
NO_PING_REPLIES = "no_ping_replies"  # Q4: WebSocket pings go unanswered
NO_SUBPROTOCOL = "no_subprotocol"  # Q1: no Sec-WebSocket-Protocol header at all
LOCAL_TIME = "local_time"  # Q7: timestamps in local time without an offset
EPOCH_CLOCK = "epoch_clock"  # Q8: 1970-01-01 timestamps until the clock is set
HZ_UNIT = "hz_unit"  # Q11: Frequency sampled with unit "Hz" (1.6 only knows "Hertz")
ERROR_CODE_ERROR = "error_code_error"  # Q12: errorCode "Error", not in the 1.6 enum
LONG_INFO = "long_info"  # Q15: StatusNotification info longer than 50 characters
EMPTY_SAMPLED_VALUE = "empty_sampled_value"  # Q14: a meterValue with sampledValue []
TRANSACTION_ID_ZERO = "transaction_id_zero"  # Q17: 1.6 MeterValues with transactionId 0
EXTRA_PROPERTIES = "extra_properties"  # Q25: properties the schema does not know

KNOWN: frozenset[str] = frozenset(
    {
        KWH_AS_WH,
        NUMERIC_VALUES,
        NO_PING_REPLIES,
        NO_SUBPROTOCOL,
        LOCAL_TIME,
        EPOCH_CLOCK,
        HZ_UNIT,
        ERROR_CODE_ERROR,
        LONG_INFO,
        EMPTY_SAMPLED_VALUE,
        TRANSACTION_ID_ZERO,
        EXTRA_PROPERTIES,
    }
)

_LONG_INFO = "Residual current device tripped twice within ten minutes; manual reset needed"


def _meter_values(action: str, payload: Payload) -> list[Payload]:
    key = "transactionData" if action == "StopTransaction" else "meterValue"
    values = payload.get(key)
    return values if isinstance(values, list) else []


def _samples(action: str, payload: Payload) -> Iterator[Payload]:
    for meter_value in _meter_values(action, payload):
        yield from meter_value.get("sampledValue", [])


def _kwh_as_wh(version: OcppVersion, action: str, payload: Payload) -> None:
    for sample in _samples(action, payload):
        if str(sample.get("measurand", "Energy.Active.Import.Register")).startswith("Energy."):
            value = Decimal(str(sample["value"])) / 1000
            sample["value"] = str(value) if version is OcppVersion.V16 else value


def _numeric_values(version: OcppVersion, action: str, payload: Payload) -> None:
    if version is OcppVersion.V16:
        for sample in _samples(action, payload):
            sample["value"] = Decimal(str(sample["value"]))


def _hz_unit(version: OcppVersion, action: str, payload: Payload) -> None:
    values = _meter_values(action, payload)
    if values and action != "StopTransaction":
        frequency: Payload = {
            "value": "50.0",
            "measurand": "Frequency",
            "context": "Sample.Periodic",
        }
        if version is OcppVersion.V16:
            frequency["unit"] = "Hz"
        else:
            frequency["value"] = Decimal("50.0")
            frequency["unitOfMeasure"] = {"unit": "Hz"}
        values[0]["sampledValue"].append(frequency)


def _error_code_error(version: OcppVersion, action: str, payload: Payload) -> None:
    faulted = payload.get("errorCode") not in (None, "NoError")
    if version is OcppVersion.V16 and action == "StatusNotification" and faulted:
        payload["errorCode"] = "Error"


def _long_info(version: OcppVersion, action: str, payload: Payload) -> None:
    faulted = payload.get("status") == "Faulted"
    if version is OcppVersion.V16 and action == "StatusNotification" and faulted:
        payload["info"] = _LONG_INFO


def _empty_sampled_value(version: OcppVersion, action: str, payload: Payload) -> None:
    values = _meter_values(action, payload)
    if action == "MeterValues" and values:
        values.append({"timestamp": values[0]["timestamp"], "sampledValue": []})


def _transaction_id_zero(version: OcppVersion, action: str, payload: Payload) -> None:
    if version is OcppVersion.V16 and action == "MeterValues" and "transactionId" in payload:
        payload["transactionId"] = 0


def _extra_properties(version: OcppVersion, action: str, payload: Payload) -> None:
    if action in ("BootNotification", "StatusNotification", "Heartbeat"):
        payload["vendorFirmwareBuild"] = "2024.11-r3"


_PAYLOAD_QUIRKS: dict[str, Callable[[OcppVersion, str, Payload], None]] = {
    KWH_AS_WH: _kwh_as_wh,
    NUMERIC_VALUES: _numeric_values,
    HZ_UNIT: _hz_unit,
    ERROR_CODE_ERROR: _error_code_error,
    LONG_INFO: _long_info,
    EMPTY_SAMPLED_VALUE: _empty_sampled_value,
    TRANSACTION_ID_ZERO: _transaction_id_zero,
    EXTRA_PROPERTIES: _extra_properties,
}


def apply_quirks(
    quirks: frozenset[str], version: OcppVersion, action: str, payload: Payload
) -> Payload:
    """The payload as a station with these quirks sends it (changed in place and returned)."""
    for name, bend in _PAYLOAD_QUIRKS.items():  # a fixed order: kWh first, then numbers
        if name in quirks:
            bend(version, action, payload)
    return payload


def check_known(quirks: frozenset[str]) -> None:
    """Raise ValueError for a quirk name the simulator does not know."""
    unknown = sorted(quirks - KNOWN)
    if unknown:
        raise ValueError(
            f"unknown quirk(s): {', '.join(unknown)}; known: {', '.join(sorted(KNOWN))}"
        )
