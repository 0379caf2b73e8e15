"""Station credential checks at the upgrade: Basic auth (SP1/2), TLS and client certificates (SP2/3)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import ssl
import time
from collections import defaultdict, deque

from joule.gateway.handshake import HandshakeError, parse_basic_auth
from joule.gateway.ports import StationAccess
from joule.kit.passwords import verify_password


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
    """Counts failed logins per key (station id, remote IP); throttles past a limit (CVE-2026-24445)."""

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
    for rdn in cert.get("subject", ()):
        for name, value in rdn:
            if name == "commonName":
                return str(value)
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
