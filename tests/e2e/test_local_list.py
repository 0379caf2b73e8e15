"""Local authorization lists kept in step with simulated stations over real WebSockets (issue 5).

A real Joule on loopback, real 1.6 / 2.0.1 simulated stations holding real lists. Access data is
written to the real database and AccessChanged published on Joule's bus after the commit, as
the routes that change tokens, groups and rules do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select, update

from joule.domain.events import AccessChanged
from joule.ocpp.versions import OcppVersion
from joule.runtime import Joule
from joule.simulator import SimulatedStation, StationSpec
from joule.simulator.auth import ListEntry
from joule.simulator.model import LAYOUTS
from joule.storage.models import (
    AccessGroup,
    AccessRule,
    GroupToken,
    IdToken,
    Organisation,
    Site,
    Station,
)
from joule.storage.uow import UnitOfWork
from tests.e2e.conftest import MakeJoule, api_client, ocpp_url
from tests.e2e.station import TestStation
from tests.e2e.test_charging_session import eventually

VERSIONS = [OcppVersion.V16, OcppVersion.V201]
NOW = datetime.now(UTC)
EXPIRY = datetime(2030, 6, 30, 12, 0, tzinfo=UTC)
FAST = {
    "local_lists_auto": True,
    "local_list_debounce_s": 0.1,
    "local_list_settle_s": 0.1,
    "local_list_interval_s": 0,
}

Work = Callable[[Any], Awaitable[None]]


async def write(joule: Joule, work: Work) -> None:
    """Run `work(session)` in one committed unit of work of Joule's own committer."""
    assert joule.committer is not None

    async def unit(uow: UnitOfWork) -> None:
        await work(uow.session)

    await joule.committer.run(unit)


async def changed(joule: Joule, organisation_id: str | None, reason: str) -> None:
    """What a route does after committing an access change."""
    assert joule.bus is not None
    await joule.bus.publish(AccessChanged(organisation_id, reason))


def token(uid: str, org: str, **fields: Any) -> IdToken:
    return IdToken(uid=uid, organisation_id=org, created_at=NOW, **fields)


async def seed(joule: Joule, suffix: str) -> None:
    """Two networks: ACME (employees at its private site) and OTHER (its own private site)."""

    async def work(session: Any) -> None:
        session.add_all(
            [
                Organisation(id=f"ACME{suffix}", name="Acme", created_at=NOW),
                Organisation(id=f"OTHER{suffix}", name="Other", created_at=NOW),
            ]
        )
        await session.flush()
        session.add_all(
            [
                Site(
                    id=f"S-ACME{suffix}",
                    name="Acme office",
                    organisation_id=f"ACME{suffix}",
                    access_mode="private",
                    created_at=NOW,
                ),
                Site(
                    id=f"S-OTHER{suffix}",
                    name="Other depot",
                    organisation_id=f"OTHER{suffix}",
                    access_mode="private",
                    created_at=NOW,
                ),
                AccessGroup(
                    id=f"EMP{suffix}",
                    organisation_id=f"ACME{suffix}",
                    name="Employees",
                    kind="employees",
                    created_at=NOW,
                ),
                AccessGroup(
                    id=f"OTH{suffix}",
                    organisation_id=f"OTHER{suffix}",
                    name="Fleet",
                    kind="fleet",
                    created_at=NOW,
                ),
            ]
        )
        await session.flush()
        session.add_all(
            [
                Station(
                    id=f"LL-A{suffix}",
                    site_id=f"S-ACME{suffix}",
                    security_profile=0,
                    created_at=NOW,
                ),
                Station(
                    id=f"LL-B{suffix}",
                    site_id=f"S-OTHER{suffix}",
                    security_profile=0,
                    created_at=NOW,
                ),
                AccessRule(group_id=f"EMP{suffix}", site_id=f"S-ACME{suffix}", created_at=NOW),
                AccessRule(group_id=f"OTH{suffix}", site_id=f"S-OTHER{suffix}", created_at=NOW),
                token(f"E1{suffix}", f"ACME{suffix}", expiry=EXPIRY, group_id=f"FAM{suffix}"),
                token(f"E2{suffix}", f"ACME{suffix}"),
                token(f"O1{suffix}", f"OTHER{suffix}"),
            ]
        )
        await session.flush()
        await join(session, f"EMP{suffix}", f"E1{suffix}", f"E2{suffix}")
        await join(session, f"OTH{suffix}", f"O1{suffix}")

    await write(joule, work)


