"""The OCPP 1.6 frames the load generator sends, built as a station would (performance.md §1)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import orjson

SUBPROTOCOL = "ocpp1.6"
ID_TAG = "BENCH-TAG"

_BOOT = {"chargePointVendor": "JouleBench", "chargePointModel": "Lean-1"}


def now_text() -> str:
    """A station timestamp: UTC with a Z suffix, millisecond precision."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def call(message_id: str, action: str, payload: Mapping[str, object]) -> bytes:
    """A CALL frame: [2, messageId, action, payload]."""
    return orjson.dumps([2, message_id, action, payload])


def heartbeat(message_id: str) -> bytes:
    """A Heartbeat CALL (≈ 30 B, the smallest request)."""
    return b'[2,"' + message_id.encode() + b'","Heartbeat",{}]'


def boot_notification(message_id: str) -> bytes:
    """A BootNotification CALL."""
    return call(message_id, "BootNotification", _BOOT)


def status_notification(message_id: str, connector_id: int) -> bytes:
    """A StatusNotification CALL: connector Available, no error."""
    return call(
        message_id,
        "StatusNotification",
        {
            "connectorId": connector_id,
            "errorCode": "NoError",
            "status": "Available",
            "timestamp": now_text(),
        },
    )


def start_transaction(message_id: str, meter_start_wh: int) -> bytes:
    """A StartTransaction CALL on connector 1 with the bench's id tag."""
    return call(
        message_id,
        "StartTransaction",
        {
            "connectorId": 1,
            "idTag": ID_TAG,
            "meterStart": meter_start_wh,
            "timestamp": now_text(),
        },
    )


def _sample(measurand: str, value: str, unit: str, **extra: str) -> dict[str, str]:
    return {
        "value": value,
        "context": "Sample.Periodic",
        "format": "Raw",
        "measurand": measurand,
        "location": extra.pop("location", "Outlet"),
        "unit": unit,
        **extra,
    }


def meter_values(message_id: str, transaction_id: int, register_wh: int) -> bytes:
    """A 1.6 MeterValues CALL with 10 sampled values (≈ 1.3 kB, performance.md §1.1)."""
    sampled = [
        _sample("Energy.Active.Import.Register", str(register_wh), "Wh"),
        _sample("Power.Active.Import", "11040", "W"),
    ]
    for phase in ("L1", "L2", "L3"):
        sampled.append(_sample("Current.Import", "16.0", "A", phase=phase))
        sampled.append(_sample("Voltage", "230.1", "V", phase=f"{phase}-N"))
    sampled.append(_sample("SoC", "54", "Percent", location="EV"))
    return call(
        message_id,
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": transaction_id,
            "meterValue": [{"timestamp": now_text(), "sampledValue": sampled}],
        },
    )


def not_implemented(call_frame: bytes) -> bytes:
    """The CALLERROR a station without the requested feature answers a CSMS CALL with."""
    message_id = orjson.loads(call_frame)[1]
    return orjson.dumps([4, message_id, "NotImplemented", "not supported by this station", {}])


def response_kind(frame: bytes) -> int:
    """The MessageTypeId of a frame the server sent (3 CALLRESULT, 4 CALLERROR, 2 CALL), or 0."""
    # Both servers write compact JSON: `[3,"...` — cheap to read without parsing the frame.
    head = frame[:4].lstrip(b"[ \t\r\n")
    return head[0] - 0x30 if head and 0x30 <= head[0] <= 0x39 else 0


def result_payload(frame: bytes) -> dict[str, object]:
    """The payload of a CALLRESULT frame."""
    parsed = orjson.loads(frame)
    payload = parsed[2] if isinstance(parsed, list) and len(parsed) == 3 else None
    if not isinstance(payload, dict):
        raise ValueError(f"not a CALLRESULT: {frame[:200]!r}")
    return payload
