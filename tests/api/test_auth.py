"""Auth: OAuth2 password login, bearer tokens, 401 for anything not a valid token (scenario 39a)."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import httpx
import jwt
from jwt.types import Options

from joule.api.security import issue_token
from joule.kit.clock import FixedClock
from tests.api.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, NOW, SECRET

# The tests' clock is not the machine's: read claims without checking times against it.
UNTIMED: Options = {"verify_exp": False, "verify_iat": False}


async def test_health_needs_no_auth(anon: httpx.AsyncClient) -> None:
    resp = await anon.get("/health")
    assert resp.status_code == 200
    assert resp.json()["status"] == "ok"
    assert resp.json()["version"]


async def test_openapi_and_docs_are_served(anon: httpx.AsyncClient) -> None:
    resp = await anon.get("/openapi.json")
    assert resp.status_code == 200
    assert "/api/v1/stations/{station_id}/ocpp/{action}" in resp.json()["paths"]
    docs = await anon.get("http://joule.test/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


async def test_login_returns_a_bearer_token(anon: httpx.AsyncClient) -> None:
    resp = await anon.post(
        "/auth/token", data={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    assert resp.status_code == 200
    body = resp.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    claims = jwt.decode(body["access_token"], SECRET, algorithms=["HS256"], options=UNTIMED)
    assert claims["role"] == "admin"
    assert claims["exp"] - claims["iat"] == 3600
    me = await anon.get(
        "/operators/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 200 and me.json()["email"] == ADMIN_EMAIL
    assert str(me.json()["id"]) == claims["sub"]


async def test_login_ignores_email_case(anon: httpx.AsyncClient) -> None:
    resp = await anon.post(
        "/auth/token", data={"username": ADMIN_EMAIL.upper(), "password": ADMIN_PASSWORD}
    )
    assert resp.status_code == 200


async def test_wrong_password_and_unknown_email_are_the_same_401(anon: httpx.AsyncClient) -> None:
    wrong = await anon.post("/auth/token", data={"username": ADMIN_EMAIL, "password": "nope-nope"})
    unknown = await anon.post(
        "/auth/token", data={"username": "who@example.test", "password": ADMIN_PASSWORD}
    )
    garbage = await anon.post("/auth/token", data={"username": "not an email", "password": "x"})
    for resp in (wrong, unknown, garbage):
        assert resp.status_code == 401
        assert resp.headers["www-authenticate"] == "Bearer"
    assert wrong.json() == unknown.json()


async def test_login_needs_the_form_fields(anon: httpx.AsyncClient) -> None:
    resp = await anon.post("/auth/token", data={"username": ADMIN_EMAIL})
    assert resp.status_code == 422


def _unsigned(claims: dict[str, object]) -> str:
    def part(obj: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


async def test_bad_tokens_are_401_with_www_authenticate(anon: httpx.AsyncClient) -> None:
    good, _ = issue_token(operator_id=1, role="admin", secret=SECRET, now=NOW, ttl_s=600)
    valid_claims = jwt.decode(good, SECRET, algorithms=["HS256"], options=UNTIMED)
    forged, _ = issue_token(operator_id=1, role="admin", secret="x" * 48, now=NOW, ttl_s=600)
    expired, _ = issue_token(
        operator_id=1, role="admin", secret=SECRET, now=NOW - timedelta(hours=2), ttl_s=600
    )
    other_issuer = jwt.encode({**valid_claims, "iss": "someone-else"}, SECRET, algorithm="HS256")
    no_exp = jwt.encode(
        {k: v for k, v in valid_claims.items() if k != "exp"}, SECRET, algorithm="HS256"
    )
    hs512 = jwt.encode(valid_claims, SECRET, algorithm="HS512")
    ghost, _ = issue_token(operator_id=999, role="admin", secret=SECRET, now=NOW, ttl_s=600)
    cases = {
        "missing": {},
        "not bearer": {"Authorization": f"Basic {base64.b64encode(b'a:b').decode()}"},
        "garbage": {"Authorization": "Bearer not-a-jwt"},
        "alg none": {"Authorization": f"Bearer {_unsigned(valid_claims)}"},
        "forged": {"Authorization": f"Bearer {forged}"},
        "expired": {"Authorization": f"Bearer {expired}"},
        "other issuer": {"Authorization": f"Bearer {other_issuer}"},
        "no exp": {"Authorization": f"Bearer {no_exp}"},
        "other algorithm": {"Authorization": f"Bearer {hs512}"},
        "unknown operator": {"Authorization": f"Bearer {ghost}"},
    }
    for name, headers in cases.items():
        for method, path in (("GET", "/stations"), ("POST", "/tokens"), ("GET", "/operators/me")):
            resp = await anon.request(method, path, headers=headers, json={"uid": "X"})
            assert resp.status_code == 401, (name, path, resp.text)
            assert resp.headers["www-authenticate"] == "Bearer", name
    ok = await anon.get("/stations", headers={"Authorization": f"Bearer {good}"})
    assert ok.status_code == 200


async def test_token_expires_by_the_clock(admin: httpx.AsyncClient, clock: FixedClock) -> None:
    assert (await admin.get("/operators/me")).status_code == 200
    clock.set(NOW + timedelta(seconds=3599))
    assert (await admin.get("/operators/me")).status_code == 200
    clock.set(NOW + timedelta(seconds=3600))
    resp = await admin.get("/operators/me")
    assert resp.status_code == 401
    assert resp.headers["www-authenticate"] == "Bearer"


async def test_role_is_read_from_the_database_not_the_token(
    viewer: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    me = (await viewer.get("/operators/me")).json()
    # A token claiming "admin" for the viewer, correctly signed, does not make it an admin.
    token, _ = issue_token(operator_id=me["id"], role="admin", secret=SECRET, now=NOW, ttl_s=600)
    resp = await anon.get("/operators", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 403