async def join(session: Any, group: str, *uids: str) -> None:
    for uid in uids:
        token_id = await session.scalar(select(IdToken.id).where(IdToken.uid == uid))
        session.add(GroupToken(group_id=group, token_id=token_id))


def simulated(
    joule: Joule, station_id: str, version: OcppVersion, **config: str
) -> SimulatedStation:
    spec = StationSpec(station_id, version=version, evses=LAYOUTS["ac3x2"], config=config)
    return SimulatedStation(spec, ocpp_url(joule), tick_s=0.2, traffic=False)


def held(station: SimulatedStation) -> dict[str, ListEntry]:
    return dict(station.chargepoint.auth.entries)


async def sent(api: httpx.AsyncClient, station_id: str, action: str) -> list[dict[str, Any]]:
    """The requests of `action` Joule sent the station, oldest first (command log)."""
    resp = await api.get(
        f"/stations/{station_id}/commands", params={"action": action, "limit": 500}
    )
    assert resp.status_code == 200, resp.text
    return [item["request"] for item in reversed(resp.json()["items"])]


def entries_of(version: OcppVersion, request: dict[str, Any]) -> dict[str, str | None]:
    """uid → status (None: removal) of a SendLocalList request."""
    items = request.get("localAuthorizationList", [])
    if version is OcppVersion.V16:
        return {i["idTag"]: (i.get("idTagInfo") or {}).get("status") for i in items}
    return {i["idToken"]["idToken"]: (i.get("idTokenInfo") or {}).get("status") for i in items}


def version_of(request: dict[str, Any]) -> int:
    return int(request.get("listVersion", request.get("versionNumber", -1)))


async def in_step(api: httpx.AsyncClient, station: SimulatedStation, uids: set[str]) -> bool:
    """The station holds exactly `uids` and its version is the one Joule confirmed."""
    if set(held(station)) != {u.lower() for u in uids}:
        return False
    state = (await api.get(f"/stations/{station.station_id}/local-list")).json()
    return bool(
        state["status"] == "in_sync"
        and state["version"] == station.chargepoint.auth.list_version
        and state["entries"] == len(uids)
    )


