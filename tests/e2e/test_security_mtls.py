"""Scenario 33 and security profile 3: mutual TLS, the client certificate bound to the station.

(a) untrusted root and (b) expired certificate fail the TLS handshake (A00.FR.403, 407/408);
(c) a valid certificate of station B used to connect as A is refused at the upgrade (A00.FR.405);
(d) a boot claiming a serial number other than the certificate CN closes the socket (B01.FR.11/12).
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from tests.e2e.conftest import MakeJoule, api_client
from tests.e2e.station import TestStation
from tests.e2e.test_charging_session import eventually, station_view
from tests.e2e.test_security_access import (
    add_profiled_station,
    audit_rows,
    audited,
    pki,
    status_of,
    tls_joule,
    wss_url,
)
from tests.gateway.pki import TestPki

__all__ = ["pki"]  # the module-scoped PKI fixture, shared


def boot(version: str, serial: str | None) -> dict[str, Any]:
    """A BootNotification request claiming `serial` (None: no serial number at all)."""
    if version == "ocpp1.6":
        payload: dict[str, Any] = {"chargePointVendor": "Acme", "chargePointModel": "DC50"}
        if serial is not None:
            payload["chargePointSerialNumber"] = serial
        return payload
    station: dict[str, Any] = {"vendorName": "Acme", "model": "DC50"}
    if serial is not None:
        station["serialNumber"] = serial
    return {"reason": "PowerUp", "chargingStation": station}


@pytest.mark.parametrize("version", ["ocpp1.6", "ocpp2.0.1"])
async def test_s33_valid_certificate_accepted(
    make_joule: MakeJoule, pki: TestPki, version: str
) -> None:
    joule = await tls_joule(make_joule, pki)
    api = await api_client(joule)
    await add_profiled_station(api, "MTLS-A", 3, password=None)  # the certificate is the credential
    ctx = pki.client_context(pki.station("MTLS-A"))
    st = await TestStation.connect(wss_url(joule), "MTLS-A", subprotocols=[version], ssl=ctx)
    answer = await st.call("BootNotification", boot(version, "MTLS-A"))
    assert answer["status"] == "Accepted"

    async def recorded() -> bool:
        view = await station_view(api, "MTLS-A")
        return bool(view["serial_number"] == "MTLS-A" and view["min_security_profile"] == 3)

    await eventually(recorded)
    await st.close()
    await api.aclose()


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("untrusted", "unable to get local issuer certificate"),
        ("expired", "certificate has expired"),
    ],
)
async def test_s33ab_bad_certificate_fails_the_tls_handshake(
    make_joule: MakeJoule,
    pki: TestPki,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
    kind: str,
    expected: str,
) -> None:
    caplog.set_level(logging.WARNING, logger="joule")
    joule = await tls_joule(make_joule, pki)
    api = await api_client(joule)
    await add_profiled_station(api, "MTLS-A", 3, password=None)
    cert = pki.station("MTLS-A", untrusted=kind == "untrusted", expired=kind == "expired")
    with pytest.raises((OSError, InvalidHandshake)) as info:
        await TestStation.connect(wss_url(joule), "MTLS-A", ssl=pki.client_context(cert))
    # Refused by TLS, not by an HTTP answer: the upgrade request never reached Joule.
    assert not isinstance(info.value, InvalidStatus)
    rows = await audited(
        database_url, lambda r: r.reason.startswith("InvalidChargingStationCertificate")
    )
    assert rows[0].outcome == "refused" and expected in rows[0].reason
    assert f"refused TLS handshake: InvalidChargingStationCertificate: {expected}" in caplog.text
    view = await station_view(api, "MTLS-A")
    assert view["online"] is False and view["last_seen"] is None
    await api.aclose()


async def test_s33c_certificate_of_another_station_refused_at_upgrade(
    make_joule: MakeJoule, pki: TestPki, database_url: str
) -> None:
    joule = await tls_joule(make_joule, pki)
    api = await api_client(joule)
    await add_profiled_station(api, "MTLS-A", 3, password=None)
    await add_profiled_station(api, "MTLS-B", 3, password=None)
    b_cert = pki.client_context(pki.station("MTLS-B"))  # valid, CSO-signed, but B's
    with pytest.raises(InvalidStatus) as info:
        await TestStation.connect(wss_url(joule), "MTLS-A", ssl=b_cert)
    assert status_of(info.value) == 401  # A00.FR.405 (the check MaEVe left commented out)
    rows = await audited(database_url, lambda r: r.station_id == "MTLS-A")
    assert "CN does not match" in rows[0].reason
    st = await TestStation.connect(wss_url(joule), "MTLS-B", ssl=b_cert)  # B itself is fine
    await st.close()
    await api.aclose()


async def test_s33_sp3_without_client_certificate_refused(
    make_joule: MakeJoule, pki: TestPki
) -> None:
    joule = await tls_joule(make_joule, pki)
    api = await api_client(joule)
    await add_profiled_station(api, "MTLS-A", 3, password=None)
    with pytest.raises(InvalidStatus) as info:
        await TestStation.connect(wss_url(joule), "MTLS-A", ssl=pki.client_context())
    assert status_of(info.value) == 401
    await api.aclose()


@pytest.mark.parametrize("version", ["ocpp1.6", "ocpp2.0.1"])
async def test_s33d_boot_serial_other_than_cn_closes_the_socket(
    make_joule: MakeJoule, pki: TestPki, database_url: str, version: str
) -> None:
    joule = await tls_joule(make_joule, pki)
    api = await api_client(joule)
    await add_profiled_station(api, "MTLS-A", 3, password=None)
    ctx = pki.client_context(pki.station("MTLS-A"))
    st = await TestStation.connect(wss_url(joule), "MTLS-A", subprotocols=[version], ssl=ctx)
    with pytest.raises(ConnectionError):  # closed instead of answered
        await st.call("BootNotification", boot(version, "SOMEONE-ELSE"), timeout=5)
    with pytest.raises(ConnectionClosed):
        await st.ws.recv()
    assert st.ws.close_code == 1008  # policy violation (RFC 6455 §7.4.1)
    rows = await audited(database_url, lambda r: r.station_id == "MTLS-A")
    assert rows[0].outcome == "refused"
    assert rows[0].reason.startswith("InvalidChargingStationCertificate")
    # The impostor's boot never reached the core: nothing it claimed was stored.
    boots = await api.get("/stations/MTLS-A/boots")
    assert boots.status_code == 200 and boots.json()["total"] == 0, boots.text
    view = await station_view(api, "MTLS-A")
    assert view["serial_number"] is None and view["vendor"] is None
    assert view["boot_status"] is None
    await api.aclose()


@pytest.mark.parametrize("version", ["ocpp1.6", "ocpp2.0.1"])
async def test_s33d_boot_without_serial_accepted(
    make_joule: MakeJoule, pki: TestPki, database_url: str, version: str
) -> None:
    # The serial number is optional in every version: a boot that claims none contradicts
    # nothing, and the certificate CN already bound the identity at the upgrade.
    joule = await tls_joule(make_joule, pki)
    api = await api_client(joule)
    await add_profiled_station(api, "MTLS-A", 3, password=None)
    ctx = pki.client_context(pki.station("MTLS-A"))
    st = await TestStation.connect(wss_url(joule), "MTLS-A", subprotocols=[version], ssl=ctx)
    assert (await st.call("BootNotification", boot(version, None)))["status"] == "Accepted"
    await st.call("Heartbeat", {})
    await st.close()
    assert not [r for r in await audit_rows(database_url) if r.station_id == "MTLS-A"]
    await api.aclose()
