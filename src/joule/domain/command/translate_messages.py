"""Display messages (O01–O06) and customer information (N09/N10) → 2.x CALLs (pure).

OCPP 1.6 has neither: a request for a 1.6 station is refused before anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from joule.domain.command.translate import Payload, Request
from joule.kit.clock import utc_iso
from joule.kit.errors import Invalid
from joule.ocpp.versions import OcppVersion


def _needs_2x(version: OcppVersion, what: str) -> None:
    if version is OcppVersion.V16:
        raise Invalid(f"{what} does not exist in OCPP 1.6 (2.0.1 and later only)")


@dataclass(frozen=True, slots=True)
class DisplayMessage:
    """One message for the station's display (MessageInfoType)."""

    id: int
    content: str
    priority: str = "NormalCycle"
    format: str = "UTF8"
    language: str | None = None
    state: str | None = None
    start_at: datetime | None = None
    end_at: datetime | None = None
    transaction_id: str | None = None

    def payload(self) -> Payload:
        """The MessageInfoType."""
        content: Payload = {"format": self.format, "content": self.content}
        if self.language is not None:
            content["language"] = self.language
        info: Payload = {"id": self.id, "priority": self.priority, "message": content}
        for name, value in (
            ("state", self.state),
            ("startDateTime", utc_iso(self.start_at) if self.start_at else None),
            ("endDateTime", utc_iso(self.end_at) if self.end_at else None),
            ("transactionId", self.transaction_id),
        ):
            if value is not None:
                info[name] = value
        return info


def set_display_message_request(version: OcppVersion, *, message: DisplayMessage) -> Request:
    """SetDisplayMessage (O01/O02)."""
    _needs_2x(version, "SetDisplayMessage")
    return Request("SetDisplayMessage", {"message": message.payload()})


def get_display_messages_request(
    version: OcppVersion,
    *,
    request_id: int,
    ids: list[int] | None,
    priority: str | None,
    state: str | None,
) -> Request:
    """GetDisplayMessages (O03): the station answers, then sends NotifyDisplayMessages."""
    _needs_2x(version, "GetDisplayMessages")
    payload: Payload = {"requestId": request_id}
    if ids:
        payload["id"] = ids
    if priority is not None:
        payload["priority"] = priority
    if state is not None:
        payload["state"] = state
    return Request("GetDisplayMessages", payload)


def clear_display_message_request(version: OcppVersion, *, message_id: int) -> Request:
    """ClearDisplayMessage (O05)."""
    _needs_2x(version, "ClearDisplayMessage")
    return Request("ClearDisplayMessage", {"id": message_id})


def customer_information_request(
    version: OcppVersion,
    *,
    request_id: int,
    report: bool,
    clear: bool,
    customer_identifier: str | None,
    uid: str | None,
    token_type: str | None,
    certificate: Payload | None,
) -> Request:
    """CustomerInformation (N09 report / N10 clear) about one customer."""
    _needs_2x(version, "CustomerInformation")
    if not report and not clear:
        raise Invalid("ask for a report, a clear, or both")
    # N09.FR.09: exactly one way of naming the customer.
    named = [x for x in (customer_identifier, uid, certificate) if x is not None]
    if len(named) != 1:
        raise Invalid("name the customer by exactly one of customer_identifier, uid, certificate")
    payload: Payload = {"requestId": request_id, "report": report, "clear": clear}
    if customer_identifier is not None:
        payload["customerIdentifier"] = customer_identifier
    if uid is not None:
        payload["idToken"] = {"idToken": uid, "type": token_type or "Central"}
    if certificate is not None:
        payload["customerCertificate"] = certificate
    return Request("CustomerInformation", payload)