@pytest.mark.parametrize("version", VERSIONS, ids=str)
async def test_first_sync_is_full_then_changes_go_out_as_differential_updates(
    make_joule: MakeJoule, version: OcppVersion
) -> None:
    sfx = "-16" if version is OcppVersion.V16 else "-20"
    joule = await make_joule(**FAST)
    api = await api_client(joule)
    await seed(joule, sfx)
    a, b = simulated(joule, f"LL-A{sfx}", version), simulated(joule, f"LL-B{sfx}", version)
    await a.start()
    await b.start()
    await a.wait_booted(10)
    await b.wait_booted(10)
    e1, e2, e3, o1 = f"E1{sfx}", f"E2{sfx}", f"E3{sfx}", f"O1{sfx}"

    # First sync after boot: Full, each station its own network's group only.
    await eventually(lambda: in_step(api, a, {e1, e2}))
    await eventually(lambda: in_step(api, b, {o1}))
    (first,) = await sent(api, a.station_id, "SendLocalList")
    assert first["updateType"] == "Full" and version_of(first) == 1
    entry = held(a)[e1.lower()]
    assert entry == ListEntry("Accepted", EXPIRY, f"FAM{sfx}")  # expiry and group sent
    b_before = len(await sent(api, b.station_id, "SendLocalList"))

    # E3 joins the employees, E2 is blocked: a differential update with just those two.
    async def change(session: Any) -> None:
        session.add(token(e3, f"ACME{sfx}"))
        await session.flush()
        await join(session, f"EMP{sfx}", e3)
        await session.execute(update(IdToken).where(IdToken.uid == e2).values(status="Blocked"))

    clears = a.chargepoint.auth.clears
    await write(joule, change)
    await changed(joule, f"ACME{sfx}", "token E3 added, E2 blocked")
    await eventually(lambda: in_step(api, a, {e1, e2, e3}))
    assert held(a)[e2.lower()].status == "Blocked"
    second = (await sent(api, a.station_id, "SendLocalList"))[-1]
    assert second["updateType"] == "Differential" and version_of(second) == 2
    assert entries_of(version, second) == {e2: "Blocked", e3: "Accepted"}
    # E2 was Accepted: the station's cache may still say so (1.6 §5.4 / C11).
    await eventually(lambda: _true(a.chargepoint.auth.clears > clears))
    # The command log row is written once the answer is in: it may trail the station's count.
    await eventually(lambda: logged(api, a.station_id, "ClearCache", 1))

    # E1 leaves the group: removed with an entry without info, versions agree.
    async def leave(session: Any) -> None:
        token_id = await session.scalar(select(IdToken.id).where(IdToken.uid == e1))
        await session.execute(delete(GroupToken).where(GroupToken.token_id == token_id))

    await write(joule, leave)
    await changed(joule, f"ACME{sfx}", "E1 left the employees")
    await eventually(lambda: in_step(api, a, {e2, e3}))
    third = (await sent(api, a.station_id, "SendLocalList"))[-1]
    assert entries_of(version, third) == {e1: None} and version_of(third) == 3
    listed = (await api.get(f"/stations/{a.station_id}/local-list")).json()
    assert listed["version"] == 3 and listed["target_version"] == 3

    # The other network's station received nothing.
    assert len(await sent(api, b.station_id, "SendLocalList")) == b_before

    # On demand: GetLocalListVersion agrees, nothing to send.
    await eventually(lambda: idle(joule))
    resp = await api.post(f"/stations/{a.station_id}/local-list/sync")
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "in_sync" and resp.json()["update_type"] is None
    assert resp.json()["version"] == 3
    await a.stop()
    await b.stop()
    await api.aclose()


async def logged(api: httpx.AsyncClient, station_id: str, action: str, count: int) -> bool:
    """Exactly `count` requests of `action` are in the station's command log."""
    return len(await sent(api, station_id, action)) == count


async def _true(value: bool) -> bool:
    return value


async def idle(joule: Joule) -> bool:
    """No local list sync pending or running."""
    assert joule.local_lists is not None
    return not joule.local_lists.keeper.busy


