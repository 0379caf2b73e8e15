"""Station credentials: Basic auth (SP1/2), the TLS listener and client certificates (SP2/3)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import ssl
import time
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from joule.gateway.handshake import HandshakeError, parse_basic_auth
from joule.gateway.ports import StationAccess
from joule.kit.passwords import verify_password
from joule.ocpp.versions import OcppVersion

# A00.FR.318/319: the TLS 1.2 suites OCPP names (ECDHE first, for forward secrecy); TLS 1.3 suites
# are OpenSSL's defaults, all AEAD. Anything else is refused at the handshake.
TLS12_CIPHERS = ":".join(
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "AES128-GCM-SHA256",
        "AES256-GCM-SHA384",
    )
)


class CredentialCache:
    """Remembers passwords already verified against a given Argon2 hash.

    Argon2id costs tens of milliseconds by design; a reconnect storm (T8) must not pay it per
    connect. The cache keys on the stored hash, so a password change (A01.FR.03) invalidates it.
    """

    def __init__(self) -> None:
        self._key = os.urandom(32)
        self._known: dict[str, tuple[str, bytes]] = {}

    def _digest(self, password: str) -> bytes:
        return hmac.new(self._key, password.encode(), hashlib.sha256).digest()

    async def verify(self, station_id: str, password_hash: str, password: str) -> bool:
        """True when the password matches; verified passwords are remembered per hash."""
        known = self._known.get(station_id)
        digest = self._digest(password)
        if known is not None and known[0] == password_hash:
            return hmac.compare_digest(known[1], digest)
        ok = await asyncio.to_thread(verify_password, password_hash, password)
        if ok:
            self._known[station_id] = (password_hash, digest)
        return ok


class FailureThrottle:
    """Counts failed logins per key (station id, remote IP); throttles past a limit.

    CVE-2026-24445: no rate limit on WebSocket authentication invites brute force.
    """

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str) -> deque[float]:
        q = self._failures[key]
        cutoff = time.monotonic() - self.window_s
        while q and q[0] < cutoff:
            q.popleft()
        return q

    def blocked(self, *keys: str) -> bool:
        """True when any key has reached the failure limit within the window."""
        return self.limit > 0 and any(len(self._recent(k)) >= self.limit for k in keys)

    def fail(self, *keys: str) -> None:
        """Record one failure for each key."""
        now = time.monotonic()
        for k in keys:
            self._recent(k).append(now)


def certificate_cn(ssl_object: ssl.SSLObject | None) -> str | None:
    """The subject CN of the verified peer certificate, if any."""
    if ssl_object is None:
        return None
    cert = ssl_object.getpeercert()
    if not cert:
        return None
    subject = cert.get("subject", ())
    if isinstance(subject, str):
        return None
    for rdn in subject:
        for attribute in rdn:
            if isinstance(attribute, tuple) and attribute[0] == "commonName":
                return attribute[1]
    return None


async def check_credentials(
    access: StationAccess,
    *,
    authorization: str | None,
    ssl_object: ssl.SSLObject | None,
    cache: CredentialCache,
) -> int:
    """Check the connection against the station's security profile; return the profile in use.

    Raises HandshakeError(401 …) for bad credentials and (403 …) for a wrong transport.
    """
    profile = access.security_profile
    tls = ssl_object is not None
    if profile < access.min_security_profile:
        # A00.FR.002 / A05.FR.07: after an upgrade the lower profile is never accepted again.
        raise HandshakeError(403, "security profile downgrade refused")
    if profile >= 2 and not tls:
        raise HandshakeError(403, f"security profile {profile} requires TLS (wss://)")
    if profile <= 1 and tls:
        raise HandshakeError(403, f"security profile {profile} station must not use TLS")
    if profile == 3:
        cn = certificate_cn(ssl_object)
        if cn is None:
            raise HandshakeError(401, "security profile 3 requires a client certificate")
        if cn != access.station_id:
            # A00.FR.405: the certificate's CN binds the identity (MaEVe skips this check).
            raise HandshakeError(401, "client certificate CN does not match the station id")
        return profile
    if profile in (1, 2):
        if access.password_hash is None:
            raise HandshakeError(401, "station has no password configured")
        creds = parse_basic_auth(authorization)
        if creds is None:
            raise HandshakeError(401, "missing or malformed Basic credentials")
        user, password = creds
        if user != access.station_id:
            raise HandshakeError(401, "Basic auth username is not the station id (A00.FR.204)")
        if not await cache.verify(access.station_id, access.password_hash, password):
            raise HandshakeError(401, "wrong password")
    return profile


# -- TLS (security profiles 2 and 3) ---------------------------------------------------------


def tls_failure_reason(exc: ssl.SSLError) -> str:
    """Name a failed TLS handshake after the OCPP security event it stands for (A04, A00)."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        # A00.FR.407/408: an untrusted, expired or otherwise invalid station certificate.
        return f"InvalidChargingStationCertificate: {exc.verify_message}"
    reason = str(exc.reason or "")
    if reason in ("UNSUPPORTED_PROTOCOL", "WRONG_VERSION_NUMBER", "TLSV1_ALERT_PROTOCOL_VERSION"):
        return f"InvalidTLSVersion: {reason.lower()}"  # A00.FR.313/315: TLS 1.2 or newer only
    if reason == "NO_SHARED_CIPHER":
        return "InvalidTLSCipherSuite: no shared cipher"  # A00.FR.318/319
    if reason in ("TLSV1_ALERT_UNKNOWN_CA", "SSLV3_ALERT_BAD_CERTIFICATE"):
        return f"station refused the CSMS certificate: {reason.lower()}"
    return f"TLS handshake failed: {reason.lower() or exc}"


