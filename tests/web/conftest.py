"""Dashboard fixtures: the e2e ones (a real Joule on loopback) and a logged-in web client."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from joule.runtime import Joule
from tests.e2e import conftest as e2e
from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

# The e2e fixtures, shared: a real Joule (gateway + core + API + dashboard) and an API client.
make_joule = e2e.make_joule
joule = e2e.joule
api = e2e.api

CSRF_INPUT = re.compile(r'name="csrf" value="([^"]+)"')


def base_url(server: Joule) -> str:
    """The dashboard's origin."""
    return f"http://127.0.0.1:{server.http_port}"


def csrf_of(html: str) -> str:
    """The CSRF token a page embeds in its forms."""
    found = CSRF_INPUT.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


async def web_login(
    server: Joule, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD
) -> httpx.AsyncClient:
    """A client holding a dashboard session cookie, logged in through the login form."""
    client = httpx.AsyncClient(
        base_url=base_url(server), timeout=15, headers={"Accept": "text/html"}
    )
    form = await client.get("/ui/login")
    assert form.status_code == 200
    resp = await client.post(
        "/ui/login",
        data={"email": email, "password": password, "csrf": csrf_of(form.text), "next": "/ui/"},
    )
    assert resp.status_code == 303, resp.text
    return client


@pytest.fixture
async def web(joule: Joule) -> AsyncIterator[httpx.AsyncClient]:
    """An admin's dashboard client for the default `joule`."""
    client = await web_login(joule)
    yield client
    await client.aclose()
