"""Firmware, diagnostics and log status notifications on the real database, every version."""

from __future__ import annotations

from typing import Any

import pytest
from tests.domain.helpers import ALL_VERSIONS, V2X, V16, V21, add_station, handle, rows, station

from joule.ocpp.versions import OcppVersion
from joule.storage.committer import GroupCommitter
from joule.storage.models import StationReport

versions = pytest.mark.parametrize("version", ALL_VERSIONS, ids=lambda v: f"ocpp{v.value}")
versions_2x = pytest.mark.parametrize("version", V2X, ids=lambda v: f"ocpp{v.value}")


@versions
async def test_firmware_status_follows_the_update(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    await add_station(committer)
    for status in ("Downloading", "Downloaded", "Installing", "Installed"):
        payload: dict[str, Any] = {"status": status}
        if version is not V16:
            payload["requestId"] = 17
        handled = await handle(committer, version, "FirmwareStatusNotification", payload)
        assert handled.response == {}
    assert (await station(committer)).firmware_status == "Installed"
    kept = await rows(committer, StationReport, action="FirmwareStatusNotification")
    assert [r.payload["status"] for r in kept] == [
        "Downloading",
        "Downloaded",
        "Installing",
        "Installed",
    ]
    assert {r.request_id for r in kept} == {None if version is V16 else 17}


async def test_21_firmware_failure_keeps_its_status_info(committer: GroupCommitter) -> None:
    await add_station(committer)
    payload = {
        "status": "InstallVerificationFailed",
        "requestId": 3,
        "statusInfo": {"reasonCode": "BadChecksum", "additionalInfo": "sha256 mismatch"},
    }
    await handle(committer, V21, "FirmwareStatusNotification", payload)
    assert (await station(committer)).firmware_status == "InstallVerificationFailed"
    [kept] = await rows(committer, StationReport, action="FirmwareStatusNotification")
    assert kept.payload["statusInfo"]["reasonCode"] == "BadChecksum"


async def test_16_signed_firmware_status(committer: GroupCommitter) -> None:
    await add_station(committer)
    handled = await handle(
        committer,
        V16,
        "SignedFirmwareStatusNotification",
        {"status": "InvalidSignature", "requestId": 8},
    )
    assert handled.response == {}
    assert (await station(committer)).firmware_status == "InvalidSignature"
    [kept] = await rows(committer, StationReport, action="SignedFirmwareStatusNotification")
    assert kept.request_id == 8


async def test_16_diagnostics_status(committer: GroupCommitter) -> None:
    await add_station(committer)
    for status in ("Uploading", "Uploaded"):
        await handle(committer, V16, "DiagnosticsStatusNotification", {"status": status})
    assert (await station(committer)).diagnostics_status == "Uploaded"
    assert len(await rows(committer, StationReport, action="DiagnosticsStatusNotification")) == 2


@versions
async def test_log_status(committer: GroupCommitter, version: OcppVersion) -> None:
    """1.6 security extension and 2.x (N01): progress of a GetLog upload."""
    await add_station(committer)
    handled = await handle(
        committer, version, "LogStatusNotification", {"status": "UploadFailure", "requestId": 4}
    )
    assert handled.response == {}
    assert (await station(committer)).diagnostics_status == "UploadFailure"
    [kept] = await rows(committer, StationReport, action="LogStatusNotification")
    assert kept.request_id == 4


@versions_2x
async def test_publish_firmware_status_is_kept_apart_from_own_firmware(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    await add_station(committer)
    await handle(committer, version, "FirmwareStatusNotification", {"status": "Installed"})
    handled = await handle(
        committer,
        version,
        "PublishFirmwareStatusNotification",
        {
            "status": "Published",
            "location": ["http://192.168.1.10/fw/ng920-6.2.0.bin"],
            "requestId": 21,
        },
    )
    assert handled.response == {}
    assert (await station(committer)).firmware_status == "Installed"
    [kept] = await rows(committer, StationReport, action="PublishFirmwareStatusNotification")
    assert (kept.request_id, kept.payload["status"]) == (21, "Published")
