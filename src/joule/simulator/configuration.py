"""The station's configuration: 1.6 keys and the 2.x device model in one store.

Each setting has one value and up to two names: its 1.6 configuration key (C16 §9) and its 2.x
component/variable (P2 appendix, device model). A 1.6 station reads and writes it through
Get/ChangeConfiguration, a 2.x station through Get/SetVariables and reports it in NotifyReport.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from joule.simulator.meter import DEFAULT_MEASURANDS

Payload = dict[str, Any]

RW, RO, WO = "ReadWrite", "ReadOnly", "WriteOnly"


@dataclass
class Setting:
    """One configuration value and its names in both versions."""

    name: str  # canonical name (the 1.6 key where one exists)
    value: str
    data_type: str  # integer | boolean | string | MemberList | OptionList
    mutability: str = RW
    v16_key: str | None = None
    component: str | None = None
    variable: str | None = None
    instance: str | None = None
    evse_id: int | None = None  # a per-EVSE component (EVSE, Connector)
    values_list: str | None = None
    minimum: int | None = None
    maximum: int | None = None


def _both(
    name: str,
    value: object,
    data_type: str,
    component: str,
    variable: str,
    *,
    instance: str | None = None,
    mutability: str = RW,
    minimum: int | None = None,
    values_list: str | None = None,
) -> Setting:
    """A setting with a 1.6 key (its canonical name) and a 2.x component/variable."""
    return Setting(
        name,
        _text(value),
        data_type,
        mutability,
        v16_key=name,
        component=component,
        variable=variable,
        instance=instance,
        values_list=values_list,
        minimum=minimum,
    )


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def default_settings(
    *,
    evse_ids: Iterable[int],
    vendor: str,
    model: str,
    security_profile: int,
    password: str | None,
    evse_power_w: dict[int, int],
    evse_phases: dict[int, int],
    connector_types: dict[int, str],
) -> list[Setting]:
    """The settings of a simulated station, with their defaults."""
    evses = list(evse_ids)
    measurands = ",".join(DEFAULT_MEASURANDS)
    # fmt: off
    settings = [
        _both("HeartbeatInterval", 300, "integer", "OCPPCommCtrlr", "HeartbeatInterval", minimum=0),
        _both("ConnectionTimeOut", 60, "integer", "TxCtrlr", "EVConnectionTimeOut", minimum=1),
        _both("MeterValueSampleInterval", 60, "integer", "SampledDataCtrlr", "TxUpdatedInterval",
              minimum=0),
        _both("MeterValuesSampledData", measurands, "MemberList", "SampledDataCtrlr",
              "TxUpdatedMeasurands", values_list=measurands),
        _both("StopTxnSampledData", "Energy.Active.Import.Register", "MemberList",
              "SampledDataCtrlr", "TxEndedMeasurands", values_list=measurands),
        _both("TransactionMessageAttempts", 3, "integer", "OCPPCommCtrlr", "MessageAttempts",
              instance="TransactionEvent", minimum=1),
        _both("TransactionMessageRetryInterval", 10, "integer", "OCPPCommCtrlr",
              "MessageAttemptInterval", instance="TransactionEvent", minimum=0),
        _both("RetryBackOffWaitMinimum", 10, "integer", "OCPPCommCtrlr",
              "RetryBackOffWaitMinimum", minimum=0),
        _both("RetryBackOffRandomRange", 10, "integer", "OCPPCommCtrlr",
              "RetryBackOffRandomRange", minimum=0),
        _both("RetryBackOffRepeatTimes", 3, "integer", "OCPPCommCtrlr", "RetryBackOffRepeatTimes",
              minimum=0),
        _both("MessageTimeout", 30, "integer", "OCPPCommCtrlr", "MessageTimeout",
              instance="Default", minimum=1),
        _both("WebSocketPingInterval", 0, "integer", "OCPPCommCtrlr", "WebSocketPingInterval",
              minimum=0),
        _both("ResetRetries", 1, "integer", "OCPPCommCtrlr", "ResetRetries", minimum=0),
        _both("AuthorizeRemoteTxRequests", False, "boolean", "AuthCtrlr", "AuthorizeRemoteStart"),
        _both("LocalAuthorizeOffline", True, "boolean", "AuthCtrlr", "LocalAuthorizeOffline"),
        _both("LocalPreAuthorize", False, "boolean", "AuthCtrlr", "LocalPreAuthorize"),
        _both("AuthorizationCacheEnabled", True, "boolean", "AuthCacheCtrlr", "Enabled"),
        _both("LocalAuthListEnabled", True, "boolean", "LocalAuthListCtrlr", "Enabled"),
        _both("StopTransactionOnInvalidId", True, "boolean", "TxCtrlr", "StopTxOnInvalidId"),
        _both("StopTransactionOnEVSideDisconnect", True, "boolean", "TxCtrlr",
              "StopTxOnEVSideDisconnect", mutability=RO),
        _both("ChargeProfileMaxStackLevel", 8, "integer", "SmartChargingCtrlr",
              "ProfileStackLevel", mutability=RO),
        _both("ChargingScheduleMaxPeriods", 24, "integer", "SmartChargingCtrlr",
              "PeriodsPerSchedule", mutability=RO),
        _both("GetConfigurationMaxKeys", 100, "integer", "DeviceDataCtrlr", "ItemsPerMessage",
              instance="GetVariables", mutability=RO),
        _both("SendLocalListMaxLength", 100, "integer", "LocalAuthListCtrlr", "ItemsPerMessage",
              mutability=RO),
        _both("AuthorizationKey", password or "", "string", "SecurityCtrlr", "BasicAuthPassword",
              mutability=WO),
        _both("SecurityProfile", security_profile, "integer", "SecurityCtrlr", "SecurityProfile",
              mutability=RO),
        # 1.6 only (C16 §9.1 core and feature profile keys).
        Setting("NumberOfConnectors", str(len(evses)), "integer", RO, v16_key="NumberOfConnectors"),
        Setting("SupportedFeatureProfiles",
                "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,"
                "RemoteTrigger", "string", RO, v16_key="SupportedFeatureProfiles"),
        Setting("ChargingScheduleAllowedChargingRateUnit", "Current,Power", "string", RO,
                v16_key="ChargingScheduleAllowedChargingRateUnit"),
        Setting("MaxChargingProfilesInstalled", "32", "integer", RO,
                v16_key="MaxChargingProfilesInstalled"),
        Setting("LocalAuthListMaxLength", "1000", "integer", RO, v16_key="LocalAuthListMaxLength"),
        Setting("UnlockConnectorOnEVSideDisconnect", "true", "boolean",
                v16_key="UnlockConnectorOnEVSideDisconnect"),
        Setting("ReserveConnectorZeroSupported", "false", "boolean", RO,
                v16_key="ReserveConnectorZeroSupported"),
        # 2.x only (device model, P2 appendix).
        Setting("ChargingStation.Model", model, "string", RO, component="ChargingStation",
                variable="Model"),
        Setting("ChargingStation.VendorName", vendor, "string", RO, component="ChargingStation",
                variable="VendorName"),
        Setting("ChargingStation.AvailabilityState", "Available", "OptionList", RO,
                component="ChargingStation", variable="AvailabilityState"),
        Setting("SmartChargingCtrlr.RateUnit", "A,W", "MemberList", RO,
                component="SmartChargingCtrlr", variable="RateUnit"),
        Setting("SmartChargingCtrlr.Enabled", "true", "boolean", RO,
                component="SmartChargingCtrlr", variable="Enabled"),
        Setting("ReservationCtrlr.Enabled", "true", "boolean", RO, component="ReservationCtrlr",
                variable="Enabled"),
        Setting("TxCtrlr.TxStartPoint", "PowerPathClosed", "MemberList", RO, component="TxCtrlr",
                variable="TxStartPoint"),
        Setting("TxCtrlr.TxStopPoint", "EVConnected,Authorized", "MemberList", RO,
                component="TxCtrlr", variable="TxStopPoint"),
        Setting("SampledDataCtrlr.TxStartedMeasurands", "Energy.Active.Import.Register",
                "MemberList", RO, component="SampledDataCtrlr", variable="TxStartedMeasurands"),
        Setting("DeviceDataCtrlr.ItemsPerMessage.SetVariables", "100", "integer", RO,
                component="DeviceDataCtrlr", variable="ItemsPerMessage",
                instance="SetVariables"),
        # D01/D02: the list's controller; Entries is how many ids it holds now (the capacity is
        # the 1.6 key LocalAuthListMaxLength, shared by both versions here).
        Setting("LocalAuthListCtrlr.Available", "true", "boolean", RO,
                component="LocalAuthListCtrlr", variable="Available"),
        Setting("LocalAuthListCtrlr.Entries", "0", "integer", RO,
                component="LocalAuthListCtrlr", variable="Entries"),
        Setting("LocalAuthListCtrlr.BytesPerMessage", "65536", "integer", RO,
                component="LocalAuthListCtrlr", variable="BytesPerMessage"),
    ]
    for evse in evses:
        settings += [
            Setting(f"EVSE{evse}.AvailabilityState", "Available", "OptionList", RO,
                    component="EVSE", variable="AvailabilityState", evse_id=evse),
            Setting(f"EVSE{evse}.Power", str(evse_power_w[evse]), "decimal", RO,
                    component="EVSE", variable="Power", evse_id=evse),
            Setting(f"EVSE{evse}.SupplyPhases", str(evse_phases[evse]), "integer", RO,
                    component="EVSE", variable="SupplyPhases", evse_id=evse),
            Setting(f"Connector{evse}.ConnectorType", connector_types[evse], "string", RO,
                    component="Connector", variable="ConnectorType", evse_id=evse),
        ]
    # fmt: on
    return settings


ACCEPTED = "Accepted"
REJECTED = "Rejected"


@dataclass
class ConfigStore:
    """The values a station runs with; writes are checked and announced to listeners."""

    settings: list[Setting]
    listeners: list[Callable[[Setting], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_name = {s.name: s for s in self.settings}
        self._by_v16 = {s.v16_key: s for s in self.settings if s.v16_key}

    def get(self, name: str) -> str:
        """The value of a setting by canonical name."""
        return self._by_name[name].value

    def get_int(self, name: str) -> int:
        """An integer setting."""
        return int(self.get(name))

    def get_bool(self, name: str) -> bool:
        """A boolean setting (1.6 allows any letter case)."""
        return self.get(name).strip().lower() == "true"

    def get_list(self, name: str) -> tuple[str, ...]:
        """A comma-separated list setting."""
        return tuple(v.strip() for v in self.get(name).split(",") if v.strip())

    def put(self, name: str, value: object) -> None:
        """Set a value from inside the station (read-only ones too); listeners are not told."""
        self._by_name[name].value = _text(value)

    def by_v16_key(self, key: str) -> Setting | None:
        """The setting behind a 1.6 configuration key (exact key; 1.6 keys are case-sensitive)."""
        return self._by_v16.get(key)

    def v16_keys(self) -> list[Setting]:
        """Every setting that has a 1.6 key."""
        return [s for s in self.settings if s.v16_key]

    def find(
        self, component: str, variable: str, *, instance: str | None, evse_id: int | None
    ) -> tuple[Setting | None, bool]:
        """A 2.x variable and whether its component exists at all (UnknownComponent)."""
        component_known = False
        for s in self.settings:
            if s.component != component or s.evse_id != evse_id:
                continue
            component_known = True
            if s.variable == variable and s.instance == instance:
                return s, True
        return None, component_known

    def write(self, setting: Setting, value: str) -> str:
        """Write a value: Accepted, or Rejected when read-only or out of range (listeners told)."""
        if setting.mutability == RO:
            return REJECTED
        checked = _check(setting, value)
        if checked is None:
            return REJECTED
        setting.value = checked
        for listener in self.listeners:
            listener(setting)
        return ACCEPTED

    def device_model(self) -> list[Setting]:
        """Every setting with a 2.x component/variable (for NotifyReport)."""
        return [s for s in self.settings if s.component and s.variable]


def _check(setting: Setting, value: str) -> str | None:
    if setting.data_type == "integer":
        try:
            number = int(value.strip())
        except ValueError:
            return None
        if setting.minimum is not None and number < setting.minimum:
            return None
        if setting.maximum is not None and number > setting.maximum:
            return None
        return str(number)
    if setting.data_type == "boolean":
        lowered = value.strip().lower()
        return lowered if lowered in ("true", "false") else None
    if setting.data_type == "MemberList" and setting.values_list is not None:
        allowed = set(setting.values_list.split(","))
        members = [v.strip() for v in value.split(",") if v.strip()]
        return ",".join(members) if all(m in allowed for m in members) else None
    if setting.name == "AuthorizationKey" and not 16 <= len(value) <= 40:
        # A00.FR.205 (2.0.1) / SW16: a Basic-auth password has 16 to 40 characters.
        return None
    return value
