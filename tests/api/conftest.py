"""API fixtures: the real app over ASGI on the real test database, logged-in clients per role.

The CommandSender is the real gateway with no station connected (it is not listening): every
command that passes validation meets an offline station, as it would on a node holding none.
Station-answering commands are covered end to end in tests/e2e.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from joule.api.app import create_app
from joule.api.deps import ApiServices
from joule.bus.envelopes import StationCall
from joule.bus.memory import MemoryBus
from joule.config import Settings
from joule.domain.activity import ActivityRecorder
from joule.domain.dispatcher import Dispatcher
from joule.domain.operator import service as operators
from joule.domain.station import service as station_service
from joule.gateway.server import Gateway
from joule.kit.clock import FixedClock
from joule.ocpp.versions import OcppVersion
from joule.runtime import StationDirectoryAdapter
from joule.storage.committer import GroupCommitter
from joule.storage.uow import UnitOfWork

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
SECRET = "api-tests-secret-long-enough-for-hs256-and-for-the-hs512-forgery-case"
ADMIN_EMAIL = "admin@example.test"
ADMIN_PASSWORD = "admin-password-1"
PASSWORD = "operator-password-1"
STATION_PASSWORD = "station-password-16"

Login = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
def clock() -> FixedClock:
    """The API's clock, movable by tests (token expiry)."""
    return FixedClock(NOW)


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings for the app under test."""
    return Settings(database_url=database_url, jwt_ttl_s=3600, call_timeout_s=2.0)


@pytest.fixture
def gateway(settings: Settings, committer: GroupCommitter, clock: FixedClock) -> Gateway:
    """The real CommandSender, holding no station."""
    return Gateway(
        settings,
        directory=StationDirectoryAdapter(committer, clock, "api-tests"),
        sink=MemoryBus(),
        observer=ActivityRecorder(
            committer, clock, touch_last_seen=station_service.touch_last_seen, log_limit=100
        ),
    )


@pytest.fixture
async def app(
    committer: GroupCommitter, gateway: Gateway, settings: Settings, clock: FixedClock
) -> FastAPI:
    """The API with the first admin in place (as the runtime creates it at start)."""

    async def first_admin(uow: UnitOfWork) -> None:
        await operators.ensure_admin(uow.session, ADMIN_EMAIL, ADMIN_PASSWORD, NOW)

    await committer.run(first_admin)
    return create_app(
        ApiServices(
            committer=committer, commands=gateway, settings=settings, clock=clock, jwt_secret=SECRET
        )
    )


@pytest.fixture
async def anon(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client without credentials."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://joule.test/api/v1") as c:
        yield c


@pytest.fixture
async def login(app: FastAPI) -> AsyncIterator[Login]:
    """Log in as someone: returns a client carrying their bearer token."""
    clients: list[httpx.AsyncClient] = []

    async def log_in(email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app)
        client = httpx.AsyncClient(transport=transport, base_url="http://joule.test/api/v1")
        clients.append(client)
        resp = await client.post("/auth/token", data={"username": email, "password": password})
        assert resp.status_code == 200, resp.text
        client.headers["Authorization"] = f"Bearer {resp.json()['access_token']}"
        return client

    yield log_in
    for client in clients:
        await client.aclose()


@pytest.fixture
async def admin(login: Login) -> httpx.AsyncClient:
    """The first admin."""
    return await login()


async def _with_role(admin: httpx.AsyncClient, login: Login, role: str) -> httpx.AsyncClient:
    email = f"{role}@example.test"
    resp = await admin.post("/operators", json={"email": email, "password": PASSWORD, "role": role})
    assert resp.status_code == 201, resp.text
    return await login(email, PASSWORD)


@pytest.fixture
async def operator(admin: httpx.AsyncClient, login: Login) -> httpx.AsyncClient:
    """An operator (may change things and send commands)."""
    return await _with_role(admin, login, "operator")


@pytest.fixture
async def viewer(admin: httpx.AsyncClient, login: Login) -> httpx.AsyncClient:
    """A viewer (may only read)."""
    return await _with_role(admin, login, "viewer")


async def add_station(client: httpx.AsyncClient, station_id: str, **fields: Any) -> dict[str, Any]:
    """Register a station through the API."""
    resp = await client.post("/stations", json={"id": station_id, **fields})
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def seen_connected(
    committer: GroupCommitter, station_id: str, version: OcppVersion, *, online: bool
) -> None:
    """Record that the station connected with this version (and, unless online, left again)."""

    async def work(uow: UnitOfWork) -> None:
        await station_service.mark_connected(
            uow.session,
            station_id=station_id,
            ocpp_version=version.value,
            node="api-tests",
            security_profile=0,
            at=NOW,
        )
        if not online:
            await station_service.mark_disconnected(uow.session, station_id=station_id, at=NOW)

    await committer.run(work)


async def station_says(
    committer: GroupCommitter,
    station_id: str,
    version: OcppVersion,
    action: str,
    payload: dict[str, Any],
    *,
    at: datetime = NOW,
) -> dict[str, Any]:
    """Hand a station's CALL to the real dispatcher and handlers; return the CALLRESULT."""
    call = StationCall(
        station_id=station_id,
        version=version,
        message_id=f"{action}-{at.timestamp()}",
        action=action,
        payload=payload,
        received_at=at,
    )
    return await Dispatcher(committer, FixedClock(at))(call)
