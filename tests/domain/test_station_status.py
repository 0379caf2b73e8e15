"""StatusNotification: current status, auto-provisioning and interval history, both versions."""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime, timedelta
from typing import Any

import pytest
from tests.domain.helpers import (
    ALL_VERSIONS,
    T0,
    V16,
    V201,
    Handled,
    add_station,
    handle,
    rows,
    station,
)

from joule.domain.events import ConnectorStatusChanged
from joule.domain.station.intervals import utc
from joule.kit.clock import utc_iso
from joule.ocpp.errors import OcppError
from joule.ocpp.versions import OcppVersion
from joule.storage.committer import GroupCommitter, Preload
from joule.storage.models import Connector, Evse, Station, StatusInterval
from joule.storage.repositories.station_state import load_parts, load_stations

versions = pytest.mark.parametrize("version", ALL_VERSIONS, ids=lambda v: f"ocpp{v.value}")

# The same physical states in each version's vocabulary (each version's own value is stored).
AVAILABLE = {V16: "Available", "2.x": "Available"}
CHARGING = {V16: "Charging", "2.x": "Occupied"}
FAULTED = {V16: "Faulted", "2.x": "Faulted"}
RESERVED = {V16: "Reserved", "2.x": "Reserved"}


@pytest.fixture(autouse=True, params=["unbatched", "preloaded", "orm-held"])
def preloading(request: pytest.FixtureRequest, committer: GroupCommitter) -> None:
    """Run every test three ways: units of work alone; with the station's state, EVSEs and
    connectors preloaded as a dispatcher batch does (the preload then tells new connectors from
    known ones without SQL, which the write paths without a history read depend on); and with
    the rows also held as ORM objects, as when another handler of the batch loaded them (the
    lean writes must keep them in step)."""
    if request.param == "unbatched":
        return
    original = committer.run
    wanted: Preload = {load_stations: ("CS-1",), load_parts: ("CS-1",)}
    if request.param == "orm-held":
        wanted = {
            **wanted,
            Station: ("CS-1",),
            Evse: tuple(("CS-1", e) for e in range(5)),
            Connector: tuple(("CS-1", e, c) for e in range(5) for c in range(4)),
        }

    async def run(work: Any, *, preload: Preload | None = None) -> Any:
        return await original(work, preload={**wanted, **(preload or {})})

    committer.run = run  # type: ignore[method-assign]


def name(state: dict[Any, str], version: OcppVersion) -> str:
    return state[V16] if version is V16 else state["2.x"]


def status_payload(
    version: OcppVersion,
    state: dict[Any, str],
    at: datetime | None,
    *,
    evse: int = 1,
    connector: int = 1,
    error_code: str = "NoError",
    **extra: Any,
) -> dict[str, Any]:
    """A StatusNotification for EVSE `evse` (1.6: connectorId = evse)."""
    if version is V16:
        payload: dict[str, Any] = {
            "connectorId": evse,
            "errorCode": error_code,
            "status": name(state, version),
        }
        if at is not None:
            payload["timestamp"] = utc_iso(at)
    else:
        payload = {
            "timestamp": utc_iso(at or T0),
            "connectorStatus": name(state, version),
            "evseId": evse,
            "connectorId": connector,
        }
    payload.update(extra)
    return payload


async def report(
    committer: GroupCommitter,
    version: OcppVersion,
    state: dict[Any, str],
    at: datetime,
    **kwargs: Any,
) -> Handled:
    received_at = kwargs.pop("received_at", at + timedelta(seconds=1))
    payload = status_payload(version, state, at, **kwargs)
    handled = await handle(
        committer, version, "StatusNotification", payload, received_at=received_at
    )
    assert handled.response == {}
    return handled


async def history(
    committer: GroupCommitter, evse: int = 1, connector: int = 1
) -> list[tuple[str, datetime, datetime | None]]:
    intervals = await rows(
        committer, StatusInterval, station_id="CS-1", evse_id=evse, connector_id=connector
    )
    ordered = sorted(intervals, key=lambda i: (utc(i.started_at), i.id))
    return [(i.status, utc(i.started_at), utc(i.ended_at) if i.ended_at else None) for i in ordered]


def assert_non_overlapping(spans: list[tuple[str, datetime, datetime | None]]) -> None:
    for (_, _, end), (_, next_start, _) in itertools.pairwise(spans):
        assert end is not None and end <= next_start
    assert all(end is not None for _, _, end in spans[:-1])


