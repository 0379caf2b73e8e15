"""Scenarios 30 and 31: unknown stations and bad credentials, over ws:// and wss:// (SP1, SP2).

Also the shared helpers of the security e2e tests: a TLS-enabled Joule and the audit table.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from websockets.exceptions import InvalidStatus

from joule.runtime import Joule
from joule.storage.db import create_engine, session_factory
from joule.storage.models import ConnectionAudit
from tests.e2e.conftest import MakeJoule, api_client, ocpp_url
from tests.e2e.station import TestStation
from tests.e2e.test_charging_session import PASSWORD, add_station, eventually, station_view
from tests.gateway.pki import TestPki

WRONG = "wrong-password-0000"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    """The test PKI: CSO root, CSMS server certificate, station certificates on demand."""
    return TestPki(tmp_path_factory.mktemp("pki"))


async def tls_joule(make_joule: MakeJoule, pki: TestPki, **overrides: Any) -> Joule:
    """Joule with the wss:// listener on a free port, trusting the test root for SP3."""
    return await make_joule(
        ocpp_tls_port=0,
        tls_cert_file=pki.server.cert,
        tls_key_file=pki.server.key,
        tls_client_ca_file=pki.ca,
        **overrides,
    )


def wss_url(joule: Joule) -> str:
    """The wss:// OCPP endpoint prefix; append /<station id>."""
    assert joule.gateway is not None
    return f"wss://127.0.0.1:{joule.gateway.ports['wss']}/ocpp"


async def add_profiled_station(
    api: httpx.AsyncClient, station_id: str, profile: int, password: str | None = PASSWORD
) -> None:
    """Register a station with an explicit security profile."""
    body: dict[str, Any] = {"id": station_id, "security_profile": profile}
    if password is not None:
        body["password"] = password
    resp = await api.post("/stations", json=body)
    assert resp.status_code == 201, resp.text


async def audit_rows(database_url: str) -> list[ConnectionAudit]:
    """Every connection_audit row, oldest first, read straight from Joule's database."""
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            rows = await session.scalars(select(ConnectionAudit).order_by(ConnectionAudit.id))
            return list(rows.all())
    finally:
        await engine.dispose()


async def audited(database_url: str, predicate: Any, count: int = 1) -> list[ConnectionAudit]:
    """Wait until `count` audit rows match (the gateway audits off the upgrade's critical path)."""

    async def matching() -> list[ConnectionAudit]:
        rows = [row for row in await audit_rows(database_url) if predicate(row)]
        return rows if len(rows) >= count else []

    found: list[ConnectionAudit] = await eventually(matching)
    return found


def server_log_text(caplog: pytest.LogCaptureFixture) -> str:
    """Everything Joule logged (the test's own WebSocket and HTTP clients excluded)."""
    clients = ("websockets.client", "httpx", "httpcore")
    return "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''}"
        for r in caplog.records
        if not r.name.startswith(clients)
    )


def status_of(exc: InvalidStatus) -> int:
    return int(exc.response.status_code)


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


# -- scenario 30 -----------------------------------------------------------------------------


async def test_s30_unknown_station_404_and_audited(
    make_joule: MakeJoule, pki: TestPki, database_url: str
) -> None:
    joule = await tls_joule(make_joule, pki)  # unknown_stations=reject (the e2e default)
    for url, ctx in ((ocpp_url(joule), None), (wss_url(joule), pki.client_context())):
        with pytest.raises(InvalidStatus) as info:
            await TestStation.connect(url, "NOPE", password=PASSWORD, ssl=ctx)
        assert status_of(info.value) == 404  # J16 §3.2: refused before the upgrade
    rows = await audited(database_url, lambda r: r.station_id == "NOPE", count=2)
    assert len(rows) == 2
    for row in rows:
        assert row.outcome == "refused" and row.reason == "unknown station"
        assert row.remote == "127.0.0.1" and row.at is not None
    # Nothing was registered on the way.
    api = await api_client(joule)
    assert (await api.get("/stations/NOPE")).status_code == 404
    await api.aclose()


# -- scenario 31 -----------------------------------------------------------------------------

