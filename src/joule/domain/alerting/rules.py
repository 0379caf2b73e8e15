"""Alert rules, pure: which conditions hold in a snapshot of the network (no I/O, no clock).

Every rule is a condition over current state, so an alert raised by it resolves by itself when a
later evaluation no longer finds the condition (issue 4: "auto-resolve when the condition clears").
Critical security events are instants: the condition is "a critical event within the last N hours".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

STATION_OFFLINE = "station_offline"
CONNECTOR_FAULTED = "connector_faulted"
HEARTBEAT_MISSED = "heartbeat_missed"
BOOT_LOOP = "boot_loop"
TRANSACTION_NO_METER_VALUES = "transaction_no_meter_values"
TRANSACTION_TOO_LONG = "transaction_too_long"
SECURITY_EVENT = "security_event"
FIRMWARE_FAILED = "firmware_failed"
DIAGNOSTICS_FAILED = "diagnostics_failed"
UPTIME_BELOW = "uptime_below"
# A station seen for minutes would fall below any threshold on its first short fault: the uptime
# rule judges a station once its ports have a day of history.
UPTIME_MIN_OBSERVED_S = 86_400

CRITICAL = "critical"
WARNING = "warning"

# 1.6 FirmwareStatus / DiagnosticsStatus and 2.x FirmwareStatusEnum / UploadLogStatusEnum values
# that mean the operation failed (L01, N01; 1.6 §6.25, §6.17).
FIRMWARE_FAILURES = frozenset(
    {
        "DownloadFailed",
        "InstallationFailed",
        "InstallVerificationFailed",
        "InvalidSignature",
        "SignatureError",
    }
)
# Critical in the 2.0.1 security event list but part of normal operation: every boot sends
# StartupOfTheDevice, a reset ResetOrReboot, an update FirmwareUpdated. Boot loops and failed
# updates have their own rules; alerting on each of these would drown the ones that matter.
ROUTINE_SECURITY_EVENTS = frozenset(
    {"StartupOfTheDevice", "ResetOrReboot", "FirmwareUpdated", "SettingSystemTime"}
)
DIAGNOSTICS_FAILURES = frozenset(
    {"UploadFailed", "BadMessage", "PermissionDenied", "NotSupportedOperation"}
)


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """A rule: its severity, default thresholds and what it watches."""

    rule: str
    severity: str
    defaults: dict[str, int]
    description: str


RULES: dict[str, RuleSpec] = {
    spec.rule: spec
    for spec in (
        RuleSpec(STATION_OFFLINE, CRITICAL, {"minutes": 10}, "station offline longer than N min"),
        RuleSpec(CONNECTOR_FAULTED, CRITICAL, {}, "a connector (or the station) is Faulted"),
        RuleSpec(
            HEARTBEAT_MISSED,
            WARNING,
            {"intervals": 3},
            "connected station silent for N heartbeat intervals",
        ),
        RuleSpec(BOOT_LOOP, CRITICAL, {"boots": 5, "minutes": 30}, "N boots within M minutes"),
        RuleSpec(
            TRANSACTION_NO_METER_VALUES,
            WARNING,
            {"minutes": 30},
            "active transaction without meter values for N minutes",
        ),
        RuleSpec(TRANSACTION_TOO_LONG, WARNING, {"hours": 48}, "transaction open over N hours"),
        RuleSpec(SECURITY_EVENT, CRITICAL, {"hours": 24}, "critical security event in N hours"),
        RuleSpec(FIRMWARE_FAILED, WARNING, {}, "firmware download or installation failed"),
        RuleSpec(DIAGNOSTICS_FAILED, WARNING, {}, "diagnostics or log upload failed"),
        # reporting.md §3.1: NEVI asks > 97 %; funding programmes may ask 99 (editable).
        RuleSpec(
            UPTIME_BELOW,
            WARNING,
            {"percent": 97, "days": 7},
            "station uptime below P % over the last D days",
        ),
    )
}


@dataclass(frozen=True, slots=True)
class RuleSettings:
    """A rule as configured: enabled or not, with its thresholds (defaults filled in)."""

    rule: str
    enabled: bool
    params: dict[str, int]


class InvalidRuleParams(ValueError):
    """Thresholds a rule does not accept."""


def settings_for(
    rule: str, *, enabled: bool = True, params: dict[str, Any] | None = None
) -> RuleSettings:
    """The rule's settings: stored thresholds over the defaults, checked."""
    spec = RULES[rule]
    merged = {**spec.defaults, **checked_params(rule, params or {})}
    return RuleSettings(rule=rule, enabled=enabled, params=merged)


