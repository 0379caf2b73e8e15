"""Which OCPP actions exist, per version, and in which direction each one travels.

The set of actions comes from the schema files shipped in the `ocpp` package; the direction of
each action is a hand list taken from the specifications (C16 §4/§5 and the 1.6 security
whitepaper; P2 use cases for 2.0.1 and 2.1). A test checks that the hand list covers exactly
the schema files, so a new schema cannot slip in without a direction.
"""

from __future__ import annotations

from functools import cache
from itertools import chain

from joule.ocpp.errors import ErrorKind, OcppError
from joule.ocpp.schemas import schema_actions, unconfirmed_actions
from joule.ocpp.versions import OcppVersion

# Messages a station sends to the CSMS (C16 §4, SW16 §4) — both directions for DataTransfer.
_V16_STATION = frozenset(
    {
        "Authorize",
        "BootNotification",
        "DataTransfer",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "MeterValues",
        "StartTransaction",
        "StatusNotification",
        "StopTransaction",
        # 1.6 security whitepaper (SW16) extension messages.
        "LogStatusNotification",
        "SecurityEventNotification",
        "SignCertificate",
        "SignedFirmwareStatusNotification",
    }
)

_V16_CSMS = frozenset(
    {
        "CancelReservation",
        "ChangeAvailability",
        "ChangeConfiguration",
        "ClearCache",
        "ClearChargingProfile",
        "DataTransfer",
        "GetCompositeSchedule",
        "GetConfiguration",
        "GetDiagnostics",
        "GetLocalListVersion",
        "RemoteStartTransaction",
        "RemoteStopTransaction",
        "ReserveNow",
        "Reset",
        "SendLocalList",
        "SetChargingProfile",
        "TriggerMessage",
        "UnlockConnector",
        "UpdateFirmware",
        # SW16 extension messages.
        "CertificateSigned",
        "DeleteCertificate",
        "ExtendedTriggerMessage",
        "GetInstalledCertificateIds",
        "GetLog",
        "InstallCertificate",
        "SignedUpdateFirmware",
    }
)

_V201_STATION = frozenset(
    {
        "Authorize",
        "BootNotification",
        "ClearedChargingLimit",
        "DataTransfer",
        "FirmwareStatusNotification",
        "Get15118EVCertificate",
        "GetCertificateStatus",
        "Heartbeat",
        "LogStatusNotification",
        "MeterValues",
        "NotifyChargingLimit",
        "NotifyCustomerInformation",
        "NotifyDisplayMessages",
        "NotifyEVChargingNeeds",
        "NotifyEVChargingSchedule",
        "NotifyEvent",
        "NotifyMonitoringReport",
        "NotifyReport",
        "PublishFirmwareStatusNotification",
        "ReportChargingProfiles",
        "ReservationStatusUpdate",
        "SecurityEventNotification",
        "SignCertificate",
        "StatusNotification",
        "TransactionEvent",
    }
)

_V201_CSMS = frozenset(
    {
        "CancelReservation",
        "CertificateSigned",
        "ChangeAvailability",
        "ClearCache",
        "ClearChargingProfile",
        "ClearDisplayMessage",
        "ClearVariableMonitoring",
        "CostUpdated",
        "CustomerInformation",
        "DataTransfer",
        "DeleteCertificate",
        "GetBaseReport",
        "GetChargingProfiles",
        "GetCompositeSchedule",
        "GetDisplayMessages",
        "GetInstalledCertificateIds",
        "GetLocalListVersion",
        "GetLog",
        "GetMonitoringReport",
        "GetReport",
        "GetTransactionStatus",
        "GetVariables",
        "InstallCertificate",
        "PublishFirmware",
        "RequestStartTransaction",
        "RequestStopTransaction",
        "ReserveNow",
        "Reset",
        "SendLocalList",
        "SetChargingProfile",
        "SetDisplayMessage",
        "SetMonitoringBase",
        "SetMonitoringLevel",
        "SetNetworkProfile",
        "SetVariableMonitoring",
        "SetVariables",
        "TriggerMessage",
        "UnlockConnector",
        "UnpublishFirmware",
        "UpdateFirmware",
    }
)