@pytest.mark.parametrize("version", VERSIONS, ids=str)
async def test_a_station_out_of_step_gets_a_full_update(
    make_joule: MakeJoule, version: OcppVersion
) -> None:
    sfx = "-m16" if version is OcppVersion.V16 else "-m20"
    joule = await make_joule(**FAST)
    api = await api_client(joule)
    await seed(joule, sfx)
    a = simulated(joule, f"LL-A{sfx}", version)
    await a.start()
    await a.wait_booted(10)
    e1, e2, e3 = f"E1{sfx}", f"E2{sfx}", f"E3{sfx}"
    await eventually(lambda: in_step(api, a, {e1, e2}))

    # The station's list moved on without Joule (another CSMS, a local tool): version 40.
    a.chargepoint.auth.update_list(40, "Full", {"STRANGER": "Accepted"})

    async def add(session: Any) -> None:
        session.add(token(e3, f"ACME{sfx}"))
        await session.flush()
        await join(session, f"EMP{sfx}", e3)

    await write(joule, add)
    await changed(joule, f"ACME{sfx}", "E3 added")
    # Differential version 2 ≤ 40: VersionMismatch, then a Full update replaces the list.
    await eventually(lambda: in_step(api, a, {e1, e2, e3}))
    requests = await sent(api, a.station_id, "SendLocalList")
    assert [r["updateType"] for r in requests] == ["Full", "Differential", "Full"]
    assert "stranger" not in held(a)

    # Reconcile on demand: GetLocalListVersion reports another version → Full update.
    await eventually(lambda: idle(joule))
    a.chargepoint.auth.update_list(77, "Differential", {"STRANGER": "Accepted"})
    resp = await api.post(f"/stations/{a.station_id}/local-list/sync")
    assert resp.status_code == 200, resp.text
    assert resp.json()["update_type"] == "Full" and resp.json()["status"] == "in_sync"
    assert await in_step(api, a, {e1, e2, e3})
    assert len(await sent(api, a.station_id, "GetLocalListVersion")) >= 2  # boot + on demand
    await a.stop()
    await api.aclose()


@pytest.mark.parametrize("version", VERSIONS, ids=str)
async def test_lists_are_cut_to_the_station_limits(
    make_joule: MakeJoule, version: OcppVersion
) -> None:
    sfx = "-c16" if version is OcppVersion.V16 else "-c20"
    joule = await make_joule(**FAST)
    api = await api_client(joule)
    await seed(joule, sfx)
    extra = [f"X{i}{sfx}" for i in range(5)]

    async def more(session: Any) -> None:
        session.add_all([token(uid, f"ACME{sfx}") for uid in extra])
        await session.flush()
        await join(session, f"EMP{sfx}", *extra)

    await write(joule, more)
    # 1.6 SendLocalListMaxLength / 2.0.1 LocalAuthListCtrlr.ItemsPerMessage = 3 (the same
    # simulator setting); 7 entries → a Full part and two Differential parts.
    a = simulated(joule, f"LL-A{sfx}", version, SendLocalListMaxLength="3")
    await a.start()
    await a.wait_booted(10)
    everyone = {f"E1{sfx}", f"E2{sfx}", *extra}
    await eventually(lambda: in_step(api, a, everyone))
    requests = await sent(api, a.station_id, "SendLocalList")
    assert [(r["updateType"], version_of(r), len(entries_of(version, r))) for r in requests] == [
        ("Full", 1, 3),
        ("Differential", 2, 3),
        ("Differential", 3, 1),
    ]
    await a.stop()
    await api.aclose()


async def test_a_16_list_longer_than_the_station_holds_keeps_the_accepted_ones(
    make_joule: MakeJoule,
) -> None:
    sfx = "-x16"
    joule = await make_joule(**FAST)
    api = await api_client(joule)
    await seed(joule, sfx)

    async def block(session: Any) -> None:
        await session.execute(
            update(IdToken).where(IdToken.uid == f"E2{sfx}").values(status="Blocked")
        )

    await write(joule, block)
    a = simulated(joule, f"LL-A{sfx}", OcppVersion.V16, LocalAuthListMaxLength="1")
    await a.start()
    await a.wait_booted(10)
    await eventually(lambda: in_step(api, a, {f"E1{sfx}"}))
    state = (await api.get(f"/stations/{a.station_id}/local-list")).json()
    assert "1 entries did not fit" in state["last_error"]
    await a.stop()
    await api.aclose()


