"""Alert rules, pure: worked examples of every rule, thresholds and their checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from joule.domain.alerting import rules
from joule.domain.alerting.rules import (
    ConnectorState,
    SecurityEventState,
    Snapshot,
    StationState,
    TransactionState,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def defaults(**overrides: dict[str, int]) -> dict[str, rules.RuleSettings]:
    return {name: rules.settings_for(name, params=overrides.get(name)) for name in rules.RULES}


def found(
    snapshot: Snapshot, settings: dict[str, rules.RuleSettings] | None = None
) -> set[tuple[str, str]]:
    result = rules.evaluate(snapshot, settings or defaults(), now=NOW, heartbeat_interval_s=300)
    return {f.key for f in result}


def station(**kw: object) -> StationState:
    values: dict[str, object] = {
        "station_id": "CS-1",
        "site_id": "S1",
        "online": True,
        "last_seen": NOW,
    }
    values.update(kw)
    return StationState(**values)  # type: ignore[arg-type]


def test_offline_only_after_the_threshold() -> None:
    nine = Snapshot(stations=(station(online=False, last_seen=NOW - timedelta(minutes=9)),))
    ten = Snapshot(stations=(station(online=False, last_seen=NOW - timedelta(minutes=10)),))
    assert found(nine) == set()
    assert found(ten) == {(rules.STATION_OFFLINE, "CS-1")}
    assert found(nine, defaults(station_offline={"minutes": 5})) == {
        (rules.STATION_OFFLINE, "CS-1")
    }


def test_silent_connected_station_misses_heartbeats() -> None:
    # 3 intervals of 300 s by default
    quiet = Snapshot(stations=(station(last_seen=NOW - timedelta(seconds=900)),))
    chatty = Snapshot(stations=(station(last_seen=NOW - timedelta(seconds=899)),))
    assert found(quiet) == {(rules.HEARTBEAT_MISSED, "CS-1")}
    assert found(chatty) == set()


def test_faulted_connectors_and_station_carry_the_error_code() -> None:
    snap = Snapshot(
        stations=(station(status="Faulted", error_code="GroundFailure"),),
        connectors=(
            ConnectorState("CS-1", "S1", 1, 1, "Faulted", "HighTemperature"),
            ConnectorState("CS-1", "S1", 2, 1, "Available", None),
        ),
    )
    result = rules.evaluate(snap, defaults(), now=NOW, heartbeat_interval_s=300)
    by_target = {f.target: f for f in result}
    assert set(by_target) == {"CS-1/0/0", "CS-1/1/1"}
    assert by_target["CS-1/1/1"].details["error_code"] == "HighTemperature"
    assert "HighTemperature" in by_target["CS-1/1/1"].message
    assert by_target["CS-1/0/0"].details["error_code"] == "GroundFailure"


def test_boot_loop_counts_boots_in_the_window() -> None:
    boots = tuple(NOW - timedelta(minutes=m) for m in (1, 5, 10, 20, 29))
    assert found(Snapshot(stations=(station(boots=boots),))) == {(rules.BOOT_LOOP, "CS-1")}
    assert found(Snapshot(stations=(station(boots=boots[:4]),))) == set()
    older = (*boots[:4], NOW - timedelta(minutes=31))
    assert found(Snapshot(stations=(station(boots=older),))) == set()


def test_stuck_and_long_transactions() -> None:
    stuck = TransactionState(7, "CS-1", "S1", NOW - timedelta(hours=1), NOW - timedelta(minutes=30))
    fresh = TransactionState(8, "CS-1", "S1", NOW - timedelta(hours=1), NOW - timedelta(minutes=1))
    never = TransactionState(9, "CS-1", "S1", NOW - timedelta(minutes=31), None)
    ancient = TransactionState(10, "CS-1", "S1", NOW - timedelta(hours=48), NOW)
    assert found(Snapshot(transactions=(stuck, fresh, never, ancient))) == {
        (rules.TRANSACTION_NO_METER_VALUES, "CS-1/tx/7"),
        (rules.TRANSACTION_NO_METER_VALUES, "CS-1/tx/9"),
        (rules.TRANSACTION_TOO_LONG, "CS-1/tx/10"),
    }


def test_security_events_within_the_window_per_type() -> None:
    events = (
        SecurityEventState("CS-1", "S1", "TamperDetectionActivated", NOW - timedelta(hours=1)),
        SecurityEventState("CS-1", "S1", "TamperDetectionActivated", NOW - timedelta(hours=2)),
        SecurityEventState("CS-1", "S1", "FirmwareUpdated", NOW - timedelta(hours=25)),
        SecurityEventState("CS-1", "S1", "StartupOfTheDevice", NOW - timedelta(hours=1)),
    )
    result = rules.evaluate(
        Snapshot(security_events=events), defaults(), now=NOW, heartbeat_interval_s=300
    )
    assert [(f.target, f.details["count"]) for f in result] == [
        ("CS-1/security/TamperDetectionActivated", 2)
    ]


def test_firmware_and_diagnostics_failures() -> None:
    snap = Snapshot(
        stations=(
            station(firmware_status="InstallationFailed", diagnostics_status="UploadFailed"),
            station(station_id="CS-2", firmware_status="Installed", diagnostics_status="Uploaded"),
        )
    )
    assert found(snap) == {(rules.FIRMWARE_FAILED, "CS-1"), (rules.DIAGNOSTICS_FAILED, "CS-1")}


def test_disabled_rules_find_nothing() -> None:
    settings = defaults()
    settings[rules.CONNECTOR_FAULTED] = rules.settings_for(rules.CONNECTOR_FAULTED, enabled=False)
    snap = Snapshot(connectors=(ConnectorState("CS-1", None, 1, 1, "Faulted", None),))
    assert found(snap, settings) == set()


@pytest.mark.parametrize(
    ("rule", "params", "error"),
    [
        (rules.STATION_OFFLINE, {"hours": 1}, "no threshold 'hours'"),
        (rules.STATION_OFFLINE, {"minutes": 0}, "positive integer"),
        (rules.STATION_OFFLINE, {"minutes": 1.5}, "positive integer"),
        (rules.STATION_OFFLINE, {"minutes": True}, "positive integer"),
        (rules.CONNECTOR_FAULTED, {"minutes": 1}, "thresholds: none"),
    ],
)
def test_thresholds_are_checked(rule: str, params: dict[str, object], error: str) -> None:
    with pytest.raises(rules.InvalidRuleParams, match=error):
        rules.checked_params(rule, params)


def test_settings_fill_in_defaults() -> None:
    config = rules.settings_for(rules.BOOT_LOOP, params={"boots": 3})
    assert config.params == {"boots": 3, "minutes": 30}
