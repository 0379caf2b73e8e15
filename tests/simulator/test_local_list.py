"""The simulated station's local list: a real list with versions, limits, expiry and groups."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from joule.ocpp.versions import OcppVersion
from joule.simulator.auth import ListEntry
from joule.simulator.station import SimulatedStation
from tests.simulator.conftest import T0, later, offline_station
from tests.simulator.test_handlers import answer

VERSIONS = (OcppVersion.V16, OcppVersion.V201)
SOON = "2026-05-01T18:30:00.000Z"


def send(version: OcppVersion, list_version: int, kind: str, **entries: Any) -> dict[str, Any]:
    """A SendLocalList request; an entry given as None is a removal."""
    items: list[dict[str, Any]] = []
    for uid, info in entries.items():
        if version is OcppVersion.V16:
            item: dict[str, Any] = {"idTag": uid}
            if info is not None:
                item["idTagInfo"] = info
        else:
            item = {"idToken": {"idToken": uid, "type": "ISO14443"}}
            if info is not None:
                tokens = {**info}
                if "expiryDate" in tokens:
                    tokens["cacheExpiryDateTime"] = tokens.pop("expiryDate")
                if "parentIdTag" in tokens:
                    group = tokens.pop("parentIdTag")
                    tokens["groupIdToken"] = {"idToken": group, "type": "Central"}
                item["idTokenInfo"] = tokens
        items.append(item)
    key = "listVersion" if version is OcppVersion.V16 else "versionNumber"
    payload: dict[str, Any] = {key: list_version, "updateType": kind}
    if items:
        payload["localAuthorizationList"] = items
    return payload


async def status(st: SimulatedStation, payload: dict[str, Any]) -> str:
    return str((await answer(st, "SendLocalList", payload))["status"])


@pytest.mark.parametrize("version", VERSIONS, ids=str)
async def test_full_and_differential_updates_keep_status_expiry_and_group(
    version: OcppVersion,
) -> None:
    st, clock = offline_station(version)
    auth = st.chargepoint.auth
    full = send(
        version,
        3,
        "Full",
        A={"status": "Accepted", "expiryDate": SOON, "parentIdTag": "FAM"},
        B={"status": "Accepted"},
    )
    assert await status(st, full) == "Accepted"
    assert "tag-1" not in auth.entries  # a Full update replaces the list
    assert auth.entries["a"] == ListEntry("Accepted", T0 + timedelta(minutes=30), "FAM")
    diff = send(version, 4, "Differential", B=None, C={"status": "Blocked"})
    assert await status(st, diff) == "Accepted"
    assert set(auth.entries) == {"a", "c"} and auth.list_version == 4
    assert await status(st, send(version, 4, "Differential", D={"status": "Accepted"})) == (
        "VersionMismatch"
    )
    assert auth.lookup("A", clock.now()) == "Accepted"
    assert auth.lookup("A", later(clock, 31 * 60)) == "Expired"  # expiry date honoured
    assert auth.lookup("C", clock.now()) == "Blocked"


@pytest.mark.parametrize("version", VERSIONS, ids=str)
async def test_limits_refuse_the_update_and_leave_the_list(version: OcppVersion) -> None:
    st, _ = offline_station(
        version, config={"SendLocalListMaxLength": "2", "LocalAuthListMaxLength": "3"}
    )
    accepted = {"status": "Accepted"}
    too_many = send(version, 2, "Full", A=accepted, B=accepted, C=accepted)
    assert await status(st, too_many) == "Failed"  # more entries than one message may carry
    assert await status(st, send(version, 2, "Full", A=accepted, B=accepted)) == "Accepted"
    assert await status(st, send(version, 3, "Differential", C=accepted)) == "Accepted"
    overflow = send(version, 4, "Differential", D=accepted)
    assert await status(st, overflow) == "Failed"  # the list holds 3 at most
    assert set(st.chargepoint.auth.entries) == {"a", "b", "c"}
    assert st.chargepoint.auth.list_version == 3


async def test_a_16_station_without_the_profile_answers_not_supported() -> None:
    st, _ = offline_station(OcppVersion.V16, config={"SupportedFeatureProfiles": "Core"})
    assert await status(st, send(OcppVersion.V16, 2, "Full")) == "NotSupported"
    assert (await answer(st, "GetLocalListVersion", {}))["listVersion"] == -1


async def test_2x_bytes_per_message_is_honoured() -> None:
    st, _ = offline_station(OcppVersion.V201)
    st.chargepoint.config.put("LocalAuthListCtrlr.BytesPerMessage", 200)
    many = {f"TOKEN-{i}": {"status": "Accepted"} for i in range(5)}
    assert await status(st, send(OcppVersion.V201, 2, "Full", **many)) == "Failed"
    assert await status(st, send(OcppVersion.V201, 2, "Full", A={"status": "Accepted"})) == (
        "Accepted"
    )