BAD_HEADERS = {
    "wrong password": basic("AUTH-SP2", WRONG),
    "username is not the station id": basic("SOMEONE", PASSWORD),
    "no Authorization header": {},
    "Bearer scheme": {"Authorization": f"Bearer {PASSWORD}"},
    "password with a trailing space": basic("AUTH-SP2", PASSWORD + " "),
    "not base64": {"Authorization": "Basic !!!notbase64"},
}


@pytest.mark.parametrize("version", ["ocpp1.6", "ocpp2.0.1"])
async def test_s31_sp2_bad_credentials_over_tls_are_401(
    make_joule: MakeJoule,
    pki: TestPki,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
    version: str,
) -> None:
    caplog.set_level(logging.DEBUG)  # the worst case: an operator debugging the gateway
    joule = await tls_joule(make_joule, pki, auth_failures_before_throttle=100)
    api = await api_client(joule)
    await add_profiled_station(api, "AUTH-SP2", 2)
    for what, headers in BAD_HEADERS.items():
        with pytest.raises(InvalidStatus) as info:
            await TestStation.connect(
                wss_url(joule),
                "AUTH-SP2",
                subprotocols=[version],
                headers=headers,
                ssl=pki.client_context(),
            )
        assert status_of(info.value) == 401, what  # OCTT TC_A_02/03_CSMS; A00.FR.204/207
        assert "Basic" in (info.value.response.headers.get("WWW-Authenticate") or "")
    # The right password over TLS gets in (and is logged at DEBUG by the wire layer, redacted).
    st = await TestStation.connect(
        wss_url(joule),
        "AUTH-SP2",
        subprotocols=[version],
        password=PASSWORD,
        ssl=pki.client_context(),
    )
    assert st.subprotocol == version
    await st.close()
    rows = await audited(
        database_url,
        lambda r: r.station_id == "AUTH-SP2" and r.outcome == "refused",
        count=len(BAD_HEADERS),
    )
    assert len(rows) >= len(BAD_HEADERS)
    assert all(r.remote == "127.0.0.1" for r in rows)
    # A01.FR.09: no password, and no Basic token that encodes one, in logs or in the audit.
    secrets = _secret_spellings(PASSWORD, WRONG)
    logged = server_log_text(caplog)
    assert "refused station AUTH-SP2" in logged
    assert "[redacted]" in logged  # the wire layer did log the header, masked
    for secret in secrets:
        assert secret not in logged
        assert all(secret not in r.reason for r in await audit_rows(database_url))
    await api.aclose()


def _secret_spellings(*passwords: str) -> list[str]:
    """A password as typed and as base64 inside every Basic token the tests send."""
    spellings = list(passwords)
    for password in passwords:
        for user in ("AUTH-SP2", "SOMEONE", "AUTH-SP1", "THROTTLE-TLS"):
            for suffix in ("", " "):
                raw = f"{user}:{password}{suffix}".encode()
                spellings.append(base64.b64encode(raw).decode())
    return spellings


