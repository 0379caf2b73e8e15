"""A closed station connection is freed by reference counting, not left to the cyclic GC
(issue 3: after a 10 000-station storm, every socket's objects were cyclic garbage carried through
each GC generation — CPU in the storm, memory after it)."""

from __future__ import annotations

import asyncio
import gc
import weakref

from tests.e2e.conftest import MakeJoule, ocpp_url
from tests.e2e.station import TestStation
from tests.e2e.test_charging_session import eventually


async def test_a_closed_station_socket_is_freed_without_the_cyclic_collector(
    make_joule: MakeJoule,
) -> None:
    joule = await make_joule(unknown_stations="accept")
    assert joule.gateway is not None
    station = await TestStation.connect(ocpp_url(joule), "MEM-1", subprotocols=["ocpp1.6"])
    boot = await station.call(
        "BootNotification", {"chargePointVendor": "A", "chargePointModel": "M"}
    )
    assert boot["status"] == "Accepted"
    socket = weakref.ref(joule.gateway.connections["MEM-1"].socket)
    gc.collect()
    gc.disable()  # from here only reference counting can free the closed socket
    try:
        await station.close()

        async def freed() -> bool:
            await asyncio.sleep(0)
            return socket() is None

        await eventually(freed)
    finally:
        gc.enable()
