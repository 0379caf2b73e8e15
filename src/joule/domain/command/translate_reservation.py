"""Reservations → each version's ReserveNow / CancelReservation (pure).

1.6 reserves a connector (connectorId 0: any connector, if the charge point supports it);
2.x reserves an EVSE, or any EVSE when none is named (H01.FR.04).
"""

from __future__ import annotations

from datetime import datetime

from joule.domain.command.translate import Payload, Request
from joule.kit.clock import utc_iso
from joule.kit.errors import Invalid
from joule.ocpp.versions import OcppVersion


def reserve_request(
    version: OcppVersion,
    *,
    reservation_id: int,
    expires_at: datetime,
    uid: str,
    token_type: str | None,
    evse_id: int | None,
    group_uid: str | None = None,
    connector_type: str | None = None,
) -> Request:
    """ReserveNow for an id token until `expires_at`."""
    if version is OcppVersion.V16:
        if connector_type is not None:
            raise Invalid("a 1.6 reservation cannot name a connector type: use evse_id")
        payload: Payload = {
            "connectorId": 0 if evse_id is None else evse_id,  # C16 §5.13: 0 = any connector
            "expiryDate": utc_iso(expires_at),
            "idTag": uid,
            "reservationId": reservation_id,
        }
        if group_uid is not None:
            payload["parentIdTag"] = group_uid
        return Request("ReserveNow", payload)
    if evse_id == 0:
        raise Invalid("a 2.x reservation names an EVSE (> 0) or none for any EVSE")
    payload = {
        "id": reservation_id,
        "expiryDateTime": utc_iso(expires_at),
        # Like a remote start: a token the CSMS has no record of is vouched for centrally.
        "idToken": {"idToken": uid, "type": token_type or "Central"},
    }
    if evse_id is not None:
        payload["evseId"] = evse_id
    if group_uid is not None:
        payload["groupIdToken"] = {"idToken": group_uid, "type": "Central"}
    if connector_type is not None:
        payload["connectorType"] = connector_type
    return Request("ReserveNow", payload)


def cancel_reservation_request(version: OcppVersion, *, reservation_id: int) -> Request:
    """CancelReservation (1.6; 2.x H02): the same message in every version."""
    return Request("CancelReservation", {"reservationId": reservation_id})
