"""Issue 5 "Done when": access rules decide over real WebSockets, OCPP 1.6 and 2.0.1.

The gateway stamps every frame with the real time, so instead of moving a clock the test picks
each site's time zone (Etc/GMT±N) so that it is now midday at the office and midnight at the
night site; the employees' rule is 07:00–19:00 every day in the site's time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from joule.runtime import Joule
from tests.e2e.conftest import ocpp_url
from tests.e2e.station import TestStation

PASSWORD = "a-station-password-123"


def zone_where_it_is(hour: int) -> str:
    """An Etc/GMT zone whose local hour is `hour` now (Etc/GMT-5 is UTC+5)."""
    offset = ((hour - datetime.now(UTC).hour + 12) % 24) - 12
    if offset == 0:
        return "Etc/GMT"
    return f"Etc/GMT-{offset}" if offset > 0 else f"Etc/GMT+{-offset}"


async def ok(resp: httpx.Response) -> Any:
    assert resp.status_code < 300, resp.text
    return resp.json() if resp.content else None


async def world(api: httpx.AsyncClient) -> None:
    """Acme (office by day, office by night, private) and Rival (public depot)."""
    for org in ("acme", "rival"):
        await ok(await api.post("/organisations", json={"id": org, "name": org.title()}))
    sites = (
        ("office", "acme", zone_where_it_is(12)),
        ("night", "acme", zone_where_it_is(0)),
        ("depot", "rival", "UTC"),
    )
    for site, org, tz in sites:
        body = {"id": site, "name": site, "timezone": tz, "organisation_id": org}
        await ok(await api.post("/sites", json=body))
        mode = "public" if site == "depot" else "private"
        await ok(await api.put(f"/sites/{site}/access-mode", json={"access_mode": mode}))
    group = {
        "id": "employees",
        "name": "Employees",
        "kind": "employees",
        "organisation_id": "acme",
        "id_token_group": "ACME-STAFF",
        "monthly_energy_budget_wh": "5000",
    }
    await ok(await api.post("/groups", json=group))
    # No site named: every site of the group's organisation, 07:00–19:00 local, every day.
    rule = {"days": [1, 2, 3, 4, 5, 6, 7], "start_time": "07:00", "end_time": "19:00"}
    await ok(await api.post("/groups/employees/rules", json=rule))
    driver = await ok(await api.post("/drivers", json={"name": "Ada", "organisation_id": "acme"}))
    await ok(await api.post("/groups/employees/members", json={"driver_id": driver["id"]}))
    tokens: list[dict[str, Any]] = [
        {"uid": "EMP-1", "driver_id": driver["id"]},
        {"uid": "FAMILY-2", "organisation_id": "acme", "group_id": "ACME-STAFF"},
        {"uid": "BLOCKED-3", "driver_id": driver["id"], "status": "Blocked"},
        {"uid": "EXPIRED-4", "driver_id": driver["id"], "expiry": "2020-01-01T00:00:00Z"},
        {"uid": "OUTSIDER-5", "organisation_id": "acme"},
    ]
    for token in tokens:
        await ok(await api.post("/tokens", json=token))


async def station(
    joule: Joule, api: httpx.AsyncClient, sid: str, site: str, version: str
) -> TestStation:
    await ok(await api.post("/stations", json={"id": sid, "password": PASSWORD, "site_id": site}))
    st = await TestStation.connect(
        ocpp_url(joule), sid, subprotocols=[f"ocpp{version}"], password=PASSWORD
    )
    st.answers["SendLocalList"] = lambda action, payload: {"status": "Accepted"}
    st.answers["GetLocalListVersion"] = lambda action, payload: {"listVersion": 0}
    st.answers["ClearCache"] = lambda action, payload: {"status": "Accepted"}
    if version == "1.6":
        boot = {"chargePointVendor": "Acme", "chargePointModel": "AC22"}
    else:
        boot = {"reason": "PowerUp", "chargingStation": {"vendorName": "Acme", "model": "AC22"}}
    assert (await st.call("BootNotification", boot))["status"] == "Accepted"
    return st


async def authorize(st: TestStation, uid: str, version: str) -> str:
    if version == "1.6":
        return str((await st.call("Authorize", {"idTag": uid}))["idTagInfo"]["status"])
    answer = await st.call("Authorize", {"idToken": {"idToken": uid, "type": "ISO14443"}})
    return str(answer["idTokenInfo"]["status"])


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_employees_group_rules(joule: Joule, api: httpx.AsyncClient, version: str) -> None:
    await world(api)
    v = version.replace(".", "")
    office = await station(joule, api, f"OFFICE-{v}", "office", version)
    night = await station(joule, api, f"NIGHT-{v}", "night", version)
    depot = await station(joule, api, f"DEPOT-{v}", "depot", version)
    try:
        # The employee starts at the office during working hours; the family card shares it.
        assert await authorize(office, "EMP-1", version) == "Accepted"
        assert await authorize(office, "FAMILY-2", version) == "Accepted"
        # At night (the other office's local time): 2.0.1 says why, 1.6 can only say Invalid.
        at_night = "Invalid" if version == "1.6" else "NotAtThisTime"
        assert await authorize(night, "EMP-1", version) == at_night
        assert await authorize(night, "FAMILY-2", version) == at_night
        # Another organisation's site: not valid on that network.
        assert await authorize(depot, "EMP-1", version) == "Invalid"
        # A token of the network outside the group, at a private site.
        elsewhere = "Invalid" if version == "1.6" else "NotAtThisLocation"
        assert await authorize(office, "OUTSIDER-5", version) == elsewhere
        assert await authorize(office, "BLOCKED-3", version) == "Blocked"
        assert await authorize(office, "EXPIRED-4", version) == "Expired"
        # A remote start is judged by the same rules before anything is sent (ADR 0009).
        refused = await api.post(f"/stations/NIGHT-{v}/start", json={"uid": "EMP-1", "evse_id": 1})
        assert refused.status_code == 409
        assert "outside the access rules' hours" in refused.text
        for action in ("RemoteStartTransaction", "RequestStartTransaction"):
            office.answers[action] = lambda action, payload: {"status": "Accepted"}
        started = await api.post(f"/stations/OFFICE-{v}/start", json={"uid": "EMP-1", "evse_id": 1})
        assert started.status_code == 200, started.text
    finally:
        for st in (office, night, depot):
            await st.close()


async def _session_16(st: TestStation, uid: str, wh: int) -> str:
    start = await st.call(
        "StartTransaction",
        {
            "connectorId": 1,
            "idTag": uid,
            "meterStart": 0,
            "timestamp": datetime.now(UTC).isoformat(),
        },
    )
    status = str(start["idTagInfo"]["status"])
    await st.call(
        "StopTransaction",
        {
            "transactionId": start["transactionId"],
            "meterStop": wh,
            "timestamp": datetime.now(UTC).isoformat(),
            "reason": "Local",
        },
    )
    return status


async def _session_201(st: TestStation, uid: str, wh: int, n: int) -> str:
    now = datetime.now(UTC).isoformat()
    common = {"transactionInfo": {"transactionId": f"tx-{n}"}, "timestamp": now}
    started = await st.call(
        "TransactionEvent",
        {
            **common,
            "eventType": "Started",
            "triggerReason": "Authorized",
            "seqNo": 0,
            "idToken": {"idToken": uid, "type": "ISO14443"},
            "evse": {"id": 1, "connectorId": 1},
            "meterValue": [
                {"timestamp": now, "sampledValue": [{"value": 0, "context": "Transaction.Begin"}]}
            ],
        },
    )
    await st.call(
        "TransactionEvent",
        {
            **common,
            "eventType": "Ended",
            "triggerReason": "EVCommunicationLost",
            "seqNo": 1,
            "meterValue": [
                {"timestamp": now, "sampledValue": [{"value": wh, "context": "Transaction.End"}]}
            ],
        },
    )
    return str(started["idTokenInfo"]["status"])


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_monthly_budget_refuses_the_session_that_would_exceed_it(
    joule: Joule, api: httpx.AsyncClient, version: str
) -> None:
    await world(api)
    st = await station(joule, api, "OFFICE-B", "office", version)
    try:
        if version == "1.6":
            assert await _session_16(st, "EMP-1", 6000) == "Accepted"
            # 6 kWh used of a 5 kWh month: the driver's other card is refused too.
            assert await authorize(st, "EMP-1", version) == "Blocked"
            assert await _session_16(st, "EMP-1", 10) == "Blocked"
        else:
            assert await _session_201(st, "EMP-1", 6000, 1) == "Accepted"
            assert await authorize(st, "EMP-1", version) == "NoCredit"
            assert await _session_201(st, "EMP-1", 10, 2) == "NoCredit"
        # The family card shares the group, not the driver's energy: still within budget.
        assert await authorize(st, "FAMILY-2", version) == "Accepted"
        # The refused session is kept with the precise reason (1.6 only said Blocked).
        sessions = (await api.get("/transactions", params={"station_id": "OFFICE-B"})).json()
        refused = [t for t in sessions["items"] if t["auth_status"] != "Accepted"]
        assert len(refused) == 1
        assert refused[0]["auth_reason"].startswith("monthly energy budget of access group")
    finally:
        await st.close()
