"""Driver self-service over the API: driver login apart from operators, my tokens and sessions,
blocking a lost card (audited, AccessChanged published, the station then refused), throttling."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from joule.domain.driver_portal import service as portal
from joule.domain.events import AccessChanged
from joule.kit.clock import FixedClock
from joule.ocpp.versions import OcppVersion
from joule.storage.committer import GroupCommitter
from joule.storage.models import AuditEntry, Driver, IdToken
from joule.storage.uow import UnitOfWork
from tests.api.conftest import NOW, add_station, station_says

V16 = OcppVersion.V16
DRIVER_PASSWORD = "driver-password-1"
PUBLISHED: list[object] = []
ONE_S = timedelta(seconds=1)


@pytest.fixture
async def committer(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[GroupCommitter]:
    """The shared committer, keeping the events it would publish after each commit."""
    PUBLISHED.clear()

    async def published(events: list[object]) -> None:
        PUBLISHED.extend(events)

    committer = GroupCommitter(sessions, on_committed=published)
    await committer.start()
    try:
        yield committer
    finally:
        await committer.stop(timeout=10)


async def add_driver(
    committer: GroupCommitter,
    email: str,
    uids: list[str],
    *,
    password: str | None = DRIVER_PASSWORD,
    status: str = "Active",
) -> int:
    """A driver with a portal password and Accepted tokens, as an operator would set them up."""

    async def work(uow: UnitOfWork) -> int:
        driver = Driver(name=email.split("@")[0], email=email, status=status, created_at=NOW)
        uow.session.add(driver)
        await uow.session.flush()
        for uid in uids:
            uow.session.add(IdToken(uid=uid, driver_id=driver.id, created_at=NOW))
        if password is not None:
            await portal.set_password(uow.session, driver.id, password, now=NOW)
        return driver.id

    return await committer.run(work)


@pytest.fixture
async def driver_login(app: FastAPI) -> AsyncIterator[Any]:
    """Log a driver in: a client carrying the driver's bearer token."""
    clients: list[httpx.AsyncClient] = []

    async def log_in(email: str, password: str = DRIVER_PASSWORD) -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://joule.test/api/v1"
        )
        clients.append(client)
        resp = await client.post(
            "/driver/auth/token", data={"username": email, "password": password}
        )
        assert resp.status_code == 200, resp.text
        client.headers["Authorization"] = f"Bearer {resp.json()['access_token']}"
        return client

    yield log_in
    for client in clients:
        await client.aclose()


async def test_a_driver_sees_only_their_own_tokens_and_sessions(
    committer: GroupCommitter, admin: httpx.AsyncClient, driver_login: Any
) -> None:
    await add_driver(committer, "ana@example.test", ["ANA-1", "ana-2"])
    await add_driver(committer, "ben@example.test", ["BEN-1"])
    await add_station(admin, "CS-ME")
    # Ana's card presented in another letter case still counts as hers (1.6 CiString).
    for tag, wh in (("ana-1", 1000), ("BEN-1", 5000)):
        start = await station_says(
            committer,
            "CS-ME",
            V16,
            "StartTransaction",
            {"connectorId": 1, "idTag": tag, "meterStart": wh, "timestamp": "2026-11-28T08:00:00Z"},
        )
        await station_says(
            committer,
            "CS-ME",
            V16,
            "StopTransaction",
            {
                "transactionId": start["transactionId"],
                "meterStop": wh + 7250,
                "timestamp": "2026-11-28T08:30:00Z",
            },
        )
    ana = await driver_login("ANA@example.test")  # e-mail compared without letter case

    me = await ana.get("/me")
    assert me.status_code == 200
    assert me.json()["email"] == "ana@example.test"
    assert me.json()["status"] == "Active"
    tokens = (await ana.get("/me/tokens")).json()
    assert [t["uid"] for t in tokens] == ["ANA-1", "ana-2"]
    assert {t["status"] for t in tokens} == {"Accepted"}
    sessions = (await ana.get("/me/sessions")).json()
    assert sessions["total"] == 1
    [tx] = sessions["items"]
    assert (tx["id_token"], tx["energy_wh"], tx["energy_wh_exact"]) == ("ANA-1", 7250, "7250")