# 2.1 keeps every 2.0.1 message and adds these (P2 2.1: DER control, tariffs, periodic event
# streams, battery swap, priority charging, local payment, dynamic schedules).
_V21_NEW_STATION = frozenset(
    {
        "BatterySwap",
        "ClosePeriodicEventStream",
        "GetCertificateChainStatus",
        "NotifyDERAlarm",
        "NotifyDERStartStop",
        "NotifyPeriodicEventStream",  # a SEND (MessageTypeId 6): no response
        "NotifyPriorityCharging",
        "NotifySettlement",
        "OpenPeriodicEventStream",
        "PullDynamicScheduleUpdate",
        "ReportDERControl",
        "VatNumberValidation",
    }
)

_V21_NEW_CSMS = frozenset(
    {
        "AFRRSignal",
        "AdjustPeriodicEventStream",
        "ChangeTransactionTariff",
        "ClearDERControl",
        "ClearTariffs",
        "GetDERControl",
        "GetPeriodicEventStream",
        "GetTariffs",
        "NotifyAllowedEnergyTransfer",
        "NotifyWebPaymentStarted",
        "RequestBatterySwap",
        "SetDERControl",
        "SetDefaultTariff",
        "UpdateDynamicSchedule",
        "UsePriorityCharging",
    }
)

_STATION_INITIATED: dict[OcppVersion, frozenset[str]] = {
    OcppVersion.V16: _V16_STATION,
    OcppVersion.V201: _V201_STATION,
    OcppVersion.V21: _V201_STATION | _V21_NEW_STATION,
}
_CSMS_INITIATED: dict[OcppVersion, frozenset[str]] = {
    OcppVersion.V16: _V16_CSMS,
    OcppVersion.V201: _V201_CSMS,
    OcppVersion.V21: _V201_CSMS | _V21_NEW_CSMS,
}


@cache
def station_actions(version: OcppVersion) -> frozenset[str]:
    """Requests a station may send to the CSMS as a CALL in this version."""
    return _STATION_INITIATED[version] - unconfirmed_actions(version)


@cache
def station_send_actions(version: OcppVersion) -> frozenset[str]:
    """Unconfirmed SEND messages a station may send in this version (2.1 only)."""
    return _STATION_INITIATED[version] & unconfirmed_actions(version)


def csms_actions(version: OcppVersion) -> frozenset[str]:
    """Requests the CSMS may send to a station in this version."""
    return _CSMS_INITIATED[version]


def version_actions(version: OcppVersion) -> frozenset[str]:
    """Every action of this version, in either direction."""
    return schema_actions(version)


ALL_ACTIONS: frozenset[str] = frozenset(chain.from_iterable(schema_actions(v) for v in OcppVersion))


def check_inbound_action(version: OcppVersion, action: str) -> None:
    """Raise OcppError unless `action` is a CALL a station may send in this version.

    NotImplemented when no OCPP version knows the name, NotSupported when it is an OCPP action
    that a station may not send here (wrong version, wrong direction, or a SEND-only message).
    This is the mapping of the spec text (J16 Table 7, P4 §4.3: NotImplemented = "not known by
    receiver", NotSupported = "recognized but not supported"); mobilityhouse/ocpp maps the two
    the other way round (its `_raise_key_error`), which we deliberately do not follow.
    """
    if action in station_actions(version):
        return
    if action in ALL_ACTIONS:
        raise OcppError(
            ErrorKind.NOT_SUPPORTED,
            f"{action} is not a request a station sends in OCPP {version.value}",
        )
    raise OcppError(ErrorKind.NOT_IMPLEMENTED, f"unknown action {action[:64]!r}")
