"""OCPP versions and their WebSocket subprotocol names."""

from __future__ import annotations

from enum import StrEnum


class OcppVersion(StrEnum):
    """An OCPP version Joule speaks."""

    V16 = "1.6"
    V201 = "2.0.1"
    V21 = "2.1"

    @property
    def subprotocol(self) -> str:
        """The WebSocket subprotocol token (J16 §3.1.2, P4 §3.1.2)."""
        return "ocpp" + self.value

    @property
    def family(self) -> str:
        """'1.6' or '2.x': 2.1 shares 2.0.1's message model wherever messages coincide."""
        return "1.6" if self is OcppVersion.V16 else "2.x"

    @classmethod
    def from_subprotocol(cls, subprotocol: str) -> OcppVersion | None:
        """The version for a subprotocol token, or None when Joule does not speak it."""
        for version in cls:
            if version.subprotocol == subprotocol:
                return version
        return None


SUBPROTOCOLS: tuple[str, ...] = tuple(v.subprotocol for v in OcppVersion)
