"""The protocol checks every station request passes before the domain sees it, in order.

1. the action is a request a station may send in this version (catalogue, P4 §4.3),
2. known charger quirks are repaired (quirks, scenario 40),
3. the payload matches the official schema, strictly or leniently per station (scenario 27).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from joule.ocpp.catalogue import ALL_ACTIONS, check_inbound_action, station_send_actions
from joule.ocpp.errors import ErrorKind, OcppError
from joule.ocpp.fast_accept import ACCEPTORS
from joule.ocpp.frames import Call, Send
from joule.ocpp.quirks import normalise_request
from joule.ocpp.validation import validate
from joule.ocpp.versions import OcppVersion


@dataclass(frozen=True, slots=True)
class InboundRequest:
    """A station request that passed the protocol checks, ready for the domain."""

    message_id: str
    action: str
    payload: dict[str, Any]
    quirks: tuple[str, ...]  # quirk names applied (log and count per station model)
    stripped: tuple[str, ...]  # paths of unknown properties removed in lenient mode

    @property
    def repaired(self) -> bool:
        """Whether the payload is not the frame as sent (a quirk repaired, a property stripped)."""
        return bool(self.quirks or self.stripped)


# Scenario 27: "transaction messages must never be lost to strict mode". A CALLERROR makes the
# station retry and finally discard them (C16 §3.7.1, P2 E13.FR.03), so for these the strict
# mode strips unknown properties like the lenient one; the gateway logs and counts what it strips.
TRANSACTION_MESSAGES = frozenset(
    {"StartTransaction", "StopTransaction", "MeterValues", "TransactionEvent"}
)


def accept_request(version: OcppVersion, call: Call, *, lenient: bool = False) -> InboundRequest:
    """Check, repair and validate a station's CALL; raise OcppError to answer with a CALLERROR."""
    check_inbound_action(version, call.action)
    if call.validated:
        # Certainly valid as sent (ocpp/typed.py): no quirk repair applies to it either.
        return InboundRequest(call.message_id, call.action, call.payload, (), ())
    lenient = lenient or call.action in TRANSACTION_MESSAGES
    return _checked(version, call.message_id, call.action, call.payload, lenient)


def accept_send(version: OcppVersion, send: Send, *, lenient: bool = False) -> InboundRequest:
    """The same checks for a 2.1 SEND; an error cannot be answered, only logged."""
    if send.action not in station_send_actions(version):
        known = send.action in ALL_ACTIONS
        raise OcppError(
            ErrorKind.NOT_SUPPORTED if known else ErrorKind.NOT_IMPLEMENTED,
            f"{send.action[:64]!r} is not a SEND message of OCPP {version.value}",
        )
    return _checked(version, send.message_id, send.action, send.payload, lenient)


def _checked(
    version: OcppVersion, message_id: str, action: str, payload: dict[str, Any], lenient: bool
) -> InboundRequest:
    fast = ACCEPTORS.get((version.family, action, "request"))
    if fast is not None and fast(payload):
        # Certainly valid as sent: no quirk repair applies to such a payload either (every
        # repair fixes something the schema refuses; tests/ocpp/test_fast_accept.py checks it).
        return InboundRequest(message_id, action, payload, (), ())
    payload, quirks = normalise_request(version, action, payload)
    stripped = validate(version, action, "request", payload, lenient=lenient, quirks=quirks)
    return InboundRequest(message_id, action, payload, tuple(quirks), tuple(stripped))