async def test_a_16_station_without_the_local_list_profile_is_left_alone(
    make_joule: MakeJoule,
) -> None:
    sfx = "-n16"
    joule = await make_joule(**FAST)
    api = await api_client(joule)
    await seed(joule, sfx)
    a = simulated(
        joule,
        f"LL-A{sfx}",
        OcppVersion.V16,
        SupportedFeatureProfiles="Core,RemoteTrigger,SmartCharging",
    )
    await a.start()
    await a.wait_booted(10)

    async def unsupported() -> bool:
        state = (await api.get(f"/stations/{a.station_id}/local-list")).json()
        return bool(state["status"] == "unsupported")

    await eventually(unsupported)
    for _ in range(3):  # repeated changes: no retry storm at a station without a list
        await changed(joule, f"ACME{sfx}", "a change")
    await eventually(lambda: idle(joule))
    assert await sent(api, a.station_id, "SendLocalList") == []
    assert len(await sent(api, a.station_id, "GetConfiguration")) == 1
    await a.stop()
    await api.aclose()


async def test_viewer_may_read_but_not_sync_others_see_404_and_offline_is_409(
    make_joule: MakeJoule,
) -> None:
    sfx = "-v16"
    joule = await make_joule(**FAST)
    api = await api_client(joule)
    await seed(joule, sfx)
    resp = await api.post(
        "/operators",
        json={"email": "viewer@example.test", "password": "viewer-password-1", "role": "viewer"},
    )
    assert resp.status_code == 201, resp.text
    viewer = await api_client(joule, "viewer@example.test", "viewer-password-1")
    station_id = f"LL-A{sfx}"
    state = await viewer.get(f"/stations/{station_id}/local-list")
    assert state.status_code == 200 and state.json()["status"] == "pending"
    assert (await viewer.post(f"/stations/{station_id}/local-list/sync")).status_code == 403
    assert (await api.post(f"/stations/{station_id}/local-list/sync")).status_code == 409
    assert (await api.get("/stations/NOPE/local-list")).status_code == 404
    # Another network's operator: the station does not exist for them (404, not 403).
    resp = await api.post(
        "/operators",
        json={
            "email": "other@example.test",
            "password": "other-password-1",
            "role": "operator",
            "organisation_id": f"OTHER{sfx}",
        },
    )
    assert resp.status_code == 201, resp.text
    other = await api_client(joule, "other@example.test", "other-password-1")
    assert (await other.get(f"/stations/{station_id}/local-list")).status_code == 404
    assert (await other.post(f"/stations/{station_id}/local-list/sync")).status_code == 404
    assert (await other.get(f"/stations/LL-B{sfx}/local-list")).status_code == 200
    await other.aclose()
    await viewer.aclose()
    await api.aclose()


@pytest.mark.parametrize("version", VERSIONS, ids=str)
async def test_offline_the_station_decides_from_its_list_and_catches_up_on_reconnect(
    make_joule: MakeJoule, version: OcppVersion
) -> None:
    sfx = "-o16" if version is OcppVersion.V16 else "-o20"
    joule = await make_joule(**FAST)
    api = await api_client(joule)
    await seed(joule, sfx)
    e1, e2, e3 = f"E1{sfx}", f"E2{sfx}", f"E3{sfx}"

    async def block(session: Any) -> None:
        await session.execute(update(IdToken).where(IdToken.uid == e2).values(status="Blocked"))

    await write(joule, block)
    a = simulated(
        joule,
        f"LL-A{sfx}",
        version,
        RetryBackOffWaitMinimum="1",
        RetryBackOffRandomRange="0",
        RetryBackOffRepeatTimes="1",
    )
    await a.start()
    await a.wait_booted(10)
    await eventually(lambda: in_step(api, a, {e1, e2}))

    a.go_offline()
    await eventually(lambda: _true(not a.online))
    a.plug_in(1, ev="sedan", soc=30)
    assert await a.present_token(1, e1)  # Accepted on the list: charges offline
    a.plug_in(2, ev="compact", soc=30)
    assert not await a.present_token(2, e2)  # Blocked on the list: refused offline

    # A change while the station is away reaches it when it comes back (GetLocalListVersion
    # agrees, so a differential update with just the change).
    async def add(session: Any) -> None:
        session.add(token(e3, f"ACME{sfx}"))
        await session.flush()
        await join(session, f"EMP{sfx}", e3)

    await write(joule, add)
    await changed(joule, f"ACME{sfx}", "E3 added while the station was offline")
    a.come_back()
    await eventually(lambda: in_step(api, a, {e1, e2, e3}))
    last = (await sent(api, a.station_id, "SendLocalList"))[-1]
    assert last["updateType"] == "Differential" and entries_of(version, last) == {e3: "Accepted"}
    await a.stop()
    await api.aclose()


