"""Version-neutral operator commands → the CALL each OCPP version expects (pure).

1.6 addresses connectors (connector N is EVSE N, connector 1 in Joule's data model);
2.0.1 and 2.1 address an EVSE and a connector on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from joule.kit.errors import Invalid
from joule.ocpp.versions import OcppVersion

Payload = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Request:
    """One CALL to send: action name and payload, in the station's version."""

    action: str
    payload: Payload


# Reset types: 1.6 Hard/Soft ↔ 2.x Immediate/OnIdle (the same intents, renamed).
_RESET_V16 = {"Hard": "Hard", "Soft": "Soft", "Immediate": "Hard", "OnIdle": "Soft"}
_RESET_V2X = {"Immediate": "Immediate", "OnIdle": "OnIdle", "Hard": "Immediate", "Soft": "OnIdle"}
_RESET_V21_ONLY = "ImmediateAndResume"  # 2.1 adds a reset that resumes transactions

# TriggerMessage names (1.6 TriggerMessage + SW16 ExtendedTriggerMessage, 2.x MessageTrigger).
_TRIGGER_V16 = frozenset(
    {
        "BootNotification",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "MeterValues",
        "StatusNotification",
    }
)
_TRIGGER_V16_EXTENDED = frozenset({"LogStatusNotification", "SignChargePointCertificate"})
# The same message under each version's name.
_TRIGGER_TO_V16 = {"SignChargingStationCertificate": "SignChargePointCertificate"}
_TRIGGER_TO_V2X = {"SignChargePointCertificate": "SignChargingStationCertificate"}
# 1.6 messages with no 2.x twin (2.x replaced diagnostics with the GetLog use case, N01).
_TRIGGER_NOT_V2X = frozenset({"DiagnosticsStatusNotification"})

# "Component[instance].Variable[instance]" naming a 2.x device-model variable.
_VARIABLE_KEY = re.compile(
    r"^(?P<component>[^.\[\]]+)(?:\[(?P<component_instance>[^\]]+)\])?"
    r"\.(?P<variable>[^\[\]]+?)(?:\[(?P<variable_instance>[^\]]+)\])?$"
)


def _v16_connector(evse_id: int | None, connector_id: int | None) -> int | None:
    """The 1.6 connectorId for an (evse, connector) pair: 1.6 connector N is EVSE N."""
    if evse_id is None:
        # A 1.6 operator may think in connectors only.
        return connector_id
    if connector_id not in (None, 1):
        raise Invalid(
            f"a 1.6 station has one connector per EVSE: connector {connector_id} of EVSE "
            f"{evse_id} does not exist (use evse_id for the 1.6 connectorId)"
        )
    return evse_id


def _evse(evse_id: int | None, connector_id: int | None) -> Payload | None:
    """The 2.x EVSEType for an (evse, connector) pair, None for the whole station."""
    if evse_id is None:
        if connector_id is not None:
            raise Invalid("connector_id needs an evse_id for a 2.0.1/2.1 station")
        return None
    evse: Payload = {"id": evse_id}
    if connector_id is not None:
        evse["connectorId"] = connector_id
    return evse


def start_request(
    version: OcppVersion,
    *,
    uid: str,
    token_type: str | None,
    evse_id: int | None,
    connector_id: int | None,
    remote_start_id: int,
) -> Request:
    """RemoteStartTransaction (1.6) / RequestStartTransaction (2.x) for an id token."""
    if version is OcppVersion.V16:
        payload: Payload = {"idTag": uid}
        connector = _v16_connector(evse_id, connector_id)
        if connector is not None:
            payload["connectorId"] = connector
        return Request("RemoteStartTransaction", payload)
    if connector_id is not None:
        # F01: 2.x starts on an EVSE; the station picks the connector the cable is in.
        raise Invalid("RequestStartTransaction addresses an EVSE, not a connector: use evse_id")
    # A token the CSMS has no record of goes as Central: an id the CSMS itself vouches for.
    payload = {
        "idToken": {"idToken": uid, "type": token_type or "Central"},
        "remoteStartId": remote_start_id,
    }
    if evse_id is not None:
        payload["evseId"] = evse_id
    return Request("RequestStartTransaction", payload)


