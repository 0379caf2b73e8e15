"""Pure checks of the WebSocket upgrade request: station id, subprotocol, basic auth header."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from joule.ocpp.versions import OcppVersion

MAX_STATION_ID = 48  # P4 §3.1.1


class HandshakeError(Exception):
    """The upgrade must be refused with this HTTP status."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def station_id_from_path(path: str) -> str:
    """The station id is the last non-empty path segment, percent-decoded (contract; P4 §3.1.1).

    Any prefix is accepted so chargers with fixed URL layouts can connect; a query string and a
    trailing slash are ignored (scenario 42).
    """
    raw_path = urlsplit(path).path
    segments = [s for s in raw_path.split("/") if s]
    if not segments:
        raise HandshakeError(404, "no station id in the URL path")
    station_id = unquote(segments[-1], errors="strict")
    if not station_id or len(station_id) > MAX_STATION_ID:
        raise HandshakeError(404, f"station id must be 1–{MAX_STATION_ID} characters")
    if ":" in station_id:
        # P4 §3.1.1: no ':' in the identity (it would break the Basic-auth user:pass split)
        raise HandshakeError(404, "station id must not contain ':'")
    return station_id


@dataclass(frozen=True, slots=True)
class Negotiated:
    """The chosen subprotocol as the station spelled it, and our version."""

    offered_token: str
    version: OcppVersion


def pick_subprotocol(header_values: list[str], assume: str | None) -> Negotiated:
    """Pick the first offered subprotocol we speak, in the station's order (contract; Q2).

    Matching ignores case ('OCPP1.6', scenario 41) and we echo the station's own spelling, as
    RFC 6455 requires the answer to be one of the offered values. With no header at all, a
    per-station `assume` value (Q1, opt-in) applies; otherwise the upgrade is refused (HTTP 400).
    """
    offered = [t.strip() for value in header_values for t in value.split(",") if t.strip()]
    for token in offered:
        version = OcppVersion.from_subprotocol(token.lower())
        if version is not None:
            return Negotiated(token, version)
    if not offered and assume:
        version = OcppVersion.from_subprotocol(assume)
        if version is not None:
            return Negotiated("", version)
    if not offered:
        raise HandshakeError(
            400, "no Sec-WebSocket-Protocol offered; Joule speaks ocpp1.6, ocpp2.0.1, ocpp2.1"
        )
    raise HandshakeError(
        400, f"no common subprotocol in {offered}; Joule speaks ocpp1.6, ocpp2.0.1, ocpp2.1"
    )


def parse_basic_auth(header: str | None) -> tuple[str, str] | None:
    """(username, password) from an `Authorization: Basic …` header; None if absent or bad."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    if not sep:
        return None
    return user, password