async def test_driver_and_operator_tokens_never_open_each_others_endpoints(
    committer: GroupCommitter, admin: httpx.AsyncClient, anon: httpx.AsyncClient, driver_login: Any
) -> None:
    await add_driver(committer, "cy@example.test", ["CY-1"])
    driver = await driver_login("cy@example.test")
    driver_bearer = driver.headers["Authorization"]
    operator_bearer = admin.headers["Authorization"]
    # A driver token on operator endpoints: 401, whatever the driver's id happens to match.
    for path in ("/tokens", "/stations", "/operators", "/transactions"):
        resp = await anon.get(path, headers={"Authorization": driver_bearer})
        assert resp.status_code == 401, (path, resp.text)
    # An operator token on driver endpoints: 401 too.
    for path in ("/me", "/me/tokens", "/me/sessions"):
        resp = await anon.get(path, headers={"Authorization": operator_bearer})
        assert resp.status_code == 401, (path, resp.text)
    resp = await anon.post("/me/tokens/CY-1/block", headers={"Authorization": operator_bearer})
    assert resp.status_code == 401
    assert (await anon.get("/me")).status_code == 401
    assert (await anon.get("/me", headers={"Authorization": "Bearer junk"})).status_code == 401
    # Operator credentials do not log in as a driver either.
    resp = await anon.post(
        "/driver/auth/token",
        data={"username": "admin@example.test", "password": "admin-password-1"},
    )
    assert resp.status_code == 401