async def test_a_refused_update_is_recorded_and_the_next_sync_is_full(
    make_joule: MakeJoule,
) -> None:
    sfx = "-f20"
    joule = await make_joule(**FAST)
    api = await api_client(joule)
    await seed(joule, sfx)
    # 2.0.1 stations keep their capacity as a characteristic (Entries maxLimit) Joule does not
    # read: the station answers Failed when the list is too long for it.
    a = simulated(joule, f"LL-A{sfx}", OcppVersion.V201, LocalAuthListMaxLength="1")
    await a.start()
    await a.wait_booted(10)

    async def failed() -> bool:
        state = (await api.get(f"/stations/{a.station_id}/local-list")).json()
        return bool(state["status"] == "failed" and state["last_error"] == "Failed")

    await eventually(failed)
    await eventually(lambda: idle(joule))  # the connect and boot reconciliations are done
    assert held(a) == {}
    a.chargepoint.auth.max_entries = 10  # room made on the station
    resp = await api.post(f"/stations/{a.station_id}/local-list/sync")
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "in_sync" and resp.json()["update_type"] == "Full"
    assert await in_step(api, a, {f"E1{sfx}", f"E2{sfx}"})
    versions = [version_of(r) for r in await sent(api, a.station_id, "SendLocalList")]
    assert versions == sorted(set(versions))  # a refused version is never reused
    await a.stop()
    await api.aclose()


async def seed_places(joule: Joule, suffix: str) -> None:
    """Organisations, private sites and their stations; tokens and groups come from the API."""

    async def work(session: Any) -> None:
        for org in (f"ACME{suffix}", f"OTHER{suffix}"):
            session.add(Organisation(id=org, name=org, created_at=NOW))
        await session.flush()
        for org in ("ACME", "OTHER"):
            session.add(
                Site(
                    id=f"S-{org}{suffix}",
                    name=org,
                    organisation_id=f"{org}{suffix}",
                    access_mode="private",
                    created_at=NOW,
                )
            )
        await session.flush()
        for name, org in (("A", "ACME"), ("B", "OTHER")):
            session.add(
                Station(
                    id=f"LL-{name}{suffix}",
                    site_id=f"S-{org}{suffix}",
                    security_profile=0,
                    created_at=NOW,
                )
            )

    await write(joule, work)


