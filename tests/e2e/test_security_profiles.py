"""Scenario 32 and security profile 2: wss:// with Basic auth, profile mismatch, TLS versions,
and no downgrade once a station used a higher profile (A00.FR.002, A05.FR.07)."""

from __future__ import annotations

import logging
import ssl
from typing import Any

import pytest
from websockets.exceptions import InvalidHandshake, InvalidStatus

from joule.gateway.auth import TLS12_CIPHERS
from tests.e2e.conftest import MakeJoule, api_client, ocpp_url
from tests.e2e.station import TestStation
from tests.e2e.test_charging_session import PASSWORD, add_station, eventually, station_view
from tests.e2e.test_security_access import (
    add_profiled_station,
    audited,
    pki,
    status_of,
    tls_joule,
    wss_url,
)
from tests.gateway.pki import TestPki

__all__ = ["pki"]  # the module-scoped PKI fixture, shared

BOOTS: dict[str, dict[str, Any]] = {
    "ocpp1.6": {"chargePointVendor": "Acme", "chargePointModel": "AC22"},
    "ocpp2.0.1": {"reason": "PowerUp", "chargingStation": {"vendorName": "Acme", "model": "AC22"}},
}


@pytest.mark.parametrize("version", list(BOOTS))
async def test_s32_sp2_over_wss_with_basic_auth(
    make_joule: MakeJoule, pki: TestPki, version: str
) -> None:
    joule = await tls_joule(make_joule, pki)
    api = await api_client(joule)
    await add_profiled_station(api, "SP2-OK", 2)
    st = await TestStation.connect(
        wss_url(joule),
        "SP2-OK",
        subprotocols=[version],
        password=PASSWORD,
        ssl=pki.client_context(),
    )
    boot = await st.call("BootNotification", BOOTS[version])
    assert boot["status"] == "Accepted"

    async def raised() -> bool:
        view = await station_view(api, "SP2-OK")
        return bool(view["online"] and view["min_security_profile"] == 2)

    await eventually(raised)  # A05.FR.07: from now on, profile 2 is the floor
    view = await station_view(api, "SP2-OK")
    assert view["security_profile"] == 2
    await st.close()
    await api.aclose()


async def test_s32_sp2_station_over_plain_ws_refused(make_joule: MakeJoule, pki: TestPki) -> None:
    joule = await tls_joule(make_joule, pki)
    api = await api_client(joule)
    await add_profiled_station(api, "SP2-PLAIN", 2)
    with pytest.raises(InvalidStatus) as info:
        await TestStation.connect(ocpp_url(joule), "SP2-PLAIN", password=PASSWORD)
    assert status_of(info.value) == 403  # the right password, the wrong transport
    await api.aclose()


async def test_s32_sp1_station_over_wss_refused(make_joule: MakeJoule, pki: TestPki) -> None:
    joule = await tls_joule(make_joule, pki)
    api = await api_client(joule)
    await add_station(api, "SP1-TLS")  # profile 1: Basic auth over plain ws://
    with pytest.raises(InvalidStatus) as info:
        await TestStation.connect(
            wss_url(joule), "SP1-TLS", password=PASSWORD, ssl=pki.client_context()
        )
    assert status_of(info.value) == 403  # one profile at a time (A00.FR.001)
    st = await TestStation.connect(ocpp_url(joule), "SP1-TLS", password=PASSWORD)
    await st.close()
    await api.aclose()


@pytest.mark.parametrize(
    "maximum", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1], ids=["tls1.0", "tls1.1"]
)
async def test_s32_tls_below_1_2_refused(
    make_joule: MakeJoule,
    pki: TestPki,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
    maximum: ssl.TLSVersion,
) -> None:
    caplog.set_level(logging.WARNING, logger="joule")
    joule = await tls_joule(make_joule, pki)
    api = await api_client(joule)
    await add_profiled_station(api, "OLD-TLS", 2)
    old = pki.client_context(minimum=ssl.TLSVersion.TLSv1, maximum=maximum)
    with pytest.raises(OSError):  # ssl.SSLError or a reset: the handshake never completes
        await TestStation.connect(wss_url(joule), "OLD-TLS", password=PASSWORD, ssl=old)
    # It is Joule that refused (A00.FR.313/315), and it said so.
    await audited(database_url, lambda r: r.reason.startswith("InvalidTLSVersion"))
    assert "refused TLS handshake: InvalidTLSVersion" in caplog.text
    await api.aclose()


