"""OCPP 2.0.1 messages of a simulated station; a 2.1 station speaks the same (P2 2.0.1 B, E, G)."""

from __future__ import annotations

import itertools
from datetime import datetime

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

# Neutral stop reasons → 2.x ReasonEnumType.
_REASONS = {"HardReset": "ImmediateReset", "SoftReset": "Reboot", "UnlockCommand": "Other"}
_V2X_REASONS = frozenset(
    {
        "DeAuthorized",
        "EmergencyStop",
        "EnergyLimitReached",
        "EVDisconnected",
        "GroundFault",
        "ImmediateReset",
        "Local",
        "LocalOutOfCredit",
        "MasterPass",
        "Other",
        "OvercurrentFault",
        "PowerLoss",
        "PowerQuality",
        "Reboot",
        "Remote",
        "SOCLimitReached",
        "StoppedByEV",
        "TimeLimitReached",
        "Timeout",
    }
)
_LOG_STATUS = {"UploadFailed": "UploadFailure"}


def stop_reason(reason: str) -> str:
    """A neutral stop reason in 2.x's vocabulary."""
    mapped = _REASONS.get(reason, reason)
    return mapped if mapped in _V2X_REASONS else "Other"


def id_token(token: IdToken) -> Payload:
    """IdTokenType."""
    return {"idToken": token.uid, "type": token.type}


