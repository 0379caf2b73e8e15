"""Credential checks at the upgrade, on real TLS sessions (memory BIOs) and real Argon2 hashes."""

from __future__ import annotations

import asyncio
import base64
import logging
import ssl
import time
from collections.abc import Callable

import pytest

from joule.gateway.auth import (
    TLS12_CIPHERS,
    CredentialCache,
    FailureThrottle,
    RedactCredentials,
    boot_identity_mismatch,
    boot_serial_number,
    certificate_cn,
    check_credentials,
    tls_failure_reason,
    tls_server_context,
)
from joule.gateway.handshake import HandshakeError
from joule.gateway.ports import StationAccess
from joule.kit.passwords import hash_password
from joule.ocpp.versions import OcppVersion
from tests.gateway.pki import Issued, TestPki

PASSWORD = "a-station-password-123"
HASH = hash_password(PASSWORD)


def access(profile: int, *, minimum: int = 0, password: bool = True) -> StationAccess:
    return StationAccess(
        station_id="CP-A",
        registration="accepted",
        password_hash=HASH if password else None,
        security_profile=profile,
        min_security_profile=minimum,
        boot_status=None,
        timezone=None,
        assume_subprotocol=None,
        lenient=None,
    )


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def handshake(
    server_ctx: ssl.SSLContext, client_ctx: ssl.SSLContext
) -> tuple[ssl.SSLObject, ssl.SSLError | None]:
    """Run a TLS handshake between two in-memory endpoints; the server side and its error."""
    s_in, s_out, c_in, c_out = (ssl.MemoryBIO() for _ in range(4))
    server = server_ctx.wrap_bio(s_in, s_out, server_side=True)
    client = client_ctx.wrap_bio(c_in, c_out, server_hostname="localhost")
    server_done = client_done = False
    for _ in range(20):
        if not client_done:
            try:
                client.do_handshake()
                client_done = True
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                pass
            except ssl.SSLError:
                client_done = True  # the client gave up; the server sees an alert or EOF
        s_in.write(c_out.read())
        if not server_done:
            try:
                server.do_handshake()
                server_done = True
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                pass
            except ssl.SSLError as exc:
                return server, exc
        c_in.write(s_out.read())
        if server_done and client_done:
            return server, None
    raise AssertionError("handshake did not finish")


@pytest.fixture
def refused() -> list[str]:
    return []


@pytest.fixture
def server_ctx(pki: TestPki, refused: list[str]) -> ssl.SSLContext:
    return tls_server_context(pki.server.cert, pki.server.key, pki.ca, on_refused=refused.append)


def tls_session(server_ctx: ssl.SSLContext, pki: TestPki, cert: Issued | None) -> ssl.SSLObject:
    server, error = handshake(server_ctx, pki.client_context(cert))
    assert error is None, error
    return server


# -- the profile matrix ----------------------------------------------------------------------


async def check(
    station: StationAccess, *, authorization: str | None, ssl_object: ssl.SSLObject | None
) -> int:
    return await check_credentials(
        station, authorization=authorization, ssl_object=ssl_object, cache=CredentialCache()
    )


async def test_sp1_plain_basic_auth() -> None:
    assert await check(access(1), authorization=basic("CP-A", PASSWORD), ssl_object=None) == 1


async def test_sp2_tls_basic_auth(server_ctx: ssl.SSLContext, pki: TestPki) -> None:
    session = tls_session(server_ctx, pki, None)
    assert await check(access(2), authorization=basic("CP-A", PASSWORD), ssl_object=session) == 2


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        basic("CP-A", "wrong-password-0000"),
        basic("CP-B", PASSWORD),  # A00.FR.204: user must be the station id
        basic("CP-A", PASSWORD + " "),
        "Bearer " + PASSWORD,
    ],
)
@pytest.mark.parametrize("profile", [1, 2])
async def test_bad_basic_credentials_are_401(
    server_ctx: ssl.SSLContext, pki: TestPki, profile: int, authorization: str | None
) -> None:
    session = tls_session(server_ctx, pki, None) if profile == 2 else None
    with pytest.raises(HandshakeError) as info:
        await check(access(profile), authorization=authorization, ssl_object=session)
    assert info.value.status == 401
    assert PASSWORD not in info.value.reason


async def test_sp1_station_with_no_password_is_401() -> None:
    with pytest.raises(HandshakeError) as info:
        await check(
            access(1, password=False), authorization=basic("CP-A", PASSWORD), ssl_object=None
        )
    assert info.value.status == 401


async def test_sp2_without_tls_is_403() -> None:
    with pytest.raises(HandshakeError) as info:
        await check(access(2), authorization=basic("CP-A", PASSWORD), ssl_object=None)
    assert info.value.status == 403 and "TLS" in info.value.reason


