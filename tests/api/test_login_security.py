"""Login throttling, session expiry, password change and reset (issue 5, OWASP ASVS 2.2 / 3.3).

Per account: five wrong passwords lock the account for 15 minutes (429 + Retry-After, even with
the right password); a successful login resets the count. Per address: after ten failures the
address backs off exponentially, whatever account it tries. The dashboard login shares both.
"""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from fastapi import FastAPI

from joule.api.routes.driver_me import issue_driver_token
from joule.domain.operator.login import LOCK_FOR, MAX_FAILURES
from joule.kit.clock import FixedClock
from tests.api.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, NOW, PASSWORD, SECRET, Login
from tests.api.orgs import make_operator, ok

EMAIL = "user@example.test"


async def token(anon: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await anon.post("/auth/token", data={"username": email, "password": password})


async def test_an_account_locks_after_repeated_failures_and_unlocks_later(
    admin: httpx.AsyncClient, login: Login, anon: httpx.AsyncClient, clock: FixedClock
) -> None:
    await make_operator(admin, login, EMAIL, "operator", None)
    for _ in range(MAX_FAILURES - 1):
        assert (await token(anon, EMAIL, "wrong-password")).status_code == 401
    # A success before the limit resets the count …
    assert (await token(anon, EMAIL, PASSWORD)).status_code == 200
    for _ in range(MAX_FAILURES - 1):
        assert (await token(anon, EMAIL, "wrong-password")).status_code == 401
    # … so only the MAX_FAILURES-th failure in a row locks.
    assert (await token(anon, EMAIL, "wrong-password")).status_code == 401
    locked = await token(anon, EMAIL, PASSWORD)
    assert locked.status_code == 429, locked.text
    assert int(locked.headers["Retry-After"]) == int(LOCK_FOR.total_seconds())
    # Other accounts are not affected.
    assert (await token(anon, ADMIN_EMAIL, ADMIN_PASSWORD)).status_code == 200
    clock.set(NOW + LOCK_FOR - timedelta(seconds=10))
    still = await token(anon, EMAIL, PASSWORD)
    assert still.status_code == 429 and still.headers["Retry-After"] == "10"
    clock.set(NOW + LOCK_FOR)
    assert (await token(anon, EMAIL, PASSWORD)).status_code == 200


async def test_an_address_backs_off_after_many_failures_across_accounts(
    anon: httpx.AsyncClient, clock: FixedClock
) -> None:
    # Spraying: one wrong try per (unknown) account, never enough to lock any of them.
    for n in range(10):
        assert (await token(anon, f"nobody{n}@example.test", "guess")).status_code == 401
    waiting = await token(anon, ADMIN_EMAIL, ADMIN_PASSWORD)
    assert waiting.status_code == 429 and waiting.headers["Retry-After"] == "1"
    clock.set(NOW + timedelta(seconds=1))
    assert (await token(anon, "nobody10@example.test", "guess")).status_code == 401
    doubled = await token(anon, ADMIN_EMAIL, ADMIN_PASSWORD)  # each further failure doubles
    assert doubled.status_code == 429 and doubled.headers["Retry-After"] == "2"
    clock.set(NOW + timedelta(seconds=3))
    # After the wait the right password works and clears the address's record.
    assert (await token(anon, ADMIN_EMAIL, ADMIN_PASSWORD)).status_code == 200
    assert (await token(anon, "nobody@example.test", "guess")).status_code == 401


async def test_the_dashboard_login_is_throttled_too(app: FastAPI, admin: httpx.AsyncClient) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://joule.test"
    ) as browser:

        async def attempt(password: str) -> httpx.Response:
            form = await browser.get("/ui/login")  # every form carries a fresh CSRF token
            csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
            assert csrf is not None
            return await browser.post(
                "/ui/login",
                data={"email": ADMIN_EMAIL, "password": password, "csrf": csrf.group(1)},
            )

        for _ in range(MAX_FAILURES):
            assert (await attempt("wrong-password")).status_code == 401
        locked = await attempt(ADMIN_PASSWORD)
        assert locked.status_code == 429 and "Too many failed logins" in locked.text
        assert locked.headers["Retry-After"] == str(int(LOCK_FOR.total_seconds()))
    # The API shares the lock: it is the account that is locked, not the form.
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://joule.test/api/v1"
    ) as api:
        assert (await token(api, ADMIN_EMAIL, ADMIN_PASSWORD)).status_code == 429


