"""Which security events are critical (pure): 2.0.1 appendix security_events.csv, A04."""

from __future__ import annotations

# The critical events of the 2.0.1 list (ocpp-robustness.md §1.4) …
CRITICAL_SECURITY_EVENTS: frozenset[str] = frozenset(
    {
        "FirmwareUpdated",
        "SettingSystemTime",
        "StartupOfTheDevice",
        "ResetOrReboot",
        "SecurityLogWasCleared",
        "MemoryExhaustion",
        "TamperDetectionActivated",
        "InvalidFirmwareSignature",
        "InvalidFirmwareSigningCertificate",
        "InvalidCsmsCertificate",
        "InvalidChargingStationCertificate",
        "InvalidTLSVersion",
        "InvalidTLSCipherSuite",
        "MaintenanceLoginAccepted",
        "MaintenanceLoginFailed",
        # … and the 1.6 security whitepaper's names for the same two certificate events.
        "InvalidCentralSystemCertificate",
        "InvalidChargePointCertificate",
    }
)

_CRITICAL_FOLDED = frozenset(name.casefold() for name in CRITICAL_SECURITY_EVENTS)


def is_critical(event_type: str) -> bool:
    """True for a critical security event (case-insensitive: some firmwares vary the case)."""
    return event_type.casefold() in _CRITICAL_FOLDED
