"""DataTransfer from stations (scenario 25, TC_P_02_CSMS, 1.6 TC_064_CSMS), every version."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.domain.helpers import ALL_VERSIONS, V16, add_station, handle, rows

from joule.domain.context import HandlerContext
from joule.domain.datatransfer.rules import MAX_STORED_DATA_BYTES, stored_data
from joule.domain.datatransfer.vendors import (
    VendorReply,
    by_message_id,
    register_vendor,
    unregister_vendor,
)
from joule.ocpp.versions import OcppVersion
from joule.storage.committer import GroupCommitter
from joule.storage.models import DataTransferRecord, StationReport

versions = pytest.mark.parametrize("version", ALL_VERSIONS, ids=lambda v: f"ocpp{v.value}")

VENDOR = "com.example.joule"


@pytest.fixture
def vendor() -> Iterator[list[tuple[str | None, Any]]]:
    """A known vendor with one messageId; it records what it was given."""
    seen: list[tuple[str | None, Any]] = []

    async def parking(ctx: HandlerContext, data: Any) -> VendorReply:
        seen.append(("ParkingSensor", data))
        # Station reports are the vendor's way to keep what it learnt (inside the unit of work).
        ctx.uow.session.add(
            StationReport(
                station_id=ctx.station_id,
                action="DataTransfer",
                request_id=None,
                payload={"parking": data},
                at=ctx.received_at,
            )
        )
        return VendorReply(status="Accepted", data={"ack": True})

    register_vendor(VENDOR, by_message_id({"ParkingSensor": parking}))
    yield seen
    unregister_vendor(VENDOR)


@versions
async def test_unknown_vendor_with_60_kib_of_data(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    await add_station(committer)
    data = "x" * (60 * 1024)
    handled = await handle(
        committer,
        version,
        "DataTransfer",
        {"vendorId": "com.unknown.vendor", "messageId": "Telemetry", "data": data},
    )

    assert handled.response == {"status": "UnknownVendorId"}  # P02: no data with it
    [record] = await rows(committer, DataTransferRecord, station_id="CS-1")
    assert (record.direction, record.vendor_id, record.message_id) == (
        "in",
        "com.unknown.vendor",
        "Telemetry",
    )
    assert (record.status, record.data) == ("UnknownVendorId", data)


@versions
async def test_data_beyond_64_kib_is_cut(committer: GroupCommitter, version: OcppVersion) -> None:
    await add_station(committer)
    data = "é" * (40 * 1024)  # 80 KiB of UTF-8
    await handle(committer, version, "DataTransfer", {"vendorId": "com.other", "data": data})
    [record] = await rows(committer, DataTransferRecord, station_id="CS-1")
    assert record.data is not None and data.startswith(record.data)
    assert len(record.data.encode("utf-8")) == MAX_STORED_DATA_BYTES
    assert record.message_id is None


@versions
async def test_known_vendor_routes_by_message_id(
    committer: GroupCommitter, version: OcppVersion, vendor: list[tuple[str | None, Any]]
) -> None:
    await add_station(committer)
    data: Any = '{"bay": 3, "occupied": true}' if version is V16 else {"bay": 3, "occupied": True}
    known = await handle(
        committer,
        version,
        "DataTransfer",
        # vendorId is a DNS name: matched without regard to case.
        {"vendorId": "COM.Example.Joule", "messageId": "ParkingSensor", "data": data},
    )
    unknown = await handle(
        committer, version, "DataTransfer", {"vendorId": VENDOR, "messageId": "Firmware"}
    )
    without_id = await handle(committer, version, "DataTransfer", {"vendorId": VENDOR})

    assert known.response == {
        "status": "Accepted",
        "data": '{"ack":true}' if version is V16 else {"ack": True},
    }
    assert unknown.response == {"status": "UnknownMessageId"}
    assert without_id.response == {"status": "UnknownMessageId"}
    assert vendor == [("ParkingSensor", data)]
    records = await rows(committer, DataTransferRecord, station_id="CS-1")
    assert [r.status for r in records] == ["Accepted", "UnknownMessageId", "UnknownMessageId"]
    assert records[0].data == (data if version is V16 else '{"bay":3,"occupied":true}')
    [kept] = await rows(committer, StationReport, station_id="CS-1")
    assert kept.payload == {"parking": data}


def test_stored_data_of_every_json_type() -> None:
    assert stored_data(None) is None
    assert stored_data("plain") == "plain"
    assert stored_data(42) == "42"
    assert stored_data([1, "ü"]) == '[1,"ü"]'
    assert stored_data("ab" * 10, limit=5) == "ababa"
    assert stored_data("€€", limit=4) == "€"  # never half a character


def test_a_vendor_registers_once() -> None:
    async def handler(ctx: HandlerContext, message_id: str | None, data: Any) -> VendorReply:
        return VendorReply("Rejected")

    register_vendor("org.twice", handler)
    try:
        with pytest.raises(RuntimeError):
            register_vendor("ORG.twice", handler)
    finally:
        unregister_vendor("org.twice")
