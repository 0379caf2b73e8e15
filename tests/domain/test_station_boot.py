"""BootNotification and Heartbeat on a real database, for 1.6, 2.0.1 and 2.1."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from tests.domain.helpers import (
    ALL_VERSIONS,
    T0,
    V16,
    add_station,
    boot_payload,
    handle,
    rows,
    station,
)

from joule.domain.events import StationBooted
from joule.domain.station import service
from joule.domain.station.intervals import utc
from joule.kit.clock import FixedClock
from joule.ocpp.versions import OcppVersion
from joule.storage.committer import GroupCommitter
from joule.storage.models import BootRecord, Station, StatusInterval, Transaction
from joule.storage.repositories import transaction as transactions
from joule.storage.repositories.station import load_open_transactions
from joule.storage.uow import UnitOfWork

pytestmark = pytest.mark.parametrize("version", ALL_VERSIONS, ids=lambda v: f"ocpp{v.value}")


@pytest.fixture(autouse=True)
def intervals() -> Iterator[None]:
    before = service.intervals()
    service.configure(heartbeat_interval_s=300, pending_interval_s=45)
    yield
    service.configure(heartbeat_interval_s=before.heartbeat_s, pending_interval_s=before.pending_s)


async def test_accepted_boot_stores_identity_and_answers_heartbeat_interval(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    await add_station(committer)
    handled = await handle(committer, version, "BootNotification", boot_payload(version))

    assert handled.response == {
        "status": "Accepted",
        "currentTime": "2026-11-28T12:00:00.000Z",
        "interval": 300,
    }
    cs = await station(committer)
    assert (cs.vendor, cs.model, cs.serial_number) == ("Alfen BV", "NG920-61001", "ACE0123456")
    assert cs.firmware_version == "6.1.2-4150"
    assert (cs.iccid, cs.imsi) == ("8931088320082209547", "204080000012345")
    if version is V16:
        assert (cs.meter_type, cs.meter_serial_number) == ("Eastron SDM630", "SDM-0099887")
    assert cs.boot_status == "Accepted"
    assert cs.last_boot_at is not None and utc(cs.last_boot_at) == T0

    [record] = await rows(committer, BootRecord, station_id="CS-1")
    assert record.status == "Accepted"
    assert record.reason == (None if version is V16 else "PowerUp")
    assert record.payload == boot_payload(version)
    assert handled.of_type(StationBooted) == [StationBooted("CS-1", "Accepted", T0)]


@pytest.mark.parametrize(
    ("registration", "status"), [("pending", "Pending"), ("rejected", "Rejected")]
)
async def test_pending_and_rejected_registrations(
    committer: GroupCommitter, version: OcppVersion, registration: str, status: str
) -> None:
    await add_station(committer, registration=registration)
    handled = await handle(committer, version, "BootNotification", boot_payload(version))

    # B02/B03: the interval is the minimum wait before the next BootNotification.
    assert handled.response["status"] == status
    assert handled.response["interval"] == 45
    cs = await station(committer)
    assert cs.boot_status == status
    assert cs.vendor == "Alfen BV"  # identity is kept even when the station is not let in
    [record] = await rows(committer, BootRecord, station_id="CS-1")
    assert record.status == status


async def test_boot_without_station_row_lists_it_as_pending(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    handled = await handle(
        committer, version, "BootNotification", boot_payload(version), station_id="GHOST-7"
    )
    assert handled.response["status"] == "Pending"
    cs = await station(committer, "GHOST-7")
    assert (cs.registration, cs.boot_status) == ("pending", "Pending")


async def test_reboot_keeps_known_fields_and_history(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    await add_station(committer)
    await handle(committer, version, "BootNotification", boot_payload(version))
    if version is V16:
        second: dict[str, object] = {
            "chargePointVendor": "Alfen BV",
            "chargePointModel": "NG920-61001",
            "firmwareVersion": "6.2.0-4200",
        }
    else:
        second = {
            "reason": "FirmwareUpdate",
            "chargingStation": {
                "vendorName": "Alfen BV",
                "model": "NG920-61001",
                "firmwareVersion": "6.2.0-4200",
            },
        }
    later = T0 + timedelta(minutes=5)
    await handle(committer, version, "BootNotification", second, received_at=later)

    cs = await station(committer)
    assert cs.firmware_version == "6.2.0-4200"
    assert cs.serial_number == "ACE0123456"  # not in the second boot: last known value stays
    assert cs.iccid == "8931088320082209547"
    assert utc(cs.last_boot_at or T0) == later
    records = await rows(committer, BootRecord, station_id="CS-1")
    assert [utc(r.at) for r in records] == [T0, later]
    if version is not V16:
        assert [r.reason for r in records] == ["PowerUp", "FirmwareUpdate"]


async def test_boot_marks_open_transactions_stale_but_never_closes_them(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    """Scenario 11 / Q23: the late StopTransaction after a power-loss reboot must still fit."""
    await add_station(committer)
    await add_station(committer, "CS-OTHER")

    async def seed(uow: UnitOfWork) -> None:
        for uid, station_id, status in (
            ("open", "CS-1", "active"),
            ("done", "CS-1", "completed"),
            ("elsewhere", "CS-OTHER", "active"),
        ):
            uow.session.add(
                Transaction(
                    transaction_uid=uid,
                    station_id=station_id,
                    evse_id=1,
                    connector_id=1,
                    status=status,
                    started_at=T0 - timedelta(hours=1),
                    meter_start_wh=1000,
                    seq_nos={},
                    created_at=T0 - timedelta(hours=1),
                    updated_at=T0 - timedelta(hours=1),
                )
            )

    await committer.run(seed)
    await handle(committer, version, "BootNotification", boot_payload(version))

    by_uid = {t.transaction_uid: t for t in await rows(committer, Transaction)}
    assert by_uid["open"].stale is True
    assert by_uid["open"].status == "active"
    assert by_uid["open"].stopped_at is None
    assert by_uid["done"].stale is False
    assert by_uid["elsewhere"].stale is False


@pytest.mark.parametrize("pending", [False, True], ids=["loaded", "unflushed"])
async def test_boot_in_a_batch_flags_transactions_the_batch_already_holds(
    committer: GroupCommitter, version: OcppVersion, pending: bool
) -> None:
    """The stale flag is a Core UPDATE: a transaction this transaction already loaded shows it
    too, and one with unflushed changes (ended just before, in the same batch) is judged on them."""
    await add_station(committer)

    async def seed(uow: UnitOfWork) -> int:
        row = Transaction(
            transaction_uid="open",
            station_id="CS-1",
            evse_id=1,
            connector_id=1,
            status="active",
            started_at=T0 - timedelta(hours=1),
            meter_start_wh=1000,
            seq_nos={},
            created_at=T0 - timedelta(hours=1),
            updated_at=T0 - timedelta(hours=1),
        )
        uow.session.add(row)
        await uow.session.flush()
        return row.id

    transaction_id = await committer.run(seed)

    async def boot(uow: UnitOfWork) -> tuple[bool, str]:
        held = await uow.session.get(Transaction, transaction_id)
        assert held is not None
        if pending:
            held.status = "completed"  # not flushed yet: the boot must see it ended
        await service.register_boot(
            uow,
            station_id="CS-1",
            info=service.BootInfo(vendor="V", model="M"),
            reason=None,
            payload={},
            at=T0,
        )
        return held.stale, held.status

    in_session = await committer.run(boot)
    stored = (await rows(committer, Transaction))[0]
    if pending:
        assert in_session == (False, "completed")
        assert (stored.stale, stored.status) == (False, "completed")
    else:
        assert in_session == (True, "active")
        assert (stored.stale, stored.status) == (True, "active")


async def test_heartbeat_answers_utc_time_and_writes_nothing(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    await add_station(committer)
    clock = FixedClock(T0 + timedelta(seconds=1, milliseconds=250))
    handled = await handle(committer, version, "Heartbeat", {}, clock=clock)

    assert handled.response == {"currentTime": "2026-11-28T12:00:01.250Z"}
    assert handled.events == []
    cs = await station(committer)
    assert cs.last_seen is None  # the gateway tracks last_seen in memory and flushes it
    assert await rows(committer, StatusInterval) == []
    assert len(await rows(committer, Station)) == 1


@pytest.mark.parametrize("started", ["before", "same batch"])
async def test_a_boot_preloaded_with_its_batch_still_flags_an_open_transaction(
    committer: GroupCommitter, version: OcppVersion, started: str
) -> None:
    """A boot storm's batch reads which stations have open transactions once (T7); a transaction
    started earlier in the same batch is not missed by that batch-start view."""
    await add_station(committer)

    async def start(uow: UnitOfWork) -> None:
        await transactions.create_transaction(
            uow.session, station_id="CS-1", transaction_uid="open", at=T0, started_at=T0
        )

    async def boot(uow: UnitOfWork) -> None:
        await service.register_boot(
            uow,
            station_id="CS-1",
            info=service.BootInfo(vendor="V", model="M"),
            reason=None,
            payload={},
            at=T0,
        )

    preload = {load_open_transactions: ("CS-1",)}
    if started == "before":
        await committer.run(start)
        await committer.run(boot, preload=preload)
    else:
        # Queued together: one batch, its preload run before the start inserts the row.
        await asyncio.gather(committer.run(start), committer.run(boot, preload=preload))
    [stored] = await rows(committer, Transaction)
    assert (stored.stale, stored.status) == (True, "active")


async def test_boots_of_one_batch_are_written_together(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    """A storm's boots write their stations' rows at flush (T7): different column sets in one
    batch, the same station twice (the later boot wins), and the held row in step at once."""
    for station_id in ("CS-A", "CS-B"):
        await add_station(committer, station_id)

    def boot(station_id: str, info: service.BootInfo, minutes: int) -> Any:
        async def work(uow: UnitOfWork) -> tuple[str | None, str | None]:
            await service.register_boot(
                uow,
                station_id=station_id,
                info=info,
                reason=None,
                payload={},
                at=T0 + timedelta(minutes=minutes),
            )
            held = uow.loaded(Station, station_id) or await uow.session.get(Station, station_id)
            assert held is not None
            return held.model, held.serial_number

        return committer.run(work, preload={Station: (station_id,)})

    seen = await asyncio.gather(
        boot("CS-A", service.BootInfo(vendor="V", model="M1", serial_number="S-1"), 0),
        boot("CS-B", service.BootInfo(vendor="W", model="N"), 0),
        boot("CS-A", service.BootInfo(vendor="V", model="M2"), 1),
    )
    assert seen == [("M1", "S-1"), ("N", None), ("M2", "S-1")]
    a, b = await station(committer, "CS-A"), await station(committer, "CS-B")
    assert (a.vendor, a.model, a.serial_number, a.boot_status) == ("V", "M2", "S-1", "Accepted")
    assert utc(a.last_boot_at) == T0 + timedelta(minutes=1)
    assert (b.vendor, b.model, b.serial_number) == ("W", "N", None)