@pytest.mark.parametrize(
    ("version", "name"),
    [(ssl.TLSVersion.TLSv1_2, "TLSv1.2"), (ssl.TLSVersion.TLSv1_3, "TLSv1.3")],
)
async def test_s32_tls_1_2_and_1_3_accepted(
    make_joule: MakeJoule, pki: TestPki, version: ssl.TLSVersion, name: str
) -> None:
    joule = await tls_joule(make_joule, pki)
    api = await api_client(joule)
    await add_profiled_station(api, "NEW-TLS", 2)
    ctx = pki.client_context(minimum=version, maximum=version)
    st = await TestStation.connect(wss_url(joule), "NEW-TLS", password=PASSWORD, ssl=ctx)
    session = st.ws.transport.get_extra_info("ssl_object")
    assert session.version() == name
    if name == "TLSv1.2":
        assert session.cipher()[0] in TLS12_CIPHERS.split(":")  # A00.FR.318/319
    await st.call("Heartbeat", {})
    await st.close()
    await api.aclose()


async def test_s32_sp2_station_cannot_be_downgraded_to_sp1(
    make_joule: MakeJoule, pki: TestPki
) -> None:
    joule = await tls_joule(make_joule, pki)
    api = await api_client(joule)
    await add_profiled_station(api, "DOWN-2", 2)
    st = await TestStation.connect(
        wss_url(joule), "DOWN-2", password=PASSWORD, ssl=pki.client_context()
    )
    await st.call("BootNotification", BOOTS["ocpp1.6"])
    await st.close()

    async def raised() -> bool:
        return bool((await station_view(api, "DOWN-2"))["min_security_profile"] == 2)

    await eventually(raised)
    # The operator API refuses to lower the profile below one the station already used.
    resp = await api.patch("/stations/DOWN-2", json={"security_profile": 1})
    assert resp.status_code == 409, resp.text
    assert (await station_view(api, "DOWN-2"))["security_profile"] == 2
    # A05.FR.07: so its next plain connection, right password and all, is refused.
    with pytest.raises(InvalidStatus) as info:
        await TestStation.connect(ocpp_url(joule), "DOWN-2", password=PASSWORD)
    assert status_of(info.value) == 403
    st = await TestStation.connect(
        wss_url(joule), "DOWN-2", password=PASSWORD, ssl=pki.client_context()
    )
    await st.close()
    await api.aclose()


async def test_s32_profile_may_change_before_first_connection(
    make_joule: MakeJoule, pki: TestPki
) -> None:
    # Until a station used a profile, lowering it is a correction, not a downgrade.
    joule = await tls_joule(make_joule, pki)
    api = await api_client(joule)
    await add_profiled_station(api, "FRESH-2", 2)
    resp = await api.patch("/stations/FRESH-2", json={"security_profile": 1})
    assert resp.status_code == 200, resp.text
    st = await TestStation.connect(ocpp_url(joule), "FRESH-2", password=PASSWORD)
    await st.close()
    with pytest.raises(InvalidStatus) as info:
        await TestStation.connect(
            wss_url(joule), "FRESH-2", password=PASSWORD, ssl=pki.client_context()
        )
    assert status_of(info.value) == 403
    await api.aclose()


async def test_s32_sp3_station_cannot_fall_back_to_sp2(make_joule: MakeJoule, pki: TestPki) -> None:
    joule = await tls_joule(make_joule, pki)
    api = await api_client(joule)
    await add_profiled_station(api, "DOWN-3", 3)  # with a password too: SP2 would be possible
    cert = pki.client_context(pki.station("DOWN-3"))
    st = await TestStation.connect(wss_url(joule), "DOWN-3", ssl=cert)
    await st.call("BootNotification", BOOTS["ocpp1.6"])
    await st.close()

    async def raised() -> bool:
        return bool((await station_view(api, "DOWN-3"))["min_security_profile"] == 3)

    await eventually(raised)
    resp = await api.patch("/stations/DOWN-3", json={"security_profile": 2})
    assert resp.status_code == 409, resp.text
    # SP2-style: TLS and the right Basic password, but no client certificate.
    with pytest.raises(InvalidHandshake) as info:
        await TestStation.connect(
            wss_url(joule), "DOWN-3", password=PASSWORD, ssl=pki.client_context()
        )
    assert isinstance(info.value, InvalidStatus) and status_of(info.value) == 401
    await api.aclose()