class Dialect2x:
    """OCPP 2.0.1, and 2.1 for the messages they share."""

    def __init__(self, stamp: Stamp, version: OcppVersion = OcppVersion.V201) -> None:
        self.version = version
        self._stamp = stamp
        self._event_ids = itertools.count(1)
        self._problems: set[int] = set()  # EVSEs with a reported Problem (NotifyEvent)

    def meter_value(self, reading: Reading) -> Payload:
        """One MeterValueType: values are numbers, units in unitOfMeasure."""
        samples: list[Payload] = []
        for s in reading.samples:
            sample: Payload = {
                "value": s.value,
                "context": s.context,
                "measurand": s.measurand,
                "location": s.location,
                "unitOfMeasure": {"unit": s.unit},
            }
            if s.phase is not None:
                sample["phase"] = s.phase
            samples.append(sample)
        return {"timestamp": self._stamp(reading.at), "sampledValue": samples}

    def visible(self, status: Status) -> str:
        """2.x folds every cable-in state into Occupied."""
        return status.v2x

    def boot(self, info: StationInfo, reason: str) -> Outgoing:
        """BootNotification with its reason (B01)."""
        return Outgoing(
            "BootNotification",
            {
                "chargingStation": {
                    "model": info.model[:20],
                    "vendorName": info.vendor[:50],
                    "serialNumber": info.serial_number[:25],
                    "firmwareVersion": info.firmware_version[:50],
                },
                "reason": reason,
            },
        )

    def heartbeat(self) -> Outgoing:
        """Heartbeat."""
        return Outgoing("Heartbeat", {})

    def status(self, change: StatusChanged) -> list[Outgoing]:
        """StatusNotification, with a NotifyEvent Problem when a fault starts or clears."""
        out = [
            Outgoing(
                "StatusNotification",
                {
                    "timestamp": self._stamp(change.at),
                    "connectorStatus": change.status.v2x,
                    "evseId": change.evse_id,
                    "connectorId": 1,
                },
            )
        ]
        faulted = change.status is Status.FAULTED
        if faulted != (change.evse_id in self._problems):
            if faulted:
                self._problems.add(change.evse_id)
            else:
                self._problems.discard(change.evse_id)
            out.append(self._problem(change, faulted))
        return out

    def _problem(self, change: StatusChanged, faulted: bool) -> Outgoing:
        # 2.x has no errorCode in StatusNotification: errors are Problem events of the Connector.
        event: Payload = {
            "eventId": next(self._event_ids),
            "timestamp": self._stamp(change.at),
            "trigger": "Delta",
            "actualValue": "true" if faulted else "false",
            "eventNotificationType": "HardWiredNotification",
            "component": {"name": "Connector", "evse": {"id": change.evse_id, "connectorId": 1}},
            "variable": {"name": "Problem"},
        }
        if faulted:
            event["techCode"] = change.error_code[:50]
            if change.info:
                event["techInfo"] = change.info[:500]
        else:
            event["cleared"] = True
        return Outgoing(
            "NotifyEvent",
            {"generatedAt": self._stamp(change.at), "seqNo": 0, "eventData": [event]},
        )

    def station_status(self, at: datetime) -> Outgoing | None:
        """2.x has no connector 0."""
        return None

    def authorize(self, token: IdToken) -> Outgoing:
        """Authorize an idToken."""
        return Outgoing("Authorize", {"idToken": id_token(token)})

    def read_authorize(self, payload: Payload) -> str | None:
        """The idTokenInfo status."""
        return token_status(payload.get("idTokenInfo"))

    def _event(
        self,
        session: Session,
        event_type: str,
        at: datetime,
        trigger: str,
        *,
        offline: bool,
        info: Payload | None = None,
        reading: Reading | None = None,
    ) -> Payload:
        payload: Payload = {
            "eventType": event_type,
            "timestamp": self._stamp(at),
            "triggerReason": trigger,
            "seqNo": session.take_seq_no(),  # fixed when the event happens (E §1.3.2)
            "transactionInfo": {"transactionId": session.transaction_id, **(info or {})},
        }
        if offline:
            payload["offline"] = True  # E04.FR.03
        if reading is not None:
            payload["meterValue"] = [self.meter_value(reading)]
        return payload

    def tx_started(self, effect: TxStarted, *, offline: bool) -> TxMessage:
        """TransactionEvent Started, with the EVSE, the idToken and the start register."""
        session = effect.session
        info: Payload = {"chargingState": effect.charging_state}
        if session.remote_start_id is not None:
            info["remoteStartId"] = session.remote_start_id
        payload = self._event(
            session,
            "Started",
            effect.at,
            effect.trigger,
            offline=offline,
            info=info,
            reading=effect.reading,
        )
        payload["evse"] = {"id": session.evse_id, "connectorId": 1}
        payload["idToken"] = id_token(session.token)
        if session.reservation_id is not None:
            payload["reservationId"] = session.reservation_id
        return TxMessage("TransactionEvent", lambda: payload, session, "Started", offline)

    def tx_sampled(self, effect: TxSampled, *, offline: bool) -> TxMessage:
        """TransactionEvent Updated with a periodic meter value (MeterValuePeriodic)."""
        payload = self._event(
            effect.session,
            "Updated",
            effect.reading.at,
            effect.trigger,
            offline=offline,
            reading=effect.reading,
        )
        return TxMessage("TransactionEvent", lambda: payload, effect.session, "Updated", offline)

    def tx_state(self, effect: TxStateChanged, *, offline: bool) -> TxMessage | None:
        """TransactionEvent Updated on a charging state change (ChargingStateChanged)."""
        payload = self._event(
            effect.session,
            "Updated",
            effect.at,
            "ChargingStateChanged",
            offline=offline,
            info={"chargingState": effect.charging_state},
        )
        return TxMessage("TransactionEvent", lambda: payload, effect.session, "Updated", offline)

    def tx_ended(self, effect: TxEnded, *, offline: bool) -> TxMessage:
        """TransactionEvent Ended with the stop reason and the final register."""
        info: Payload = {
            "stoppedReason": stop_reason(effect.reason),
            "chargingState": effect.charging_state,
        }
        payload = self._event(
            effect.session,
            "Ended",
            effect.at,
            effect.trigger,
            offline=offline,
            info=info,
            reading=effect.reading,
        )
        if effect.token is not None:
            payload["idToken"] = id_token(effect.token)
        return TxMessage("TransactionEvent", lambda: payload, effect.session, "Ended", offline)

    def read_tx(self, message: TxMessage, payload: Payload) -> TxAnswer:
        """The idTokenInfo status, when the CSMS judged a token."""
        return TxAnswer(token_status(payload.get("idTokenInfo")))

    def meter_values(self, evse_id: int, reading: Reading, session: Session | None) -> Outgoing:
        """MeterValues (triggered, outside the transaction's event stream)."""
        return Outgoing(
            "MeterValues", {"evseId": evse_id, "meterValue": [self.meter_value(reading)]}
        )

    def firmware_status(self, status: str, request_id: int | None) -> Outgoing:
        """FirmwareStatusNotification (L01)."""
        payload: Payload = {"status": status}
        if request_id is not None:
            payload["requestId"] = request_id
        return Outgoing("FirmwareStatusNotification", payload)

    def log_status(self, status: str, request_id: int | None, *, diagnostics: bool) -> Outgoing:
        """LogStatusNotification (N01)."""
        payload: Payload = {"status": _LOG_STATUS.get(status, status)}
        if request_id is not None:
            payload["requestId"] = request_id
        return Outgoing("LogStatusNotification", payload)

    def reservation_ended(self, effect: ReservationEnded) -> Outgoing | None:
        """ReservationStatusUpdate: the CSMS learns that a reservation expired or was removed."""
        return Outgoing(
            "ReservationStatusUpdate",
            {"reservationId": effect.reservation.id, "reservationUpdateStatus": effect.reason},
        )