async def test_changing_the_password_ends_older_sessions(
    admin: httpx.AsyncClient, login: Login, anon: httpx.AsyncClient, clock: FixedClock
) -> None:
    user = await make_operator(admin, login, EMAIL, "operator", None)
    other_session = await login(EMAIL, PASSWORD)
    clock.set(NOW + timedelta(seconds=5))
    wrong = await user.post(
        "/auth/password", json={"current_password": "nope-nope", "new_password": "new-password-9"}
    )
    assert wrong.status_code == 422 and "current password" in wrong.text
    short = await user.post(
        "/auth/password", json={"current_password": PASSWORD, "new_password": "short"}
    )
    assert short.status_code == 422
    changed = await ok(
        await user.post(
            "/auth/password",
            json={"current_password": PASSWORD, "new_password": "new-password-9"},
        ),
        200,
    )
    for client in (user, other_session):
        assert (await client.get("/operators/me")).status_code == 401
    fresh = {"Authorization": f"Bearer {changed['access_token']}"}
    assert (await anon.get("/operators/me", headers=fresh)).status_code == 200
    assert (await token(anon, EMAIL, PASSWORD)).status_code == 401
    assert (await token(anon, EMAIL, "new-password-9")).status_code == 200
    audit = (await ok(await admin.get("/audit", params={"object_type": "operator"}), 200))["items"]
    change = next(e for e in audit if e["action"] == "operator.password")
    assert "new-password-9" not in str(audit) and change["changes"] == {"password": "***"}


async def test_deactivation_and_role_changes_apply_at_once(
    admin: httpx.AsyncClient, login: Login
) -> None:
    user = await make_operator(admin, login, EMAIL, "operator", None)
    me = await ok(await user.get("/operators/me"), 200)
    assert (await user.post("/sites", json={"id": "s1", "name": "s"})).status_code == 201
    await ok(await admin.patch(f"/operators/{me['id']}", json={"role": "viewer"}), 200)
    assert (await user.post("/sites", json={"id": "s2", "name": "s"})).status_code == 403
    await ok(await admin.patch(f"/operators/{me['id']}", json={"active": False}), 200)
    assert (await user.get("/operators/me")).status_code == 401
    admin_me = await ok(await admin.get("/operators/me"), 200)
    self_demote = await admin.patch(f"/operators/{admin_me['id']}", json={"role": "viewer"})
    assert self_demote.status_code == 422


async def test_an_admin_issues_a_reset_token_that_works_once(
    admin: httpx.AsyncClient, login: Login, anon: httpx.AsyncClient, clock: FixedClock
) -> None:
    user = await make_operator(admin, login, EMAIL, "operator", None)
    issued = await ok(await admin.post("/auth/password-reset", json={"email": EMAIL}), 202)
    assert issued["token"] and issued["expires_at"] == "2026-11-28T10:00:00Z"
    clock.set(NOW + timedelta(seconds=1))
    body = {"token": issued["token"], "new_password": "reset-password-1"}
    await ok(await anon.post("/auth/password-reset/confirm", json=body), 204)
    again = await anon.post("/auth/password-reset/confirm", json=body)
    assert again.status_code == 422 and "invalid, used or expired" in again.text
    assert (await user.get("/operators/me")).status_code == 401  # older session ended
    assert (await token(anon, EMAIL, "reset-password-1")).status_code == 200
    # Expired tokens are refused.
    late = await ok(await admin.post("/auth/password-reset", json={"email": EMAIL}), 202)
    clock.set(NOW + timedelta(hours=2))
    resp = await anon.post(
        "/auth/password-reset/confirm", json={"token": late["token"], "new_password": "x" * 12}
    )
    assert resp.status_code == 422


async def test_reset_requests_reveal_nothing_and_need_mail_or_an_admin(
    admin: httpx.AsyncClient, login: Login, anon: httpx.AsyncClient
) -> None:
    # Without SMTP a self-service request cannot reach its owner: a clear 503, for any address.
    for email in (ADMIN_EMAIL, "nobody@example.test"):
        resp = await anon.post("/auth/password-reset", json={"email": email})
        assert resp.status_code == 503 and "SMTP" in resp.text
    await ok(await admin.post("/organisations", json={"id": "o1", "name": "o1"}))
    await ok(await admin.post("/organisations", json={"id": "o2", "name": "o2"}))
    admin_1 = await make_operator(admin, login, "a1@example.test", "admin", "o1")
    await make_operator(admin, login, "u2@example.test", "operator", "o2")
    outside = await admin_1.post("/auth/password-reset", json={"email": "u2@example.test"})
    assert outside.status_code == 404  # another organisation's operator does not exist for it
    viewer = await make_operator(admin, login, "v@example.test", "viewer", None)
    assert (await viewer.post("/auth/password-reset", json={"email": EMAIL})).status_code == 503


async def test_a_driver_token_never_opens_operator_endpoints(
    admin: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    me = await ok(await admin.get("/operators/me"), 200)
    # A driver whose id equals the admin's id: the audience, not the number, keeps them apart.
    driver_token = issue_driver_token(driver_id=me["id"], secret=SECRET, now=NOW, ttl_s=3600)
    resp = await anon.get("/operators/me", headers={"Authorization": f"Bearer {driver_token}"})
    assert resp.status_code == 401