def checked_params(rule: str, params: dict[str, Any]) -> dict[str, int]:
    """Thresholds for a rule: only its own names, positive integers; else InvalidRuleParams."""
    spec = RULES[rule]
    result: dict[str, int] = {}
    for name, value in params.items():
        if name not in spec.defaults:
            known = ", ".join(spec.defaults) or "none"
            raise InvalidRuleParams(f"{rule} has no threshold {name!r} (thresholds: {known})")
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidRuleParams(f"{rule}.{name} must be a positive integer")
        result[name] = value
    return result


@dataclass(frozen=True, slots=True)
class StationState:
    """What the rules need to know about a station."""

    station_id: str
    site_id: str | None
    online: bool
    last_seen: datetime | None
    firmware_status: str | None = None
    diagnostics_status: str | None = None
    status: str | None = None  # connector 0 / the station as a whole
    error_code: str | None = None
    boots: tuple[datetime, ...] = ()  # recent BootNotifications, newest window only
    uptime: Decimal | None = None  # percent over the uptime rule's window (None: no ports yet)


@dataclass(frozen=True, slots=True)
class ConnectorState:
    """A connector's current status."""

    station_id: str
    site_id: str | None
    evse_id: int
    connector_id: int
    status: str | None
    error_code: str | None
    vendor_error_code: str | None = None


@dataclass(frozen=True, slots=True)
class TransactionState:
    """An active transaction."""

    transaction_pk: int
    station_id: str
    site_id: str | None
    started_at: datetime | None
    last_meter_at: datetime | None