@pytest.mark.parametrize("version", VERSIONS, ids=str)
async def test_changes_through_the_api_reach_the_affected_station(
    make_joule: MakeJoule, version: OcppVersion
) -> None:
    sfx = "-p16" if version is OcppVersion.V16 else "-p20"
    joule = await make_joule(**FAST)
    api = await api_client(joule)
    await seed_places(joule, sfx)
    acme, group = f"ACME{sfx}", f"EMP{sfx}"
    e1, e2 = f"E1{sfx}", f"E2{sfx}"
    for uid in (e1, e2):
        resp = await api.post("/tokens", json={"uid": uid, "organisation_id": acme})
        assert resp.status_code == 201, resp.text
    resp = await api.post(
        "/groups",
        json={"id": group, "name": "Employees", "kind": "employees", "organisation_id": acme},
    )
    assert resp.status_code == 201, resp.text
    for uid in (e1, e2):
        resp = await api.post(f"/groups/{group}/members", json={"uid": uid})
        assert resp.status_code == 204, resp.text
    resp = await api.post(f"/groups/{group}/rules", json={"site_id": f"S-ACME{sfx}"})
    assert resp.status_code == 201, resp.text
    rule_id = resp.json()["id"]

    a, b = simulated(joule, f"LL-A{sfx}", version), simulated(joule, f"LL-B{sfx}", version)
    await a.start()
    await b.start()
    await a.wait_booted(10)
    await b.wait_booted(10)
    await eventually(lambda: in_step(api, a, {e1, e2}))
    await eventually(lambda: in_step(api, b, set()))  # no group has a rule there

    # An operator blocks a lost card: Blocked on the list, and the cache cleared.
    resp = await api.patch(f"/tokens/{e2}", json={"status": "Blocked"})
    assert resp.status_code == 200, resp.text

    async def blocked() -> bool:
        entry = held(a).get(e2.lower())
        return entry is not None and entry.status == "Blocked" and await in_step(api, a, {e1, e2})

    await eventually(blocked)
    await eventually(lambda: _true(len(held(a)) == 2 and a.chargepoint.auth.clears > 0))
    last = (await sent(api, a.station_id, "SendLocalList"))[-1]
    assert last["updateType"] == "Differential" and entries_of(version, last) == {e2: "Blocked"}

    # The group's only rule goes: nobody may charge at the private site any more.
    resp = await api.delete(f"/groups/{group}/rules/{rule_id}")
    assert resp.status_code == 204, resp.text
    await eventually(lambda: in_step(api, a, set()))
    last = (await sent(api, a.station_id, "SendLocalList"))[-1]
    assert last["updateType"] == "Differential" and entries_of(version, last) == {
        e1: None,
        e2: None,
    }
    # The other network's station only ever had its first (empty) Full update.
    assert [r["updateType"] for r in await sent(api, b.station_id, "SendLocalList")] == ["Full"]
    await a.stop()
    await b.stop()
    await api.aclose()


