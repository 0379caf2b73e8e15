"""End-to-end fixtures: a real Joule (gateway + core + API) on loopback ports, real clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from joule.config import Settings
from joule.runtime import Joule

ADMIN_EMAIL = "admin@example.test"
ADMIN_PASSWORD = "correct-horse-battery"

MakeJoule = Callable[..., Awaitable[Joule]]


@pytest.fixture
async def make_joule(database_url: str) -> AsyncIterator[MakeJoule]:
    """Start Joule with test settings (overrides as keyword arguments); stopped after the test."""
    started: list[Joule] = []

    async def make(**overrides: Any) -> Joule:
        values: dict[str, Any] = {
            "host": "127.0.0.1",
            "http_port": 0,
            "ocpp_port": 0,
            "database_url": database_url,
            "unknown_stations": "reject",
            "admin_email": ADMIN_EMAIL,
            "admin_password": ADMIN_PASSWORD,
            "jwt_secret": "test-secret-test-secret-test-secret",
            "call_timeout_s": 3.0,
            # No unsolicited local-list CALLs to test stations (tests/e2e/test_local_list.py
            # turns it on): tests here count the frames their stations receive.
            "local_lists_auto": False,
            **overrides,
        }
        joule = Joule(Settings(**values))
        await joule.start()
        started.append(joule)
        return joule

    yield make
    for joule in started:
        if not joule.stopped.is_set():
            await joule.stop()


@pytest.fixture
async def joule(make_joule: MakeJoule) -> Joule:
    """A running Joule with default test settings (unknown stations rejected)."""
    return await make_joule()


def ocpp_url(joule: Joule) -> str:
    """The OCPP endpoint prefix; append /<station id>."""
    return f"ws://127.0.0.1:{joule.ocpp_port}/ocpp"


async def api_client(
    joule: Joule, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD
) -> httpx.AsyncClient:
    """An HTTP client logged in to the real API over loopback."""
    client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{joule.http_port}/api/v1", timeout=15)
    resp = await client.post("/auth/token", data={"username": email, "password": password})
    assert resp.status_code == 200, resp.text
    client.headers["Authorization"] = f"Bearer {resp.json()['access_token']}"
    return client


@pytest.fixture
async def api(joule: Joule) -> AsyncIterator[httpx.AsyncClient]:
    """An admin API client for the default `joule`."""
    client = await api_client(joule)
    yield client
    await client.aclose()