@dataclass(frozen=True, slots=True)
class SecurityEventState:
    """A critical security event received within the window."""

    station_id: str
    site_id: str | None
    type: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The state the rules are evaluated on."""

    stations: tuple[StationState, ...] = ()
    connectors: tuple[ConnectorState, ...] = ()
    transactions: tuple[TransactionState, ...] = ()
    security_events: tuple[SecurityEventState, ...] = ()


@dataclass(frozen=True, slots=True)
class Finding:
    """A condition that holds now: one alert per (rule, target)."""

    rule: str
    target: str
    station_id: str | None
    site_id: str | None
    severity: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        """The de-duplication key."""
        return (self.rule, self.target)


def _over(delta: timedelta | None, limit: timedelta) -> bool:
    return delta is not None and delta >= limit


def _since(at: datetime) -> str:
    # Messages name the moment a condition began, not its age: the text of an open alert stays
    # the same from one evaluation to the next, so thousands of open alerts (a regional outage)
    # are not rewritten every minute. The age is now minus this, shown wherever it is read.
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def evaluate(
    snapshot: Snapshot,
    settings: dict[str, RuleSettings],
    *,
    now: datetime,
    heartbeat_interval_s: int,
) -> list[Finding]:
    """Every finding of the enabled rules in the snapshot at `now`."""
    found: list[Finding] = []

    def on(rule: str) -> RuleSettings | None:
        config = settings.get(rule)
        return config if config is not None and config.enabled else None

    def finding(
        rule: str, target: str, station_id: str, site_id: str | None, message: str, **details: Any
    ) -> None:
        found.append(
            Finding(rule, target, station_id, site_id, RULES[rule].severity, message, details)
        )

    for st in snapshot.stations:
        sid = st.station_id
        silent = now - st.last_seen if st.last_seen is not None else None
        offline = on(STATION_OFFLINE)
        offline_for = silent if not st.online else None
        if offline and _over(offline_for, timedelta(minutes=offline.params["minutes"])):
            finding(
                STATION_OFFLINE,
                sid,
                sid,
                st.site_id,
                f"{sid} offline since {_since(st.last_seen or now)} "
                f"(over {offline.params['minutes']} min)",
                last_seen=st.last_seen.isoformat() if st.last_seen else None,
            )
        if (config := on(HEARTBEAT_MISSED)) and st.online and silent is not None:
            # J16 §5.3 / B01: a station sends Heartbeat (or any message) within its interval.
            limit = timedelta(seconds=heartbeat_interval_s * config.params["intervals"])
            if silent >= limit:
                finding(
                    HEARTBEAT_MISSED,
                    sid,
                    sid,
                    st.site_id,
                    f"{sid} connected but silent since {_since(st.last_seen or now)} "
                    f"(over {config.params['intervals']} heartbeat intervals)",
                    last_seen=st.last_seen.isoformat() if st.last_seen else None,
                )
        if (config := on(BOOT_LOOP)) and st.boots:
            window = timedelta(minutes=config.params["minutes"])
            recent = [at for at in st.boots if now - at <= window]
            if len(recent) >= config.params["boots"]:
                finding(
                    BOOT_LOOP,
                    sid,
                    sid,
                    st.site_id,
                    f"{sid} booted {len(recent)} times in {config.params['minutes']} min",
                    boots=len(recent),
                )
        config = on(UPTIME_BELOW)
        if config and st.uptime is not None and st.uptime < config.params["percent"]:
            shown = st.uptime.quantize(Decimal("0.01"))
            finding(
                UPTIME_BELOW,
                f"{sid}/uptime",
                sid,
                st.site_id,
                f"{sid} uptime {shown} % over {config.params['days']} days "
                f"(threshold {config.params['percent']} %)",
                uptime_percent=str(shown),
                days=config.params["days"],
            )
        if on(CONNECTOR_FAULTED) and st.status == "Faulted":
            finding(
                CONNECTOR_FAULTED,
                f"{sid}/0/0",
                sid,
                st.site_id,
                f"{sid} is Faulted ({st.error_code or 'no error code'})",
                evse_id=0,
                connector_id=0,
                error_code=st.error_code,
            )
        if on(FIRMWARE_FAILED) and st.firmware_status in FIRMWARE_FAILURES:
            finding(
                FIRMWARE_FAILED,
                sid,
                sid,
                st.site_id,
                f"{sid} firmware update failed: {st.firmware_status}",
                status=st.firmware_status,
            )
        if on(DIAGNOSTICS_FAILED) and st.diagnostics_status in DIAGNOSTICS_FAILURES:
            finding(
                DIAGNOSTICS_FAILED,
                sid,
                sid,
                st.site_id,
                f"{sid} diagnostics upload failed: {st.diagnostics_status}",
                status=st.diagnostics_status,
            )

    if on(CONNECTOR_FAULTED):
        for c in snapshot.connectors:
            if c.status == "Faulted" and (c.evse_id, c.connector_id) != (0, 0):
                finding(
                    CONNECTOR_FAULTED,
                    f"{c.station_id}/{c.evse_id}/{c.connector_id}",
                    c.station_id,
                    c.site_id,
                    f"{c.station_id} EVSE {c.evse_id} connector {c.connector_id} is Faulted "
                    f"({c.error_code or 'no error code'})",
                    evse_id=c.evse_id,
                    connector_id=c.connector_id,
                    error_code=c.error_code,
                    vendor_error_code=c.vendor_error_code,
                )

    quiet = on(TRANSACTION_NO_METER_VALUES)
    long = on(TRANSACTION_TOO_LONG)
    for tx in snapshot.transactions:
        target = f"{tx.station_id}/tx/{tx.transaction_pk}"
        last = tx.last_meter_at or tx.started_at
        if quiet and last is not None and now - last >= timedelta(minutes=quiet.params["minutes"]):
            finding(
                TRANSACTION_NO_METER_VALUES,
                target,
                tx.station_id,
                tx.site_id,
                f"transaction {tx.transaction_pk} on {tx.station_id} without meter values since "
                f"{_since(last)} (over {quiet.params['minutes']} min)",
                transaction_id=tx.transaction_pk,
            )
        open_for = now - tx.started_at if tx.started_at is not None else None
        if long and _over(open_for, timedelta(hours=long.params["hours"])):
            finding(
                TRANSACTION_TOO_LONG,
                target,
                tx.station_id,
                tx.site_id,
                f"transaction {tx.transaction_pk} on {tx.station_id} open since "
                f"{_since(tx.started_at or now)} (over {long.params['hours']} h)",
                transaction_id=tx.transaction_pk,
            )

    if config := on(SECURITY_EVENT):
        window = timedelta(hours=config.params["hours"])
        latest: dict[tuple[str, str], SecurityEventState] = {}
        counts: dict[tuple[str, str], int] = {}
        for ev in snapshot.security_events:
            if now - ev.at > window or ev.type in ROUTINE_SECURITY_EVENTS:
                continue
            key = (ev.station_id, ev.type)
            counts[key] = counts.get(key, 0) + 1
            if key not in latest or ev.at > latest[key].at:
                latest[key] = ev
        for (sid, kind), ev in latest.items():
            finding(
                SECURITY_EVENT,
                f"{sid}/security/{kind}",
                sid,
                ev.site_id,
                f"{sid} reported critical security event {kind}",
                type=kind,
                count=counts[(sid, kind)],
                last_at=ev.at.isoformat(),
            )
    return found