async def test_s31_sp1_bad_credentials_never_logged(
    make_joule: MakeJoule, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    joule = await make_joule(auth_failures_before_throttle=100)
    api = await api_client(joule)
    await add_station(api, "AUTH-SP1")
    for headers in (basic("AUTH-SP1", WRONG), basic("AUTH-SP1", PASSWORD + " ")):
        with pytest.raises(InvalidStatus) as info:
            await TestStation.connect(ocpp_url(joule), "AUTH-SP1", headers=headers)
        assert status_of(info.value) == 401
    st = await TestStation.connect(ocpp_url(joule), "AUTH-SP1", password=PASSWORD)
    await st.close()
    await audited(database_url, lambda r: r.station_id == "AUTH-SP1")
    logged = server_log_text(caplog)
    for secret in _secret_spellings(PASSWORD, WRONG):
        assert secret not in logged
    await api.aclose()


async def test_s31_sp2_failures_over_tls_are_throttled(make_joule: MakeJoule, pki: TestPki) -> None:
    joule = await tls_joule(make_joule, pki, auth_failures_before_throttle=2)
    api = await api_client(joule)
    await add_profiled_station(api, "THROTTLE-TLS", 2)
    codes = []
    for _ in range(4):
        with pytest.raises(InvalidStatus) as info:
            await TestStation.connect(
                wss_url(joule),
                "THROTTLE-TLS",
                headers=basic("THROTTLE-TLS", WRONG),
                ssl=pki.client_context(),
            )
        codes.append(status_of(info.value))
    assert codes == [401, 401, 429, 429]  # CVE-2026-24445: brute force is slowed down
    with pytest.raises(InvalidStatus) as info:
        await TestStation.connect(
            wss_url(joule), "THROTTLE-TLS", password=PASSWORD, ssl=pki.client_context()
        )
    assert status_of(info.value) == 429  # even the right password waits out the window
    await api.aclose()


async def test_s31_password_never_in_api_responses(make_joule: MakeJoule) -> None:
    joule = await make_joule()
    api = await api_client(joule)
    new_password = "the-rotated-password-42"
    created = await api.post("/stations", json={"id": "NO-LEAK", "password": PASSWORD})
    assert created.status_code == 201
    patched = await api.patch("/stations/NO-LEAK", json={"password": new_password})
    assert patched.status_code == 200, patched.text
    st = await TestStation.connect(ocpp_url(joule), "NO-LEAK", password=new_password)
    await st.call("BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "X"})
    await st.close()
    responses = [
        created,
        patched,
        await api.get("/stations/NO-LEAK"),
        await api.get("/stations"),
        await api.get("/stations/NO-LEAK/messages"),
        await api.get("/stations/NO-LEAK/boots"),
        await api.get("/stations/NO-LEAK/commands"),
        await api.get("/openapi.json"),
    ]
    for resp in responses:
        assert resp.status_code == 200 or resp is created, (resp.url, resp.status_code)
        for secret in (PASSWORD, new_password, "$argon2"):  # neither the password nor its hash
            assert secret not in resp.text, (resp.url, secret)
    view = await station_view(api, "NO-LEAK")
    assert view["has_password"] is True and "password" not in view
    await api.aclose()


ROTATIONS: dict[str, tuple[dict[str, Any], str, str, dict[str, Any]]] = {
    "ocpp1.6": (
        {"chargePointVendor": "Acme", "chargePointModel": "X"},
        "ChangeConfiguration",
        "AuthorizationKey",
        {"status": "Accepted"},
    ),
    "ocpp2.0.1": (
        {"reason": "PowerUp", "chargingStation": {"vendorName": "Acme", "model": "X"}},
        "SetVariables",
        "SecurityCtrlr.BasicAuthPassword",
        {
            "setVariableResult": [
                {
                    "attributeStatus": "Accepted",
                    "component": {"name": "SecurityCtrlr"},
                    "variable": {"name": "BasicAuthPassword"},
                }
            ]
        },
    ),
}


@pytest.mark.parametrize("version", list(ROTATIONS))
async def test_s31_new_station_password_not_echoed_by_the_api(
    make_joule: MakeJoule, version: str
) -> None:
    # A01.FR.08/09: the new password travels to the station, but nothing shown to operators
    # (command audit, OCPP message log) may carry it.
    boot, action, key, answer = ROTATIONS[version]
    joule = await make_joule()
    api = await api_client(joule)
    await add_station(api, "ROTATE")
    st = await TestStation.connect(
        ocpp_url(joule), "ROTATE", subprotocols=[version], password=PASSWORD
    )
    st.answers[action] = lambda _action, _payload: answer
    await st.call("BootNotification", boot)
    new_password = "a-brand-new-station-password"
    resp = await api.post(
        "/stations/ROTATE/configuration", json={"key": key, "value": new_password}
    )
    assert resp.status_code == 200, resp.text
    assert new_password in json.dumps(st.received_calls[-1])  # the station did get it
    assert new_password not in resp.text
    await st.close()

    async def logged() -> bool:
        resp = await api.get("/stations/ROTATE/messages", params={"action": action})
        return resp.status_code == 200 and resp.json()["total"] >= 1

    await eventually(logged)  # the message log is flushed in batches
    commands = await api.get("/stations/ROTATE/commands")
    assert commands.status_code == 200 and new_password not in commands.text
    messages = await api.get("/stations/ROTATE/messages")
    await api.aclose()
    assert messages.status_code == 200
    assert new_password not in messages.text  # A01.FR.08: masked in the message log too
    assert "***" in messages.text