def stop_request(version: OcppVersion, *, transaction_pk: int, transaction_uid: str) -> Request:
    """RemoteStopTransaction (1.6, our integer id) / RequestStopTransaction (2.x, the station's)."""
    if version is OcppVersion.V16:
        # 1.6: the transactionId is the integer the CSMS issued in StartTransaction.conf.
        return Request("RemoteStopTransaction", {"transactionId": transaction_pk})
    return Request("RequestStopTransaction", {"transactionId": transaction_uid})


def reset_request(version: OcppVersion, *, type: str, evse_id: int | None) -> Request:
    """Reset, with the type translated between 1.6 Hard/Soft and 2.x Immediate/OnIdle."""
    if version is OcppVersion.V16:
        if evse_id is not None:
            raise Invalid("a 1.6 Reset always resets the whole station: leave out evse_id")
        if type not in _RESET_V16:
            raise Invalid(f"unknown reset type {type!r} for a 1.6 station (Hard or Soft)")
        return Request("Reset", {"type": _RESET_V16[type]})
    if type == _RESET_V21_ONLY and version is OcppVersion.V21:
        translated = type
    elif type in _RESET_V2X:
        translated = _RESET_V2X[type]
    else:
        raise Invalid(f"unknown reset type {type!r} for an OCPP {version} station")
    payload: Payload = {"type": translated}
    if evse_id is not None:
        payload["evseId"] = evse_id
    return Request("Reset", payload)


def unlock_request(version: OcppVersion, *, evse_id: int, connector_id: int | None) -> Request:
    """UnlockConnector for one connector."""
    if version is OcppVersion.V16:
        return Request("UnlockConnector", {"connectorId": _v16_connector(evse_id, connector_id)})
    # 2.x requires both ids; an EVSE with one connector has connector 1.
    return Request(
        "UnlockConnector",
        {"evseId": evse_id, "connectorId": 1 if connector_id is None else connector_id},
    )


def availability_request(
    version: OcppVersion, *, operative: bool, evse_id: int | None, connector_id: int | None
) -> Request:
    """ChangeAvailability of the station, an EVSE or a connector."""
    status = "Operative" if operative else "Inoperative"
    if version is OcppVersion.V16:
        connector = _v16_connector(evse_id, connector_id)
        # 1.6 connectorId 0 addresses the whole charge point.
        return Request(
            "ChangeAvailability",
            {"connectorId": 0 if connector is None else connector, "type": status},
        )
    payload: Payload = {"operationalStatus": status}
    evse = _evse(evse_id or None, connector_id)  # 2.x: no evse = the whole station
    if evse is not None:
        payload["evse"] = evse
    return Request("ChangeAvailability", payload)


def trigger_request(
    version: OcppVersion, *, message: str, evse_id: int | None, connector_id: int | None
) -> Request:
    """TriggerMessage (1.6: ExtendedTriggerMessage for the security messages), names translated."""
    if version is OcppVersion.V16:
        name = _TRIGGER_TO_V16.get(message, message)
        payload: Payload = {"requestedMessage": name}
        connector = _v16_connector(evse_id, connector_id)
        if connector is not None:
            payload["connectorId"] = connector
        if name in _TRIGGER_V16:
            return Request("TriggerMessage", payload)
        if name in _TRIGGER_V16_EXTENDED:
            # SW16: these can only be requested through ExtendedTriggerMessage.
            return Request("ExtendedTriggerMessage", payload)
        raise Invalid(f"a 1.6 station cannot be asked to send {message}")
    if message in _TRIGGER_NOT_V2X:
        raise Invalid(f"{message} has no OCPP {version} equivalent (2.x uses GetLog / LogStatus)")
    payload = {"requestedMessage": _TRIGGER_TO_V2X.get(message, message)}
    evse = _evse(evse_id, connector_id)
    if evse is not None:
        payload["evse"] = evse
    return Request("TriggerMessage", payload)