def _audited_sslobject(on_refused: Callable[[str], None]) -> type[ssl.SSLObject]:
    """An SSLObject class that reports failed handshakes (they never reach process_request)."""

    class AuditedSSLObject(ssl.SSLObject):
        def do_handshake(self) -> None:
            try:
                super().do_handshake()
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                raise  # not a failure: the handshake needs more bytes
            except ssl.SSLError as exc:
                on_refused(tls_failure_reason(exc))
                raise

    return AuditedSSLObject


def tls_server_context(
    cert_file: Path,
    key_file: Path,
    client_ca_file: Path | None,
    *,
    on_refused: Callable[[str], None] | None = None,
) -> ssl.SSLContext:
    """The wss:// listener's context: TLS 1.2+, OCPP's cipher suites, client certs for SP3."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2  # A00.FR.313/315: TLS 1.2 or newer only
    ctx.set_ciphers(TLS12_CIPHERS)
    ctx.load_cert_chain(str(cert_file), str(key_file))
    if client_ca_file is not None:
        ctx.load_verify_locations(cafile=str(client_ca_file))
        # Optional at TLS level, so SP2 stations (no client certificate) share the listener; a
        # certificate that is presented must verify against the CA or the handshake fails
        # (A00.FR.403), and SP3 stations without one are refused at the upgrade (check_credentials).
        ctx.verify_mode = ssl.CERT_OPTIONAL
    if on_refused is not None:
        ctx.sslobject_class = _audited_sslobject(on_refused)
    return ctx


def boot_serial_number(version: OcppVersion, payload: Mapping[str, Any]) -> str | None:
    """The serial number a BootNotification request claims, if any."""
    if version is OcppVersion.V16:
        # chargeBoxSerialNumber is deprecated in 1.6 in favour of chargePointSerialNumber.
        serial = payload.get("chargePointSerialNumber") or payload.get("chargeBoxSerialNumber")
    else:
        station = payload.get("chargingStation")
        serial = station.get("serialNumber") if isinstance(station, Mapping) else None
    return serial if isinstance(serial, str) else None


def boot_identity_mismatch(
    version: OcppVersion, payload: Mapping[str, Any], certificate_cn: str
) -> str | None:
    """Why a BootNotification contradicts the SP3 client certificate, or None when it agrees.

    B01.FR.11/12 with A00.FR.405: the certificate's CN is the station's serial number, so a boot
    that claims another serial is an impersonation attempt. A boot without a serial number claims
    nothing (the field is optional in every version) and the CN already bound the identity.
    """
    serial = boot_serial_number(version, payload)
    if serial is None or serial == certificate_cn:
        return None
    return (
        "InvalidChargingStationCertificate: BootNotification serial number"
        " is not the certificate CN"
    )


class RedactCredentials(logging.Filter):
    """Masks Authorization header values in the WebSocket library's debug lines (A01.FR.09)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite header log lines that carry credentials; never drop a record."""
        args = record.args
        if (
            isinstance(args, tuple)
            and len(args) == 2
            and isinstance(args[0], str)
            and args[0].lower() in ("authorization", "proxy-authorization")
        ):
            record.args = (args[0], "[redacted]")
        return True