@pytest.mark.parametrize("profile", [0, 1])
async def test_sp0_and_sp1_over_tls_are_403(
    server_ctx: ssl.SSLContext, pki: TestPki, profile: int
) -> None:
    session = tls_session(server_ctx, pki, None)
    with pytest.raises(HandshakeError) as info:
        await check(access(profile), authorization=basic("CP-A", PASSWORD), ssl_object=session)
    assert info.value.status == 403


@pytest.mark.parametrize(("profile", "minimum"), [(1, 2), (2, 3), (0, 1)])
async def test_downgrade_below_the_profile_once_used_is_403(
    server_ctx: ssl.SSLContext, pki: TestPki, profile: int, minimum: int
) -> None:
    # A00.FR.002 / A05.FR.07: even if the record were lowered behind the API's back.
    session = tls_session(server_ctx, pki, None) if profile == 2 else None
    with pytest.raises(HandshakeError) as info:
        await check(
            access(profile, minimum=minimum),
            authorization=basic("CP-A", PASSWORD),
            ssl_object=session,
        )
    assert info.value.status == 403 and "downgrade" in info.value.reason


async def test_sp3_client_certificate_bound_to_the_station_id(
    server_ctx: ssl.SSLContext, pki: TestPki
) -> None:
    session = tls_session(server_ctx, pki, pki.station("CP-A"))
    assert certificate_cn(session) == "CP-A"
    # SP3 needs no Basic credentials: the certificate is the credential.
    assert await check(access(3, password=False), authorization=None, ssl_object=session) == 3


async def test_sp3_certificate_of_another_station_is_401(
    server_ctx: ssl.SSLContext, pki: TestPki
) -> None:
    session = tls_session(server_ctx, pki, pki.station("CP-B"))
    with pytest.raises(HandshakeError) as info:
        await check(access(3), authorization=basic("CP-A", PASSWORD), ssl_object=session)
    assert info.value.status == 401 and "CN" in info.value.reason  # A00.FR.405


async def test_sp3_without_client_certificate_is_401(
    server_ctx: ssl.SSLContext, pki: TestPki
) -> None:
    session = tls_session(server_ctx, pki, None)
    assert certificate_cn(session) is None
    with pytest.raises(HandshakeError) as info:
        await check(access(3), authorization=basic("CP-A", PASSWORD), ssl_object=session)
    assert info.value.status == 401


async def test_sp3_without_tls_is_403() -> None:
    with pytest.raises(HandshakeError) as info:
        await check(access(3), authorization=None, ssl_object=None)
    assert info.value.status == 403


# -- the TLS context ---------------------------------------------------------------------------


def test_tls_context_settings(pki: TestPki) -> None:
    with_ca = tls_server_context(pki.server.cert, pki.server.key, pki.ca)
    assert with_ca.minimum_version is ssl.TLSVersion.TLSv1_2
    assert with_ca.verify_mode is ssl.CERT_OPTIONAL
    tls12 = {c["name"] for c in with_ca.get_ciphers() if c["protocol"] == "TLSv1.2"}
    assert tls12 and tls12 <= set(TLS12_CIPHERS.split(":"))  # A00.FR.318/319
    assert "ECDHE-ECDSA-AES128-GCM-SHA256" in tls12
    sp2_only = tls_server_context(pki.server.cert, pki.server.key, None)
    assert sp2_only.verify_mode is ssl.CERT_NONE


@pytest.mark.parametrize(
    ("make_client", "prefix"),
    [
        (lambda p: p.client_context(p.station("CP-A", untrusted=True)), "InvalidChargingStation"),
        (lambda p: p.client_context(p.station("CP-A", expired=True)), "InvalidChargingStation"),
        (
            lambda p: p.client_context(
                minimum=ssl.TLSVersion.TLSv1, maximum=ssl.TLSVersion.TLSv1_1
            ),
            "InvalidTLSVersion",
        ),
    ],
    ids=["untrusted-root", "expired", "tls1.1"],
)
def test_failed_handshakes_are_reported(
    server_ctx: ssl.SSLContext,
    pki: TestPki,
    refused: list[str],
    make_client: Callable[[TestPki], ssl.SSLContext],
    prefix: str,
) -> None:
    _, error = handshake(server_ctx, make_client(pki))
    assert error is not None
    assert refused == [tls_failure_reason(error)]
    assert refused[0].startswith(prefix), refused


def test_expired_and_untrusted_are_told_apart(server_ctx: ssl.SSLContext, pki: TestPki) -> None:
    _, expired = handshake(server_ctx, pki.client_context(pki.station("CP-A", expired=True)))
    _, rogue = handshake(server_ctx, pki.client_context(pki.station("CP-A", untrusted=True)))
    assert expired is not None and "expired" in tls_failure_reason(expired)
    assert rogue is not None and "issuer" in tls_failure_reason(rogue)