@dataclass(frozen=True, slots=True)
class VariableRef:
    """A 2.x device-model variable: component (+instance, +EVSE) and variable (+instance)."""

    component: str
    variable: str
    component_instance: str | None = None
    variable_instance: str | None = None
    evse_id: int | None = None
    connector_id: int | None = None

    def component_payload(self) -> Payload:
        """The ComponentType for this variable."""
        component: Payload = {"name": self.component}
        if self.component_instance is not None:
            component["instance"] = self.component_instance
        evse = _evse(self.evse_id, self.connector_id)
        if evse is not None:
            component["evse"] = evse
        return component

    def variable_payload(self) -> Payload:
        """The VariableType for this variable."""
        variable: Payload = {"name": self.variable}
        if self.variable_instance is not None:
            variable["instance"] = self.variable_instance
        return variable


# Read by a 2.x "get configuration" that names nothing. Kept short: a station may refuse more
# than its ItemsPerMessageGetVariables entries; an unknown variable only gets UnknownVariable.
CORE_VARIABLES: tuple[VariableRef, ...] = tuple(
    VariableRef(component=component, variable=variable, variable_instance=instance)
    for component, variable, instance in (
        ("OCPPCommCtrlr", "HeartbeatInterval", None),
        ("OCPPCommCtrlr", "OfflineThreshold", None),
        ("OCPPCommCtrlr", "MessageTimeout", "Default"),
        ("AuthCtrlr", "AuthorizeRemoteStart", None),
        ("AuthCtrlr", "LocalPreAuthorize", None),
        ("TxCtrlr", "TxStartPoint", None),
        ("TxCtrlr", "TxStopPoint", None),
        ("SampledDataCtrlr", "TxUpdatedMeasurands", None),
        ("SampledDataCtrlr", "TxUpdatedInterval", None),
        ("SecurityCtrlr", "SecurityProfile", None),
    )
)


def parse_variable_key(
    key: str, *, evse_id: int | None = None, connector_id: int | None = None
) -> VariableRef:
    """Read "Component[instance].Variable[instance]" (instances optional) as a variable."""
    match = _VARIABLE_KEY.match(key)
    if match is None:
        raise Invalid(
            f"{key!r} does not name a 2.x variable: use Component.Variable, "
            "e.g. OCPPCommCtrlr.HeartbeatInterval"
        )
    return VariableRef(
        component=match["component"],
        variable=match["variable"],
        component_instance=match["component_instance"],
        variable_instance=match["variable_instance"],
        evse_id=evse_id,
        connector_id=connector_id,
    )


def set_configuration_request(
    version: OcppVersion, *, key: str | None, variable: VariableRef | None, value: str
) -> Request:
    """ChangeConfiguration (1.6, a key) / SetVariables (2.x, one variable's Actual value)."""
    if version is OcppVersion.V16:
        if key is None:
            raise Invalid("a 1.6 station is configured by key: give key and value")
        return Request("ChangeConfiguration", {"key": key, "value": value})
    if variable is None:
        if key is None:
            raise Invalid("give key (Component.Variable) or component and variable")
        variable = parse_variable_key(key)
    return Request(
        "SetVariables",
        {
            "setVariableData": [
                {
                    "attributeValue": value,
                    "component": variable.component_payload(),
                    "variable": variable.variable_payload(),
                }
            ]
        },
    )


def get_configuration_request(
    version: OcppVersion, *, keys: list[str], variables: list[VariableRef]
) -> Request:
    """GetConfiguration (1.6; no keys = all) / GetVariables (2.x; at least one variable)."""
    if version is OcppVersion.V16:
        if variables:
            raise Invalid("a 1.6 station is configured by key: give keys")
        return Request("GetConfiguration", {"key": keys} if keys else {})
    # The whole device model only comes asynchronously, in NotifyReport messages (B07/B08:
    # POST .../ocpp/GetBaseReport); with nothing named, read the variables looked at first.
    wanted = variables + [parse_variable_key(key) for key in keys] or list(CORE_VARIABLES)
    return Request(
        "GetVariables",
        {
            "getVariableData": [
                {"component": v.component_payload(), "variable": v.variable_payload()}
                for v in wanted
            ]
        },
    )
