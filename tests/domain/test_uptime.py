"""Uptime (reporting.md §3): the spec's worked example, port rules, and the query on a real DB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tests.domain.helpers import V16, add_station, handle

from joule.domain.reporting.uptime import (
    Span,
    StationUptime,
    StatusSpan,
    Uptime,
    combine,
    station_uptime,
    station_uptimes,
    uptime,
)
from joule.storage.committer import GroupCommitter
from joule.storage.models import Station
from joule.storage.uow import UnitOfWork

START = datetime(2026, 11, 1, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def span(a: float, b: float) -> Span:
    return Span(at(a), at(b))


MONTH = span(0, 43_200)  # a 30-day month in minutes


def test_spec_example_month_with_excluded_grid_outage() -> None:
    # reporting.md: 432 min of faults, 60 of them a grid outage → (43 200 − 372) / 43 200.
    faults = [span(1000, 1300), span(5000, 5132)]
    grid = [span(5072, 5200)]  # overlaps the second fault by 60 minutes
    result = uptime(MONTH, faults, grid)
    assert result.outage_s == Decimal(432 * 60) and result.excluded_s == Decimal(60 * 60)
    assert result.percent is not None
    assert result.percent.quantize(Decimal("0.001")) == Decimal("99.139")
    assert result.rounded() == Decimal("99.14")


def test_overlapping_outages_count_once_and_are_clipped_to_the_period() -> None:
    result = uptime(span(0, 100), [span(-50, 10), span(5, 20), span(90, 200)])
    assert result.outage_s == Decimal(30 * 60)
    assert result.rounded() == Decimal("70.00")
    assert Uptime().percent is None  # an empty period has no uptime, not 100 %


def lane(evse: int, connector: int, status: str, a: float, b: float | None) -> StatusSpan:
    return StatusSpan(evse, connector, status, at(a), at(b) if b is not None else None)


def test_a_port_is_out_only_while_every_connector_is_out() -> None:
    intervals = [
        lane(1, 1, "Available", 0, 100),
        lane(1, 1, "Faulted", 100, None),
        lane(1, 2, "Available", 0, 150),
        lane(1, 2, "Unavailable", 150, 180),
        lane(1, 2, "Charging", 180, None),
    ]
    result = station_uptime("S", intervals, period=span(0, 200))
    assert set(result.ports) == {1}
    assert result.ports[1].outage_s == Decimal(30 * 60)  # 150–180: both out


def test_station_fault_and_connection_loss_take_every_port_out() -> None:
    intervals = [
        lane(1, 1, "Available", 0, None),
        lane(2, 1, "Charging", 0, None),
        lane(0, 0, "Faulted", 20, 30),
    ]
    result = station_uptime("S", intervals, period=span(0, 100), offline=[span(90, 200)])
    assert result.ports[1].outage_s == result.ports[2].outage_s == Decimal(20 * 60)
    assert result.total.period_s == Decimal(2 * 100 * 60)
    assert result.total.rounded() == Decimal("80.00")


def test_a_port_commissioned_mid_period_counts_from_its_first_status() -> None:
    intervals = [lane(1, 1, "Available", 50, 75), lane(1, 1, "Faulted", 75, None)]
    result = station_uptime("S", intervals, period=span(0, 100))
    assert result.ports[1].period_s == Decimal(50 * 60)
    assert result.ports[1].rounded() == Decimal("50.00")
    # A site is weighted by port-time, not an average of percentages.
    other = Uptime(period_s=Decimal(150 * 60), outage_s=Decimal(0))
    assert combine([result.total, other]).rounded() == Decimal("87.50")


async def status(
    committer: GroupCommitter, sid: str, connector: int, state: str, minutes: float
) -> None:
    payload = {
        "connectorId": connector,
        "errorCode": "GroundFailure" if state == "Faulted" else "NoError",
        "status": state,
        "timestamp": at(minutes).isoformat(),
    }
    await handle(
        committer, V16, "StatusNotification", payload, station_id=sid, received_at=at(minutes)
    )


async def test_query_reads_the_stored_history(committer: GroupCommitter) -> None:
    await add_station(committer, "UP-1")
    await add_station(committer, "UP-2")
    for minutes, state in ((0, "Available"), (600, "Faulted"), (660, "Available")):
        await status(committer, "UP-1", 1, state, minutes)
    await status(committer, "UP-1", 2, "Available", 0)
    await status(committer, "UP-2", 1, "Available", 0)

    async def mark_online(uow: UnitOfWork) -> None:
        for sid, online in (("UP-1", True), ("UP-2", False)):
            row = await uow.session.get(Station, sid)
            assert row is not None
            row.online, row.last_seen = online, at(1380)

    await committer.run(mark_online)

    async def read(uow: UnitOfWork) -> dict[str, StationUptime]:
        return dict(await station_uptimes(uow.session, since=at(0), until=at(1440)))

    found = await committer.read(read)
    up1, up2 = found["UP-1"], found["UP-2"]
    # UP-1: connector 1 faulted an hour of a day, connector 2 (EVSE 2) never.
    assert up1.ports[1].rounded() == Decimal("95.83")
    assert up1.ports[2].rounded() == Decimal("100.00")
    # UP-2 lost its connection 60 minutes before the end of the day.
    assert up2.total.rounded() == Decimal("95.83")

    async def window(uow: UnitOfWork) -> dict[str, StationUptime]:
        return dict(await station_uptimes(uow.session, since=at(700), until=at(1300)))

    # A window after the fault: full uptime, the port still counted from the window's start.
    later = await committer.read(window)
    assert later["UP-1"].total.rounded() == Decimal("100.00")
    assert later["UP-1"].total.period_s == Decimal(2 * 600 * 60)