@versions
async def test_in_order_statuses_provision_the_connector_and_chain_intervals(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    await add_station(committer)
    first = await report(committer, version, AVAILABLE, T0)
    second = await report(committer, version, CHARGING, T0 + timedelta(minutes=10))

    assert await rows(committer, Evse, station_id="CS-1") != []
    [connector] = await rows(committer, Connector, station_id="CS-1")
    assert (connector.evse_id, connector.connector_id) == (1, 1)
    assert connector.status == name(CHARGING, version)
    assert utc(connector.status_at or T0) == T0 + timedelta(minutes=10)
    assert await history(committer) == [
        (name(AVAILABLE, version), T0, T0 + timedelta(minutes=10)),
        (name(CHARGING, version), T0 + timedelta(minutes=10), None),
    ]
    [event] = second.of_type(ConnectorStatusChanged)
    assert (event.evse_id, event.connector_id, event.status) == (1, 1, name(CHARGING, version))
    assert event.at == T0 + timedelta(minutes=10)
    assert len(first.of_type(ConnectorStatusChanged)) == 1


@versions
async def test_repeated_status_adds_no_interval_and_no_event(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    await add_station(committer)
    await report(committer, version, AVAILABLE, T0)
    again = await report(committer, version, AVAILABLE, T0 + timedelta(minutes=3))

    assert again.events == []
    assert await history(committer) == [(name(AVAILABLE, version), T0, None)]


@versions
async def test_out_of_order_status_is_inserted_in_its_place(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    await add_station(committer)
    await report(committer, version, AVAILABLE, T0)
    await report(committer, version, FAULTED, T0 + timedelta(minutes=20))
    late = await report(
        committer,
        version,
        CHARGING,
        T0 + timedelta(minutes=10),
        received_at=T0 + timedelta(minutes=30),
    )

    spans = await history(committer)
    assert spans == [
        (name(AVAILABLE, version), T0, T0 + timedelta(minutes=10)),
        (name(CHARGING, version), T0 + timedelta(minutes=10), T0 + timedelta(minutes=20)),
        (name(FAULTED, version), T0 + timedelta(minutes=20), None),
    ]
    assert_non_overlapping(spans)
    # An older report fills in history only: the current status stays the newest one.
    [connector] = await rows(committer, Connector, station_id="CS-1")
    assert connector.status == name(FAULTED, version)
    assert late.events == []


@versions
async def test_late_repeat_keeps_its_boundary_so_later_reports_land_right(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    """Available@0, Faulted@40, late Available@30, late Charging@20: the true sequence."""
    await add_station(committer)
    await report(committer, version, AVAILABLE, T0)
    await report(committer, version, FAULTED, T0 + timedelta(minutes=40))
    await report(committer, version, AVAILABLE, T0 + timedelta(minutes=30))
    await report(committer, version, CHARGING, T0 + timedelta(minutes=20))

    spans = await history(committer)
    assert spans == [
        (name(AVAILABLE, version), T0, T0 + timedelta(minutes=20)),
        (name(CHARGING, version), T0 + timedelta(minutes=20), T0 + timedelta(minutes=30)),
        (name(AVAILABLE, version), T0 + timedelta(minutes=30), T0 + timedelta(minutes=40)),
        (name(FAULTED, version), T0 + timedelta(minutes=40), None),
    ]
    assert_non_overlapping(spans)


@versions
async def test_report_older_than_an_in_order_repeat_does_not_become_current(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    """Available@0 and again @30 (no new interval), then a late Charging@20."""
    await add_station(committer)
    await report(committer, version, AVAILABLE, T0)
    await report(committer, version, AVAILABLE, T0 + timedelta(minutes=30))
    late = await report(committer, version, CHARGING, T0 + timedelta(minutes=20))

    assert late.events == []
    [connector] = await rows(committer, Connector, station_id="CS-1")
    assert connector.status == name(AVAILABLE, version)
    assert await history(committer) == [
        (name(AVAILABLE, version), T0, T0 + timedelta(minutes=20)),
        (name(CHARGING, version), T0 + timedelta(minutes=20), T0 + timedelta(minutes=30)),
        (name(AVAILABLE, version), T0 + timedelta(minutes=30), None),
    ]


@versions
async def test_status_older_than_all_history_ends_where_history_begins(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    await add_station(committer)
    await report(committer, version, CHARGING, T0)
    await report(committer, version, RESERVED, T0 - timedelta(minutes=5))

    assert await history(committer) == [
        (name(RESERVED, version), T0 - timedelta(minutes=5), T0),
        (name(CHARGING, version), T0, None),
    ]
    [connector] = await rows(committer, Connector, station_id="CS-1")
    assert connector.status == name(CHARGING, version)


async def test_connector_zero_is_the_station_as_a_whole_even_as_first_message(
    committer: GroupCommitter,
) -> None:
    """Q27 / scenario 46: a 1.6 station starts with connectorId 0, before any boot."""
    await add_station(committer)
    handled = await report(
        committer, V16, FAULTED, T0, evse=0, error_code="PowerSwitchFailure", info="relay stuck"
    )

    cs = await station(committer)
    assert (cs.status, cs.error_code) == ("Faulted", "PowerSwitchFailure")
    assert await rows(committer, Evse, station_id="CS-1") == []
    assert await rows(committer, Connector, station_id="CS-1") == []
    assert await history(committer, evse=0, connector=0) == [("Faulted", T0, None)]
    [event] = handled.of_type(ConnectorStatusChanged)
    assert (event.evse_id, event.connector_id, event.error_code) == (0, 0, "PowerSwitchFailure")

    await report(committer, V16, AVAILABLE, T0 + timedelta(minutes=1), evse=0)
    cs = await station(committer)
    assert (cs.status, cs.error_code) == ("Available", "NoError")
    assert await history(committer, evse=0, connector=0) == [
        ("Faulted", T0, T0 + timedelta(minutes=1)),
        ("Available", T0 + timedelta(minutes=1), None),
    ]


async def test_16_error_details_are_kept_and_a_new_error_code_is_a_new_interval(
    committer: GroupCommitter,
) -> None:
    await add_station(committer)
    await report(committer, V16, FAULTED, T0, error_code="GroundFailure", vendorErrorCode="E42")
    await report(
        committer,
        V16,
        FAULTED,
        T0 + timedelta(minutes=1),
        error_code="HighTemperature",
        info="cable 85 C",
        vendorId="com.alfen",
        vendorErrorCode="T85",
    )

    [connector] = await rows(committer, Connector, station_id="CS-1")
    assert (connector.status, connector.error_code) == ("Faulted", "HighTemperature")
    assert (connector.info, connector.vendor_error_code) == ("cable 85 C", "T85")
    intervals = await rows(committer, StatusInterval, station_id="CS-1")
    assert [(i.status, i.error_code) for i in intervals] == [
        ("Faulted", "GroundFailure"),
        ("Faulted", "HighTemperature"),
    ]


async def test_16_status_without_or_with_implausible_timestamp_uses_receive_time(
    committer: GroupCommitter,
) -> None:
    await add_station(committer)
    received = T0 + timedelta(seconds=7)
    await handle(
        committer,
        V16,
        "StatusNotification",
        {"connectorId": 2, "errorCode": "NoError", "status": "Preparing"},
        received_at=received,
    )
    # Q8: 1970 before the clock is set → ordered by receive time, no skew recorded.
    await handle(
        committer,
        V16,
        "StatusNotification",
        {
            "connectorId": 2,
            "errorCode": "NoError",
            "status": "Charging",
            "timestamp": "1970-01-01T00:00:12Z",
        },
        received_at=received + timedelta(minutes=1),
    )
    assert await history(committer, evse=2) == [
        ("Preparing", received, received + timedelta(minutes=1)),
        ("Charging", received + timedelta(minutes=1), None),
    ]
    assert (await station(committer)).clock_skew_s is None


@versions
async def test_clock_skew_is_recorded_from_timestamps_with_an_offset(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    """Scenario 45: the station's clock runs three hours ahead."""
    await add_station(committer)
    payload = status_payload(version, AVAILABLE, None)
    payload["timestamp"] = "2026-11-28T16:00:00.000+01:00"  # = 15:00Z, CSMS receives at 12:00Z
    await handle(committer, version, "StatusNotification", payload, received_at=T0)

    cs = await station(committer)
    assert cs.clock_skew_s is not None and float(cs.clock_skew_s) == pytest.approx(10800.0)
    # Sub-second jitter does not rewrite the stored skew; a real change does.
    payload["timestamp"] = "2026-11-28T16:01:00.400+01:00"
    await handle(
        committer, version, "StatusNotification", payload, received_at=T0 + timedelta(minutes=1)
    )
    assert float((await station(committer)).clock_skew_s or 0) == pytest.approx(10800.0)
    payload["timestamp"] = "2026-11-28T13:02:00Z"
    await handle(
        committer, version, "StatusNotification", payload, received_at=T0 + timedelta(minutes=2)
    )
    assert float((await station(committer)).clock_skew_s or 0) == pytest.approx(3600.0)


@versions
async def test_local_time_without_offset_uses_the_station_timezone_and_sets_no_skew(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    """Q7: a station sending Amsterdam wall time without an offset."""
    await add_station(committer)
    payload = status_payload(version, AVAILABLE, None)
    payload["timestamp"] = "2026-11-28T13:00:00"  # 12:00Z in Europe/Amsterdam (CET, +01:00)
    await handle(
        committer,
        version,
        "StatusNotification",
        payload,
        received_at=T0 + timedelta(seconds=2),
        station_timezone="Europe/Amsterdam",
    )
    assert await history(committer) == [(name(AVAILABLE, version), T0, None)]
    assert (await station(committer)).clock_skew_s is None


async def test_2x_connectors_of_one_evse_share_the_evse_row(committer: GroupCommitter) -> None:
    await add_station(committer)
    for connector in (1, 2):
        await report(committer, V201, AVAILABLE, T0, evse=1, connector=connector)
    await report(committer, V201, CHARGING, T0 + timedelta(minutes=1), evse=1, connector=2)

    assert [e.evse_id for e in await rows(committer, Evse, station_id="CS-1")] == [1]
    connectors = await rows(committer, Connector, station_id="CS-1")
    assert [(c.connector_id, c.status) for c in connectors] == [(1, "Available"), (2, "Occupied")]
    assert await history(committer, evse=1, connector=1) == [("Available", T0, None)]


@versions
async def test_a_burst_of_first_statuses_in_one_batch_provisions_once(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    """Q21 / scenario 14: many first StatusNotifications at once never fail."""
    await add_station(committer)
    evses = (0, 1, 2, 3) if version is V16 else (1, 2, 3)
    await asyncio.gather(
        *(report(committer, version, AVAILABLE, T0, evse=e) for e in evses),
        *(report(committer, version, AVAILABLE, T0 + timedelta(seconds=1), evse=e) for e in evses),
    )
    connectors = await rows(committer, Connector, station_id="CS-1")
    assert sorted(c.evse_id for c in connectors) == [e for e in evses if e > 0]
    for evse in evses:
        assert await history(committer, evse=evse, connector=1 if evse else 0) == [
            (name(AVAILABLE, version), T0, None)
        ]


@versions
async def test_negative_ids_are_a_property_violation(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    await add_station(committer)
    payload = status_payload(version, AVAILABLE, T0, evse=-1)
    # 2.1 forbids it in the schema; 1.6 and 2.0.1 only say "integer".
    with pytest.raises(OcppError):
        await handle(committer, version, "StatusNotification", payload, check_request=False)
    assert await rows(committer, StatusInterval) == []


@versions
async def test_in_order_reports_read_no_history(
    committer: GroupCommitter, version: OcppVersion, monkeypatch: pytest.MonkeyPatch
) -> None:
    """T7: a connector's first report and reports newer than its last one need no history read
    (the connector's state tells, preloaded with the batch or read alone); a late report still
    reads it and lands in its place."""
    from joule.storage.repositories import station as station_repo

    reads: list[datetime] = []
    interval_at = station_repo.interval_at

    async def counting(*args: Any) -> Any:
        reads.append(args[-1])
        return await interval_at(*args)

    monkeypatch.setattr(station_repo, "interval_at", counting)
    await add_station(committer)
    minute = timedelta(minutes=1)
    first = await report(committer, version, AVAILABLE, T0)
    repeat = await report(committer, version, AVAILABLE, T0 + minute)
    change = await report(committer, version, CHARGING, T0 + 2 * minute)
    assert reads == []
    assert len(first.of_type(ConnectorStatusChanged)) == 1
    assert repeat.of_type(ConnectorStatusChanged) == []
    assert len(change.of_type(ConnectorStatusChanged)) == 1
    await report(committer, version, FAULTED, T0 + minute + timedelta(seconds=30))
    assert reads[-1] == T0 + minute + timedelta(seconds=30)
    assert await history(committer) == [
        (name(AVAILABLE, version), T0, T0 + minute + timedelta(seconds=30)),
        (name(FAULTED, version), T0 + minute + timedelta(seconds=30), T0 + 2 * minute),
        (name(CHARGING, version), T0 + 2 * minute, None),
    ]
    connector = (await rows(committer, Connector, station_id="CS-1"))[0]
    assert connector.status == name(CHARGING, version)


async def test_2x_new_connectors_of_one_new_evse_in_one_batch_share_one_evse_row(
    committer: GroupCommitter,
) -> None:
    """First reports are queued for the flush: a batch with several connectors of a new EVSE
    (and a later report of one of them) still writes one EVSE row and a correct history."""
    await add_station(committer)
    minute = timedelta(minutes=1)
    await asyncio.gather(
        *(report(committer, V201, AVAILABLE, T0, evse=1, connector=c) for c in (1, 2, 3)),
        report(committer, V201, CHARGING, T0 + minute, evse=1, connector=2),
    )
    assert [e.evse_id for e in await rows(committer, Evse, station_id="CS-1")] == [1]
    connectors = await rows(committer, Connector, station_id="CS-1")
    assert [(c.connector_id, c.status) for c in connectors] == [
        (1, "Available"),
        (2, "Occupied"),
        (3, "Available"),
    ]
    assert await history(committer, evse=1, connector=2) == [
        ("Available", T0, T0 + minute),
        ("Occupied", T0 + minute, None),
    ]
