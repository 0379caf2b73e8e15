"""Connection-level station services the gateway relies on, on the real database."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from tests.domain.helpers import T0, add_station, rows, station

from joule.domain.station import service
from joule.domain.station.intervals import utc
from joule.storage.committer import GroupCommitter
from joule.storage.models import ConnectionAudit
from joule.storage.repositories import station as repo
from joule.storage.uow import UnitOfWork


async def test_get_access_of_known_and_unknown_stations(committer: GroupCommitter) -> None:
    await add_station(committer, registration="accepted", security_profile=2)

    async def work(uow: UnitOfWork) -> tuple[object, object]:
        return (
            await service.get_access(uow.session, "CS-1"),
            await service.get_access(uow.session, "NOPE"),
        )

    known, unknown = await committer.read(work)
    assert unknown is None
    assert known == service.StationAccess(
        station_id="CS-1",
        registration="accepted",
        password_hash=None,
        security_profile=2,
        min_security_profile=0,
        boot_status=None,
        timezone=None,
        assume_subprotocol=None,
        lenient=None,
    )


@pytest.mark.parametrize(("accept", "registration"), [(True, "accepted"), (False, "pending")])
async def test_register_unknown(committer: GroupCommitter, accept: bool, registration: str) -> None:
    async def register(uow: UnitOfWork) -> service.StationAccess:
        return await service.register_unknown(uow, station_id="NEW-1", accept=accept, at=T0)

    access = await committer.run(register)
    assert (access.registration, access.security_profile) == (registration, 0)
    # A second connection racing the first finds the row and changes nothing.
    assert await committer.run(register) == access
    cs = await station(committer, "NEW-1")
    assert utc(cs.created_at) == T0 and cs.online is False
    assert (cs.registration, cs.security_profile, cs.min_security_profile) == (registration, 0, 0)
    assert await committer.read(lambda uow: service.get_access(uow.session, "NEW-1")) == access


async def test_a_storm_of_unknown_stations_registers_each_once(committer: GroupCommitter) -> None:
    """Registrations of one batch are written together; the same station twice in a batch (two
    sockets racing) and a row another node wrote first are no error and change nothing."""
    await add_station(committer, "OLD-1", registration="rejected")

    async def register(station_id: str) -> service.StationAccess:
        async def work(uow: UnitOfWork) -> service.StationAccess:
            return await service.register_unknown(uow, station_id=station_id, accept=True, at=T0)

        return await committer.run(work)

    names = [f"NEW-{n}" for n in range(20)]
    found = await asyncio.gather(*(register(n) for n in [*names, "NEW-3", "OLD-1"]))
    assert {a.station_id: a.registration for a in found} == {
        **dict.fromkeys(names, "accepted"),
        "OLD-1": "rejected",
    }

    async def late(uow: UnitOfWork) -> None:
        # Queued after another node's INSERT committed: the existing row is kept as it is.
        repo.queue_new_station(
            uow, station_id="OLD-1", registration="accepted", security_profile=0, at=T0
        )

    await committer.run(late)
    assert (await station(committer, "OLD-1")).registration == "rejected"
    for name in names:
        assert (await station(committer, name)).registration == "accepted"


async def test_connect_raises_the_minimum_profile_and_never_lowers_it(
    committer: GroupCommitter,
) -> None:
    await add_station(committer)

    async def connect(profile: int, minutes: int) -> None:
        async def work(uow: UnitOfWork) -> None:
            await service.mark_connected(
                uow.session,
                station_id="CS-1",
                ocpp_version="2.0.1",
                node="node-a",
                security_profile=profile,
                at=T0 + timedelta(minutes=minutes),
            )

        await committer.run(work)

    await connect(2, 0)
    cs = await station(committer)
    assert (cs.online, cs.ocpp_version, cs.connected_node) == (True, "2.0.1", "node-a")
    assert utc(cs.connected_at or T0) == T0 and utc(cs.last_seen or T0) == T0
    assert cs.min_security_profile == 2
    await connect(1, 1)  # the gateway refuses this; the record still never goes down
    assert (await station(committer)).min_security_profile == 2
    await connect(3, 2)
    assert (await station(committer)).min_security_profile == 3


async def test_disconnect_only_when_the_closed_socket_was_the_current_one(
    committer: GroupCommitter,
) -> None:
    await add_station(committer)
    connected_at = T0 + timedelta(minutes=10)

    async def connect(uow: UnitOfWork) -> None:
        await service.mark_connected(
            uow.session,
            station_id="CS-1",
            ocpp_version="1.6",
            node="node-a",
            security_profile=1,
            at=connected_at,
        )

    async def disconnect(at_minutes: int, **kwargs: object) -> bool:
        async def work(uow: UnitOfWork) -> bool:
            return await service.mark_disconnected(
                uow.session,
                station_id="CS-1",
                at=T0 + timedelta(minutes=at_minutes),
                **kwargs,  # type: ignore[arg-type]
            )

        return await committer.run(work)

    await committer.run(connect)
    # An old socket whose close is noticed before the new one opened: leave the new one online.
    assert await disconnect(5) is False
    assert await disconnect(11, node="node-b") is False
    assert await disconnect(11, connected_at=T0) is False
    assert (await station(committer)).online is True
    assert await disconnect(11, node="node-a", connected_at=connected_at) is True
    cs = await station(committer)
    assert (cs.online, cs.connected_node) == (False, None)
    assert await disconnect(12) is False  # already offline


async def test_touch_last_seen_moves_forward_only(committer: GroupCommitter) -> None:
    for station_id in ("CS-1", "CS-2", "CS-3"):
        await add_station(committer, station_id)

    async def touch(seen: dict[str, object]) -> None:
        async def work(uow: UnitOfWork) -> None:
            await service.touch_last_seen(uow.session, seen)  # type: ignore[arg-type]

        await committer.run(work)

    await touch({"CS-1": T0, "CS-2": T0 + timedelta(seconds=5), "GONE": T0})
    await touch({"CS-1": T0 - timedelta(seconds=30), "CS-3": T0 + timedelta(seconds=9)})
    await touch({})

    assert utc((await station(committer, "CS-1")).last_seen or T0) == T0
    assert utc((await station(committer, "CS-2")).last_seen or T0) == T0 + timedelta(seconds=5)
    assert utc((await station(committer, "CS-3")).last_seen or T0) == T0 + timedelta(seconds=9)


async def test_connection_audit_keeps_no_more_than_its_columns_hold(
    committer: GroupCommitter,
) -> None:
    async def work(uow: UnitOfWork) -> None:
        await service.record_connection_audit(
            uow.session,
            station_id="X" * 80,
            remote="203.0.113.7:51234",
            outcome="refused",
            reason="unknown station " + "x" * 400,
            at=T0,
        )
        await service.record_connection_audit(
            uow.session, station_id=None, remote=None, outcome="refused", reason="bad id", at=T0
        )

    await committer.run(work)
    first, second = await rows(committer, ConnectionAudit)
    assert first.station_id == "X" * 64 and len(first.reason) == 255
    assert (first.remote, first.outcome) == ("203.0.113.7:51234", "refused")
    assert (second.station_id, second.reason) == (None, "bad id")


async def test_lookups_made_together_share_one_query_and_each_gets_its_own_answer(
    committer: GroupCommitter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """T8: a storm's lookups are served by a few reads, not one session per connect."""
    from joule.kit.clock import FixedClock
    from joule.runtime import StationDirectoryAdapter

    for number in range(5):
        await add_station(committer, f"CS-{number}", security_profile=number % 3)
    reads: list[list[str]] = []
    get_accesses = service.get_accesses

    async def counting(session: object, station_ids: list[str]) -> object:
        reads.append(sorted(station_ids))
        return await get_accesses(session, station_ids)  # type: ignore[arg-type]

    monkeypatch.setattr(service, "get_accesses", counting)
    directory = StationDirectoryAdapter(committer, FixedClock(T0), "node-a")
    asked = ["CS-0", "CS-1", "NOPE", "CS-4", "CS-1"]
    answers = await asyncio.gather(*(directory.lookup(s) for s in asked))
    assert reads == [["CS-0", "CS-1", "CS-4", "NOPE"]]
    assert [a.station_id if a else None for a in answers] == ["CS-0", "CS-1", None, "CS-4", "CS-1"]
    assert [a.security_profile for a in answers if a] == [0, 1, 1, 1]
    # A lookup after the storm gets a fresh read (nothing is cached between connects).
    await add_station(committer, "NOPE")
    assert (await directory.lookup("NOPE")) is not None
    assert len(reads) == 2


