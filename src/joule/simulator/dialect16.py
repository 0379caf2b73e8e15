"""OCPP 1.6J messages of a simulated station (C16 §4, SW16 for the log messages)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from joule.ocpp.versions import OcppVersion
from joule.simulator.dialect import (
    Outgoing,
    Payload,
    Stamp,
    StationInfo,
    TxAnswer,
    TxMessage,
    token_status,
)
from joule.simulator.effects import (
    ReservationEnded,
    Session,
    Status,
    StatusChanged,
    TxEnded,
    TxSampled,
    TxStarted,
    TxStateChanged,
)
from joule.simulator.meter import Reading
from joule.simulator.model import IdToken

# Neutral stop reasons → C16 §7.44 Reason.
_REASONS = {
    "ImmediateReset": "HardReset",
    "GroundFault": "Other",
    "OvercurrentFault": "Other",
}
_V16_REASONS = frozenset(
    {
        "EmergencyStop",
        "EVDisconnected",
        "HardReset",
        "Local",
        "Other",
        "PowerLoss",
        "Reboot",
        "Remote",
        "SoftReset",
        "UnlockCommand",
        "DeAuthorized",
    }
)
_LOG_STATUS = {"UploadFailed": "UploadFailure"}  # SW16 LogStatusNotification spelling


def stop_reason(reason: str) -> str:
    """A neutral stop reason in 1.6's vocabulary."""
    mapped = _REASONS.get(reason, reason)
    return mapped if mapped in _V16_REASONS else "Other"


def sampled_values(reading: Reading) -> list[Payload]:
    """1.6 SampledValue list: values are strings (C16 §7.45)."""
    out: list[Payload] = []
    for s in reading.samples:
        sample: Payload = {
            "value": str(s.value),
            "context": s.context,
            "format": "Raw",
            "measurand": s.measurand,
            "location": s.location,
            "unit": s.unit,
        }
        if s.phase is not None:
            sample["phase"] = s.phase
        out.append(sample)
    return out


class Dialect16:
    """OCPP 1.6J."""

    version = OcppVersion.V16

    def __init__(self, stamp: Stamp) -> None:
        self._stamp = stamp

    def meter_value(self, reading: Reading) -> Payload:
        """One MeterValue."""
        return {"timestamp": self._stamp(reading.at), "sampledValue": sampled_values(reading)}

    def visible(self, status: Status) -> str:
        """1.6 shows every status."""
        return status.value

    def boot(self, info: StationInfo, reason: str) -> Outgoing:
        """BootNotification (1.6 has no boot reason)."""
        return Outgoing(
            "BootNotification",
            {
                "chargePointVendor": info.vendor[:20],
                "chargePointModel": info.model[:20],
                "chargePointSerialNumber": info.serial_number[:25],
                "chargeBoxSerialNumber": info.serial_number[:25],
                "firmwareVersion": info.firmware_version[:50],
                "meterType": "SimMeter AC/DC",
            },
        )

    def heartbeat(self) -> Outgoing:
        """Heartbeat."""
        return Outgoing("Heartbeat", {})

    def status(self, change: StatusChanged) -> list[Outgoing]:
        """StatusNotification of a connector (1.6 connector N is EVSE N)."""
        payload: Payload = {
            "connectorId": change.evse_id,
            "errorCode": change.error_code,
            "status": change.status.value,
            "timestamp": self._stamp(change.at),
        }
        if change.info:
            payload["info"] = change.info[:50]
        return [Outgoing("StatusNotification", payload)]

    def station_status(self, at: datetime) -> Outgoing | None:
        """Connector 0: the charge point as a whole (C16 §4.9)."""
        return Outgoing(
            "StatusNotification",
            {
                "connectorId": 0,
                "errorCode": "NoError",
                "status": "Available",
                "timestamp": self._stamp(at),
            },
        )

    def authorize(self, token: IdToken) -> Outgoing:
        """Authorize an idTag."""
        return Outgoing("Authorize", {"idTag": token.uid[:20]})

    def read_authorize(self, payload: Payload) -> str | None:
        """The idTagInfo status."""
        return token_status(payload.get("idTagInfo"))

    def tx_started(self, effect: TxStarted, *, offline: bool) -> TxMessage:
        """StartTransaction."""
        session = effect.session
        payload: Payload = {
            "connectorId": session.evse_id,
            "idTag": session.token.uid[:20],
            "meterStart": session.meter_start_wh,
            "timestamp": self._stamp(effect.at),
        }
        if session.reservation_id is not None:
            payload["reservationId"] = session.reservation_id
        return TxMessage("StartTransaction", lambda: payload, session, "Started", offline)

    def tx_sampled(self, effect: TxSampled, *, offline: bool) -> TxMessage:
        """MeterValues of a transaction; its transactionId is known only once Start is answered."""
        session = effect.session
        meter_value = self.meter_value(effect.reading)

        def render() -> Payload:
            payload: Payload = {"connectorId": session.evse_id, "meterValue": [meter_value]}
            if session.csms_id is not None:
                payload["transactionId"] = session.csms_id
            return payload

        return TxMessage("MeterValues", render, session, "Updated", offline)

    def tx_state(self, effect: TxStateChanged, *, offline: bool) -> TxMessage | None:
        """1.6 reports charging states by StatusNotification only."""
        return None

    def tx_ended(self, effect: TxEnded, *, offline: bool) -> TxMessage:
        """StopTransaction with the final register in transactionData."""
        session = effect.session
        base: Payload = {
            "meterStop": session.meter_stop_wh,
            "timestamp": self._stamp(effect.at),
            "reason": stop_reason(effect.reason),
            "transactionData": [self.meter_value(effect.reading)],
        }
        if effect.token is not None:
            base["idTag"] = effect.token.uid[:20]

        def render() -> Payload:
            # Q18: a Start that was never answered leaves no id; -1 marks it for reconciliation.
            csms_id = session.csms_id if session.csms_id is not None else -1
            return {"transactionId": csms_id, **base}

        return TxMessage("StopTransaction", render, session, "Ended", offline)

    def read_tx(self, message: TxMessage, payload: Payload) -> TxAnswer:
        """idTagInfo and, for StartTransaction, the transactionId."""
        csms_id: Any = (
            payload.get("transactionId") if message.action == "StartTransaction" else None
        )
        return TxAnswer(
            token_status(payload.get("idTagInfo")),
            int(csms_id) if isinstance(csms_id, int) else None,
        )

    def meter_values(self, evse_id: int, reading: Reading, session: Session | None) -> Outgoing:
        """MeterValues (triggered)."""
        payload: Payload = {"connectorId": evse_id, "meterValue": [self.meter_value(reading)]}
        if session is not None and session.csms_id is not None:
            payload["transactionId"] = session.csms_id
        return Outgoing("MeterValues", payload)

    def firmware_status(self, status: str, request_id: int | None) -> Outgoing:
        """FirmwareStatusNotification."""
        return Outgoing("FirmwareStatusNotification", {"status": status})

    def log_status(self, status: str, request_id: int | None, *, diagnostics: bool) -> Outgoing:
        """DiagnosticsStatusNotification (GetDiagnostics) or SW16 LogStatusNotification (GetLog)."""
        if diagnostics:
            return Outgoing("DiagnosticsStatusNotification", {"status": status})
        payload: Payload = {"status": _LOG_STATUS.get(status, status)}
        if request_id is not None:
            payload["requestId"] = request_id
        return Outgoing("LogStatusNotification", payload)

    def reservation_ended(self, effect: ReservationEnded) -> Outgoing | None:
        """1.6 shows the end of a reservation only through the connector status."""
        return None
