"""The live hub's scope filter on real bus events (issue 5): a stream opened with a Visibility
queues only events about its stations, site-only alerts of its sites, and never a fleet-wide
alert; a root stream (no Visibility) gets everything."""

from __future__ import annotations

from datetime import UTC, datetime

from joule.bus.memory import MemoryBus
from joule.domain.alerting.service import AlertChanged
from joule.domain.events import ConnectorStatusChanged
from joule.web.live import LiveHub, Stream, Visibility

T0 = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)


def status(station: str) -> ConnectorStatusChanged:
    return ConnectorStatusChanged(
        station_id=station, evse_id=1, connector_id=1, status="Faulted", error_code=None, at=T0
    )


def alert(station: str | None, site: str | None) -> AlertChanged:
    return AlertChanged(
        "alert.raised", {"id": 1, "station_id": station, "site_id": site, "rule": "r"}, T0
    )


async def drained(stream: Stream) -> list[str]:
    found: list[str] = []
    while not stream.queue.empty():
        message = stream.queue.get_nowait()
        assert message is not None
        found.append(message)
    return found


async def test_a_scoped_stream_queues_only_its_stations_and_sites() -> None:
    bus = MemoryBus()
    hub = LiveHub()
    hub.attach(bus)
    mine = hub.open(None, Visibility(frozenset({"B-1"}), frozenset({"site-b"})))
    everything = hub.open(None)
    for event in (
        status("A-1"),  # another organisation's station
        status("B-1"),
        alert("A-1", "site-a"),
        alert(None, "site-a"),  # a site-only alert of another organisation
        alert(None, "site-b"),
        alert(None, None),  # fleet-wide: root only
        alert("B-1", "site-b"),
    ):
        await bus.publish(event)
    got = await drained(mine)
    assert len(got) == 3
    assert '"station_id":"B-1"' in got[0] and "ConnectorStatusChanged" in got[0]
    assert '"site_id":"site-b"' in got[1] and '"station_id":null' in got[1]
    assert '"station_id":"B-1"' in got[2]
    assert not any("A-1" in m or "site-a" in m for m in got)
    assert len(await drained(everything)) == 7
    hub.close()


async def test_a_station_stream_also_respects_the_scope() -> None:
    hub = LiveHub()
    bus = MemoryBus()
    hub.attach(bus)
    # A page asking for a station outside its Visibility gets nothing (the route answers 404
    # before opening one; this is the second line of defence).
    stream = hub.open("A-1", Visibility(frozenset({"B-1"}), frozenset()))
    await bus.publish(status("A-1"))
    assert await drained(stream) == []
    hub.close()