async def test_presence_updates_keep_a_row_loaded_in_the_same_unit_in_step(
    committer: GroupCommitter,
) -> None:
    """Presence is written by Core UPDATEs: a Station row the unit already holds shows them."""
    from joule.storage.models import Station

    await add_station(committer, security_profile=1)

    async def work(uow: UnitOfWork) -> list[tuple[object, ...]]:
        held = await uow.session.get(Station, "CS-1")
        assert held is not None
        seen = []
        await service.mark_connected(
            uow.session,
            station_id="CS-1",
            ocpp_version="2.0.1",
            node="node-a",
            security_profile=2,
            at=T0,
        )
        seen.append((held.online, held.connected_node, held.min_security_profile))
        assert await service.mark_disconnected(uow.session, station_id="CS-1", at=T0, node="node-a")
        seen.append((held.online, held.connected_node, held.min_security_profile))
        return seen

    assert await committer.run(work) == [(True, "node-a", 2), (False, None, 2)]
    cs = await station(committer)
    assert (cs.online, cs.connected_node, cs.min_security_profile) == (False, None, 2)


async def test_connects_written_at_flush_keep_their_order_with_disconnects_and_last_seen(
    committer: GroupCommitter,
) -> None:
    """The gateway's connects are one executemany at flush: a disconnect in the same batch still
    comes after its connect, and last-seen never goes backwards."""
    from joule.kit.clock import FixedClock
    from joule.runtime import StationDirectoryAdapter

    for station_id in ("CS-1", "CS-2"):
        await add_station(committer, station_id)
    later = T0 + timedelta(minutes=5)

    async def touch(uow: UnitOfWork) -> None:
        await service.touch_last_seen(uow.session, {"CS-2": later})

    directory = StationDirectoryAdapter(committer, FixedClock(T0), "node-a")
    await asyncio.gather(  # one batch, in this order (the queue's)
        directory.connected("CS-2", ocpp_version="2.0.1", security_profile=2),
        committer.run(touch),  # runs before CS-2's connect is written
        directory.connected("CS-1", ocpp_version="1.6", security_profile=1),
        directory.disconnected("CS-1"),
    )
    one, two = await station(committer, "CS-1"), await station(committer, "CS-2")
    assert (one.online, one.connected_node, one.ocpp_version) == (False, None, "1.6")
    assert (two.online, two.connected_node, two.min_security_profile) == (True, "node-a", 2)
    assert utc(two.connected_at or later) == T0 and utc(two.last_seen or T0) == later