def test_no_shared_cipher_is_reported(server_ctx: ssl.SSLContext, pki: TestPki) -> None:
    client = pki.client_context(maximum=ssl.TLSVersion.TLSv1_2)
    client.set_ciphers("ECDHE-ECDSA-CHACHA20-POLY1305")  # strong, but not one OCPP names
    _, error = handshake(server_ctx, client)
    assert error is not None
    assert tls_failure_reason(error).startswith("InvalidTLSCipherSuite")


def test_station_refusing_our_certificate_is_reported(
    server_ctx: ssl.SSLContext, pki: TestPki, tmp_path_factory: pytest.TempPathFactory
) -> None:
    other = TestPki(tmp_path_factory.mktemp("other-pki"))
    _, error = handshake(server_ctx, other.client_context())  # trusts another root only
    assert error is not None
    assert tls_failure_reason(error).startswith("station refused the CSMS certificate")


# -- SP3 boot identity (B01.FR.11/12) --------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "payload", "serial"),
    [
        (OcppVersion.V16, {"chargePointSerialNumber": "S1"}, "S1"),
        (OcppVersion.V16, {"chargeBoxSerialNumber": "S2"}, "S2"),
        (OcppVersion.V16, {}, None),
        (OcppVersion.V201, {"chargingStation": {"serialNumber": "S3"}}, "S3"),
        (OcppVersion.V21, {"chargingStation": {"serialNumber": "S4"}}, "S4"),
        (OcppVersion.V201, {"chargingStation": {}}, None),
    ],
)
def test_boot_serial_number(version: OcppVersion, payload: dict[str, object], serial: str) -> None:
    assert boot_serial_number(version, payload) == serial


def test_boot_identity_mismatch() -> None:
    v16, v201 = OcppVersion.V16, OcppVersion.V201
    assert boot_identity_mismatch(v16, {"chargePointSerialNumber": "CP-A"}, "CP-A") is None
    assert boot_identity_mismatch(v16, {}, "CP-A") is None
    reason = boot_identity_mismatch(v16, {"chargePointSerialNumber": "CP-B"}, "CP-A")
    assert reason is not None and reason.startswith("InvalidChargingStationCertificate")
    assert boot_identity_mismatch(v201, {"chargingStation": {"serialNumber": "X"}}, "CP-A")


# -- credential cache, throttle, log redaction ----------------------------------------------


async def test_credential_cache_follows_the_stored_hash() -> None:
    cache = CredentialCache()
    assert await cache.verify("CP-A", HASH, PASSWORD)
    assert await cache.verify("CP-A", HASH, PASSWORD)  # from the cache
    assert not await cache.verify("CP-A", HASH, "wrong-password-0000")
    # A01.FR.03: after a password change the remembered old password no longer opens the door.
    new_hash = await asyncio.to_thread(hash_password, "the-new-password-4567")
    assert not await cache.verify("CP-A", new_hash, PASSWORD)
    assert await cache.verify("CP-A", new_hash, "the-new-password-4567")


async def test_failure_throttle() -> None:
    # A window no stall can outlast (CI's loaded box can pause a test for seconds): the
    # failures counted here are all inside it, however slowly the lines run.
    throttle = FailureThrottle(limit=2, window_s=600)
    assert not throttle.blocked("id:CP-A", "ip:10.0.0.1")
    throttle.fail("id:CP-A", "ip:10.0.0.1")
    assert not throttle.blocked("id:CP-A")
    throttle.fail("id:CP-A", "ip:10.0.0.1")
    assert throttle.blocked("id:CP-A") and throttle.blocked("id:CP-Z", "ip:10.0.0.1")
    assert not throttle.blocked("id:CP-Z", "ip:10.0.0.2")
    # The window slides: a short one, whose failures a slow box can only make older.
    brief = FailureThrottle(limit=2, window_s=0.2)
    before = time.monotonic()
    brief.fail("id:CP-A", "ip:10.0.0.1")
    brief.fail("id:CP-A", "ip:10.0.0.1")
    blocked = brief.blocked("id:CP-A")
    if time.monotonic() - before < 0.2:  # still inside the window (a stall may have passed it)
        assert blocked
    await asyncio.sleep(0.25)
    assert not brief.blocked("id:CP-A", "ip:10.0.0.1")  # the window slid past
    never = FailureThrottle(limit=0, window_s=60)
    for _ in range(5):
        never.fail("id:CP-A")
    assert not never.blocked("id:CP-A")


def test_authorization_headers_are_redacted_in_wire_logs() -> None:
    secret = basic("CP-A", PASSWORD)
    record = logging.LogRecord(
        "w", logging.DEBUG, __file__, 1, "< %s: %s", ("Authorization", secret), None
    )
    assert RedactCredentials().filter(record)
    assert secret not in record.getMessage() and "[redacted]" in record.getMessage()
    other = logging.LogRecord("w", logging.DEBUG, __file__, 1, "< %s: %s", ("Host", "x"), None)
    RedactCredentials().filter(other)
    assert other.getMessage() == "< Host: x"
