"""The driver portal's pages over real HTTP against a real Joule: login with CSRF, my cards and
sessions, blocking a card (CSRF- and origin-checked), and its separation from the dashboard."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from joule.runtime import Joule
from tests.api.test_driver_me import DRIVER_PASSWORD, add_driver
from tests.e2e.test_commands import booted
from tests.web.conftest import base_url, csrf_of


@pytest.fixture
async def browser(joule: Joule) -> AsyncIterator[httpx.AsyncClient]:
    """A cookie-keeping client, as a browser would be."""
    client = httpx.AsyncClient(
        base_url=base_url(joule), timeout=15, headers={"Accept": "text/html"}
    )
    yield client
    await client.aclose()


async def portal_login(
    client: httpx.AsyncClient, email: str, password: str = DRIVER_PASSWORD
) -> httpx.Response:
    form = await client.get("/driver")
    assert form.status_code == 200
    assert 'action="/driver/login"' in form.text
    return await client.post(
        "/driver/login", data={"email": email, "password": password, "csrf": csrf_of(form.text)}
    )


async def test_a_driver_logs_in_sees_their_cards_and_blocks_one(
    joule: Joule, api: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    assert joule.committer is not None
    await add_driver(joule.committer, "kim@example.test", ["KIM-1", "KIM-2"])
    await add_driver(joule.committer, "lou@example.test", ["LOU-1"])
    st = await booted(joule, api, "DP-1", "1.6")

    wrong = await portal_login(browser, "kim@example.test", "not-the-password")
    assert wrong.status_code == 401
    assert "Wrong e-mail or password." in wrong.text
    resp = await portal_login(browser, "kim@example.test")
    assert resp.status_code == 303 and resp.headers["location"] == "/driver"
    home = await browser.get("/driver")
    assert home.status_code == 200
    assert 'data-token="KIM-1"' in home.text and 'data-token="KIM-2"' in home.text
    assert "LOU-1" not in home.text
    assert home.headers["cache-control"] == "no-store"
    csrf = csrf_of(home.text)

    # Without the CSRF token, with a wrong one, or from another origin: refused, nothing blocked.
    assert (await browser.post("/driver/tokens/KIM-1/block", data={})).status_code == 403
    bad = await browser.post("/driver/tokens/KIM-1/block", data={"csrf": csrf[::-1]})
    assert bad.status_code == 403
    foreign = await browser.post(
        "/driver/tokens/KIM-1/block",
        data={"csrf": csrf},
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403
    ok = await st.call("Authorize", {"idTag": "KIM-1"})
    assert ok["idTagInfo"]["status"] == "Accepted"

    # Another driver's card is as unknown as a missing one.
    assert (
        await browser.post("/driver/tokens/LOU-1/block", data={"csrf": csrf})
    ).status_code == 404
    blocked = await browser.post("/driver/tokens/KIM-1/block", data={"csrf": csrf})
    assert blocked.status_code == 303
    page = await browser.get(blocked.headers["location"])
    assert "Card KIM-1 is blocked." in page.text
    refused = await st.call("Authorize", {"idTag": "KIM-1"})
    assert refused["idTagInfo"]["status"] == "Blocked"
    assert (await st.call("Authorize", {"idTag": "LOU-1"}))["idTagInfo"]["status"] == "Accepted"
    # The query string cannot put another card's name on the page.
    spoof = await browser.get("/driver", params={"blocked": "LOU-1"})
    assert "is blocked." not in spoof.text

    # Logging out needs the CSRF token too; afterwards the page is the login form again.
    assert (await browser.post("/driver/logout", data={})).status_code == 403
    out = await browser.post("/driver/logout", data={"csrf": csrf})
    assert out.status_code == 303
    assert 'action="/driver/login"' in (await browser.get("/driver")).text
    await st.close()


async def test_portal_login_needs_its_csrf_cookie_and_stays_apart_from_the_dashboard(
    joule: Joule, browser: httpx.AsyncClient
) -> None:
    assert joule.committer is not None
    await add_driver(joule.committer, "max@example.test", ["MAX-1"])
    form = await browser.get("/driver")
    token = csrf_of(form.text)
    # A forged login form (no matching double-submit cookie) is refused.
    browser.cookies.clear()
    forged = await browser.post(
        "/driver/login",
        data={"email": "max@example.test", "password": DRIVER_PASSWORD, "csrf": token},
    )
    assert forged.status_code == 403
    assert (await portal_login(browser, "max@example.test")).status_code == 303
    # The driver's cookie opens no operator page or API: the dashboard asks for its own login.
    dash = await browser.get("/ui/")
    assert dash.status_code == 303 and dash.headers["location"].startswith("/ui/login")
    driver_cookie = browser.cookies.get("joule_driver")
    assert driver_cookie
    api = await browser.get("/api/v1/tokens", headers={"Authorization": f"Bearer {driver_cookie}"})
    assert api.status_code == 401
    me = await browser.get("/api/v1/me", headers={"Authorization": f"Bearer {driver_cookie}"})
    assert me.status_code == 200 and me.json()["email"] == "max@example.test"

    # Five wrong passwords lock the account: the form says so, 429 with Retry-After.
    browser.cookies.clear()
    for _ in range(5):
        assert (
            await portal_login(browser, "max@example.test", "wrong-password")
        ).status_code == 401
    locked = await portal_login(browser, "max@example.test")
    assert locked.status_code == 429
    assert "Too many failed logins." in locked.text
    assert int(locked.headers["retry-after"]) > 14 * 60