async def test_a_station_that_does_not_answer_costs_one_call_per_round(
    make_joule: MakeJoule,
) -> None:
    sfx = "-s16"
    joule = await make_joule(**FAST, call_timeout_s=0.5)
    api = await api_client(joule)
    await seed(joule, sfx)
    st = await TestStation.connect(ocpp_url(joule), f"LL-A{sfx}", subprotocols=["ocpp1.6"])
    st.silent = True  # takes CALLs, never answers
    boot = await st.call("BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "M"})
    assert boot["status"] == "Accepted"

    async def failed() -> bool:
        state = (await api.get(f"/stations/{st.station_id}/local-list")).json()
        return bool(state["status"] == "failed") and await idle(joule)

    await eventually(failed)
    # The limits were asked and never answered: no GetLocalListVersion, no list sent after it.
    assert [c[2] for c in st.received_calls] == ["GetConfiguration"]
    await st.close()
    await api.aclose()


async def test_a_station_awaiting_registration_is_sent_nothing(make_joule: MakeJoule) -> None:
    joule = await make_joule(**FAST, unknown_stations="pending")
    api = await api_client(joule)
    st = await TestStation.connect(ocpp_url(joule), "LL-UNKNOWN", subprotocols=["ocpp1.6"])
    boot = await st.call("BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "M"})
    assert boot["status"] == "Pending"  # B02: until an operator accepts it
    await asyncio.sleep(0.5)  # longer than the settle delay
    await eventually(lambda: idle(joule))
    assert st.received_calls == []
    state = (await api.get("/stations/LL-UNKNOWN/local-list")).json()
    assert state["status"] == "pending" and state["version"] == 0
    await st.close()
    await api.aclose()


async def test_a_station_gone_before_its_turn_costs_no_read_and_no_call(
    make_joule: MakeJoule, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 3: a reconciliation whose station left during the settle delay does nothing at
    all; its next connect queues one of its own."""
    from joule.storage.repositories import local_list as local_list_repo

    reads: list[str] = []
    sync_state = local_list_repo.sync_state

    async def counting(session: Any, station_id: str) -> Any:
        reads.append(station_id)
        return await sync_state(session, station_id)

    monkeypatch.setattr(local_list_repo, "sync_state", counting)
    sfx = "-g16"
    joule = await make_joule(**{**FAST, "local_list_settle_s": 0.5})
    api = await api_client(joule)
    await seed(joule, sfx)
    st = await TestStation.connect(ocpp_url(joule), f"LL-A{sfx}", subprotocols=["ocpp1.6"])
    boot = await st.call("BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "M"})
    assert boot["status"] == "Accepted"
    assert joule.local_lists is not None
    keeper = joule.local_lists.keeper
    await eventually(lambda: _true(keeper.busy))  # its reconciliation is queued
    await st.close()
    await eventually(lambda: idle(joule))
    assert reads == [] and st.received_calls == []
    state = (await api.get(f"/stations/{st.station_id}/local-list")).json()
    assert state["status"] == "pending"

    # Back again: this connect is reconciled (and answered, here: silence → failed).
    again = await TestStation.connect(ocpp_url(joule), f"LL-A{sfx}", subprotocols=["ocpp1.6"])
    again.silent = True
    await eventually(lambda: _true(bool(reads)))
    assert reads[0] == f"LL-A{sfx}"
    await again.close()
    await api.aclose()


async def test_a_connect_storm_queues_no_task_per_station(make_joule: MakeJoule) -> None:
    """Issue 3: 2 000 connects queue 2 000 entries for one serving task, not 2 000 sleeping
    tasks (each a coroutine, frame and timer that every full GC walked for minutes)."""
    from joule.domain.events import StationConnected

    joule = await make_joule(**{**FAST, "local_list_settle_s": 0.2})
    assert joule.local_lists is not None
    keeper = joule.local_lists.keeper
    keeper.rate_per_s = 10_000.0  # the whole storm's turns within a second
    tasks_before = len(asyncio.all_tasks())
    for n in range(2000):
        await keeper.on_event(StationConnected(station_id=f"GONE-{n}", ocpp_version="1.6", at=NOW))
    assert keeper.busy
    assert len(asyncio.all_tasks()) - tasks_before <= 1  # the queue's one task
    # None of them is connected: each turn costs no task and no read.
    await eventually(lambda: _true(not keeper.busy))


async def test_an_access_change_while_a_boot_reconciliation_waits_is_sent_by_it(
    make_joule: MakeJoule,
) -> None:
    """Issue 3: an access change during a connect storm does not sync the stations whose boot
    reconciliation is still queued: that reconciliation reads the list after the change and
    sends it, once (one limits query, one GetLocalListVersion, one Full update)."""
    sfx = "-q16"
    joule = await make_joule(**{**FAST, "local_list_settle_s": 1.5, "local_list_debounce_s": 0.05})
    assert joule.local_lists is not None
    keeper = joule.local_lists.keeper
    keeper.jitter_s = 0.0
    api = await api_client(joule)
    await seed(joule, sfx)
    a = simulated(joule, f"LL-A{sfx}", OcppVersion.V16)
    await a.start()
    await a.wait_booted(10)
    assert keeper.busy  # its reconciliation waits out the settle delay

    async def add(session: Any) -> None:
        session.add(token(f"E3{sfx}", f"ACME{sfx}"))
        await session.flush()
        await join(session, f"EMP{sfx}", f"E3{sfx}")

    await write(joule, add)
    await changed(joule, f"ACME{sfx}", "token E3 added")
    await eventually(lambda: in_step(api, a, {f"E1{sfx}", f"E2{sfx}", f"E3{sfx}"}))
    await eventually(lambda: idle(joule))
    assert [
        request["updateType"] for request in await sent(api, a.station_id, "SendLocalList")
    ] == ["Full"]
    assert await logged(api, a.station_id, "GetConfiguration", 1)
    assert await logged(api, a.station_id, "GetLocalListVersion", 1)
    await a.stop()
    await api.aclose()
