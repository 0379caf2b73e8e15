"""Boots and status reports read and write their station's rows as lean states (ADR 0017, T7)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from joule.domain.station import service
from joule.domain.station.intervals import utc
from joule.storage.committer import GroupCommitter, Preload
from joule.storage.models import Connector, Evse, Station, StatusInterval
from joule.storage.repositories.station import load_open_transactions
from joule.storage.repositories.station_state import (
    load_parts,
    load_stations,
    station_parts,
    station_state,
)
from joule.storage.uow import UnitOfWork
from tests.domain.helpers import T0, add_station, rows, station

MINUTE = timedelta(minutes=1)


def _batch(*station_ids: str) -> Preload:
    """What the boot and status handlers preload for these stations."""
    return {
        load_stations: station_ids,
        load_parts: station_ids,
        load_open_transactions: station_ids,
    }


def _status(station_id: str, connector: int, status: str, minutes: int) -> Any:
    async def work(uow: UnitOfWork) -> int:
        at = T0 + minutes * MINUTE
        await service.record_status(
            uow,
            station_id=station_id,
            evse_id=connector,
            connector_id=1,
            status=status,
            error_code="NoError",
            at=at,
        )
        # The station's clock is 2 s ahead (a skew the row stores).
        await service.note_station_time(uow, station_id, at + timedelta(seconds=2), at)
        held = uow.session.sync_session.identity_map
        return len(held)

    return work


def _boot(station_id: str) -> Any:
    async def work(uow: UnitOfWork) -> int:
        await service.register_boot(
            uow,
            station_id=station_id,
            info=service.BootInfo(vendor="V", model="M"),
            reason=None,
            payload={},
            at=T0,
        )
        return len(uow.session.sync_session.identity_map)

    return work


async def test_a_storm_batch_of_boots_and_statuses_holds_no_orm_object(
    committer: GroupCommitter,
) -> None:
    """The T7 storm's units (a boot, then first reports, then newer reports of known
    connectors) run on lean states: no Station, EVSE or Connector object is ever loaded, and
    the rows come out as the ORM path wrote them."""
    for station_id in ("ST-A", "ST-B"):
        await add_station(committer, station_id)
    loads: list[object] = []

    def loaded(target: object, _context: object) -> None:
        loads.append(target)

    for model in (Station, Evse, Connector):
        event.listen(model, "load", loaded)
    try:
        held = await asyncio.gather(
            committer.run(_boot("ST-A"), preload=_batch("ST-A")),
            committer.run(_boot("ST-B"), preload=_batch("ST-B")),
            *(
                committer.run(_status(sid, c, "Available", 0), preload=_batch(sid))
                for sid in ("ST-A", "ST-B")
                for c in (1, 2)
            ),
        )
        held += await asyncio.gather(
            *(
                committer.run(_status("ST-A", c, "Charging", minutes), preload=_batch("ST-A"))
                for c, minutes in ((1, 1), (2, 2))
            )
        )
    finally:
        for model in (Station, Evse, Connector):
            event.remove(model, "load", loaded)
    assert (loads, held) == ([], [0] * 8)
    assert [(e.station_id, e.evse_id) for e in await rows(committer, Evse)] == [
        ("ST-A", 1),
        ("ST-A", 2),
        ("ST-B", 1),
        ("ST-B", 2),
    ]
    found = {(c.station_id, c.evse_id): c for c in await rows(committer, Connector)}
    assert {k: c.status for k, c in found.items()} == {
        ("ST-A", 1): "Charging",
        ("ST-A", 2): "Charging",
        ("ST-B", 1): "Available",
        ("ST-B", 2): "Available",
    }
    assert utc(found[("ST-A", 2)].status_at) == T0 + 2 * MINUTE
    assert [
        (i.evse_id, i.status, utc(i.started_at), i.ended_at and utc(i.ended_at))
        for i in await rows(committer, StatusInterval, station_id="ST-A")
    ] == [
        (1, "Available", T0, T0 + MINUTE),
        (2, "Available", T0, T0 + 2 * MINUTE),
        (1, "Charging", T0 + MINUTE, None),
        (2, "Charging", T0 + 2 * MINUTE, None),
    ]
    a = await station(committer, "ST-A")
    assert (a.vendor, a.boot_status, float(a.clock_skew_s or 0)) == ("V", "Accepted", 2.0)


async def test_a_station_object_the_batch_holds_gets_the_lean_writes(
    committer: GroupCommitter,
) -> None:
    """Another handler of the batch may hold the Station object: a boot's identity and a new
    clock skew reach it at once, so it never shows the old values within the batch."""
    await add_station(committer, "ST-H")

    async def work(uow: UnitOfWork) -> tuple[Any, ...]:
        held = await uow.session.get(Station, "ST-H")
        assert held is not None
        await _boot("ST-H")(uow)
        await service.note_station_time(uow, "ST-H", T0 + timedelta(seconds=90), T0)
        return held.model, held.boot_status, held.clock_skew_s

    model, boot_status, skew = await committer.run(work, preload=_batch("ST-H"))
    assert (model, boot_status, float(skew)) == ("M", "Accepted", 90.0)
    assert float((await station(committer, "ST-H")).clock_skew_s or 0) == 90.0


async def test_states_are_read_alone_when_not_preloaded(committer: GroupCommitter) -> None:
    """A unit without the batch preload reads the states it needs itself; an unknown station
    has no state and no parts, and a status report from it registers it as pending."""
    await add_station(committer, "ST-R")
    await committer.run(_status("ST-R", 3, "Available", 0))

    async def read(uow: UnitOfWork) -> tuple[Any, ...]:
        state = await station_state(uow, "ST-R")
        parts = await station_parts(uow, "ST-R")
        return (
            state and (state.registration, float(state.clock_skew_s or 0)),
            parts.evses,
            {
                k: (c.status, utc(c.status_at) if c.status_at else None)
                for k, c in parts.connectors.items()
            },
            await station_state(uow, "ST-NONE"),
            (await station_parts(uow, "ST-NONE")).connectors,
        )

    assert await committer.read(read) == (
        ("accepted", 2.0),
        {3},
        {(3, 1): ("Available", T0)},
        None,
        {},
    )
    await committer.run(_status("ST-NEW", 1, "Available", 0), preload=_batch("ST-NEW"))
    new = await station(committer, "ST-NEW")
    assert new.registration == "pending"
    assert [c.status for c in await rows(committer, Connector, station_id="ST-NEW")] == [
        "Available"
    ]


async def test_several_reports_of_a_known_connector_in_one_batch(
    committer: GroupCommitter,
) -> None:
    """A newer report (lean), a later one and a late one of the same connector in one batch:
    the later ones flush and read the history, and the connector's state carries the current
    status from one to the next, so the current status and the history come out in order."""
    await add_station(committer, "ST-M")
    await committer.run(_status("ST-M", 1, "Available", 0), preload=_batch("ST-M"))

    def at(status: str, seconds: int) -> Any:
        async def work(uow: UnitOfWork) -> None:
            await service.record_status(
                uow,
                station_id="ST-M",
                evse_id=1,
                connector_id=1,
                status=status,
                error_code=None,
                at=T0 + timedelta(seconds=seconds),
            )

        return committer.run(work, preload=_batch("ST-M"))

    await asyncio.gather(at("Faulted", 60), at("Charging", 120), at("Available", 90))
    [connector] = await rows(committer, Connector, station_id="ST-M")
    assert (connector.status, utc(connector.status_at)) == ("Charging", T0 + 2 * MINUTE)
    second = timedelta(seconds=1)
    assert [
        (i.status, utc(i.started_at), i.ended_at and utc(i.ended_at))
        for i in await rows(committer, StatusInterval, station_id="ST-M")
    ] == [
        ("Available", T0, T0 + 60 * second),
        ("Faulted", T0 + 60 * second, T0 + 90 * second),
        ("Charging", T0 + 120 * second, None),
        ("Available", T0 + 90 * second, T0 + 120 * second),
    ]


@pytest.mark.parametrize("station_level", [False, True])
async def test_connector_zero_keeps_the_orm_path(
    committer: GroupCommitter, station_level: bool
) -> None:
    """Station-level reports (rare) still read and write the Station object's own status."""
    await add_station(committer, "ST-0")
    evse = 0 if station_level else 1

    async def work(uow: UnitOfWork) -> None:
        await service.record_status(
            uow,
            station_id="ST-0",
            evse_id=evse,
            connector_id=0 if station_level else 1,
            status="Faulted",
            error_code="GroundFailure",
            at=T0,
        )

    await committer.run(work)
    cs = await station(committer, "ST-0")
    assert (cs.status, cs.error_code) == (
        ("Faulted", "GroundFailure") if station_level else (None, None)
    )