async def test_blocking_a_lost_card_is_audited_published_and_refused_at_the_station(
    committer: GroupCommitter,
    admin: httpx.AsyncClient,
    driver_login: Any,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await add_driver(committer, "dee@example.test", ["DEE-1", "DEE-2"])
    await add_driver(committer, "eve@example.test", ["EVE-1"])
    await add_station(admin, "CS-LOST")
    dee = await driver_login("dee@example.test")
    before = await station_says(committer, "CS-LOST", V16, "Authorize", {"idTag": "DEE-1"})
    assert before["idTagInfo"]["status"] == "Accepted"
    PUBLISHED.clear()

    resp = await dee.post("/me/tokens/dee-1/block")
    assert resp.status_code == 200, resp.text
    assert resp.json()["uid"] == "DEE-1"
    assert resp.json()["status"] == "Blocked"
    changed = [e for e in PUBLISHED if isinstance(e, AccessChanged)]
    assert len(changed) == 1 and "DEE-1" in changed[0].reason
    after = await station_says(committer, "CS-LOST", V16, "Authorize", {"idTag": "DEE-1"})
    assert after["idTagInfo"]["status"] == "Blocked"
    other = await station_says(committer, "CS-LOST", V16, "Authorize", {"idTag": "DEE-2"})
    assert other["idTagInfo"]["status"] == "Accepted"
    async with sessions() as session:
        [entry] = (
            await session.scalars(select(AuditEntry).where(AuditEntry.object_id == "DEE-1"))
        ).all()
    assert (entry.actor, entry.actor_type, entry.action) == (
        "dee@example.test",
        "driver",
        "token.block",
    )
    assert entry.changes["status"] == ["Accepted", "Blocked"]

    # Blocking again changes nothing and records nothing more.
    PUBLISHED.clear()
    again = await dee.post("/me/tokens/DEE-1/block")
    assert again.status_code == 200 and again.json()["status"] == "Blocked"
    assert not [e for e in PUBLISHED if isinstance(e, AccessChanged)]
    # Somebody else's card and an unknown one are alike: 404, and Eve's card stays Accepted.
    for uid in ("EVE-1", "NOPE"):
        resp = await dee.post(f"/me/tokens/{uid}/block")
        assert resp.status_code == 404, resp.text
    eve = await station_says(committer, "CS-LOST", V16, "Authorize", {"idTag": "EVE-1"})
    assert eve["idTagInfo"]["status"] == "Accepted"
    assert [t["status"] for t in (await dee.get("/me/tokens")).json()] == ["Blocked", "Accepted"]


async def test_driver_logins_are_throttled_and_locked_accounts_stay_out(
    committer: GroupCommitter, anon: httpx.AsyncClient, clock: FixedClock
) -> None:
    await add_driver(committer, "fay@example.test", ["FAY-1"])
    await add_driver(committer, "gil@example.test", ["GIL-1"], status="Blocked")
    await add_driver(committer, "hal@example.test", ["HAL-1"], password=None)

    async def attempt(email: str, password: str) -> int:
        resp = await anon.post("/driver/auth/token", data={"username": email, "password": password})
        if resp.status_code == 401:
            assert resp.json()["detail"] == "wrong e-mail or password"  # one message for all
        return resp.status_code

    for _ in range(4):
        assert await attempt("fay@example.test", "wrong-password") == 401
    assert await attempt("fay@example.test", DRIVER_PASSWORD) == 200  # success resets the count
    for _ in range(5):
        assert await attempt("fay@example.test", "wrong-password") == 401
    # Locked: even the right password is refused, 429 with Retry-After, for fifteen minutes.
    locked = await anon.post(
        "/driver/auth/token", data={"username": "fay@example.test", "password": DRIVER_PASSWORD}
    )
    assert locked.status_code == 429
    assert locked.headers["retry-after"] == str(15 * 60)
    clock.set(NOW + timedelta(minutes=14))
    assert await attempt("fay@example.test", DRIVER_PASSWORD) == 429
    clock.set(NOW + timedelta(minutes=16))
    assert await attempt("fay@example.test", DRIVER_PASSWORD) == 200
    # A driver the operator blocked, or one without a portal password, cannot log in.
    assert await attempt("gil@example.test", DRIVER_PASSWORD) == 401
    assert await attempt("hal@example.test", DRIVER_PASSWORD) == 401
    assert await attempt("nobody@example.test", DRIVER_PASSWORD) == 401
    assert await attempt("not an e-mail", DRIVER_PASSWORD) == 401


async def test_failed_driver_logins_slow_the_address_down_like_operators(
    committer: GroupCommitter, anon: httpx.AsyncClient
) -> None:
    for n in range(3):
        await add_driver(committer, f"spray{n}@example.test", [f"SPRAY-{n}"])
    # Password spraying over many accounts: no account locks, but the address must wait.
    codes = [
        (
            await anon.post(
                "/driver/auth/token",
                data={"username": f"spray{n % 3}@example.test", "password": f"guess-{n}"},
            )
        ).status_code
        for n in range(12)
    ]
    assert codes[:10] == [401] * 10
    assert 429 in codes[10:]


async def test_a_driver_token_expires_and_a_blocked_driver_is_out_at_once(
    committer: GroupCommitter, driver_login: Any, clock: FixedClock
) -> None:
    driver_id = await add_driver(committer, "ida@example.test", ["IDA-1"])
    jon_id = await add_driver(committer, "jon@example.test", ["JON-1"])
    ida = await driver_login("ida@example.test")
    jon = await driver_login("jon@example.test")
    assert (await ida.get("/me")).status_code == 200

    async def block(uow: UnitOfWork) -> None:
        driver = await uow.session.get(Driver, driver_id)
        assert driver is not None
        driver.status = "Blocked"

    await committer.run(block)
    assert (await ida.get("/me")).status_code == 401  # the driver is read on every request
    assert (await jon.get("/me")).status_code == 200

    # A new password ends the sessions issued before it; a fresh login works.
    async def new_password(uow: UnitOfWork) -> None:
        await portal.set_password(uow.session, jon_id, "another-password-2", now=NOW + ONE_S)

    await committer.run(new_password)
    assert (await jon.get("/me")).status_code == 401
    clock.set(NOW + 2 * ONE_S)
    jon = await driver_login("jon@example.test", "another-password-2")
    assert (await jon.get("/me")).status_code == 200
    clock.set(NOW + timedelta(seconds=3602))  # jwt_ttl_s of the API tests
    assert (await jon.get("/me/tokens")).status_code == 401
