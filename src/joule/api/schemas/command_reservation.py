"""Reservations: the ReserveNow body and the reservation as listed."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from joule.api.schemas.command import CommandBody
from joule.api.schemas.common import UtcDatetime


class ReserveCommand(CommandBody):
    """Reserve an EVSE (none: any EVSE; 1.6 connectorId 0) for an id token until expiry."""

    uid: str = Field(min_length=1, max_length=36, description="the id tag / id token")
    expiry: AwareDatetime = Field(description="when the reservation ends (with a UTC offset)")
    evse_id: int | None = Field(default=None, ge=0, description="1.6: the connectorId")
    group_uid: str | None = Field(
        default=None, max_length=36, description="1.6 parentIdTag / 2.x groupIdToken"
    )
    connector_type: str | None = Field(default=None, description="2.x only, e.g. cType2")


class ReservationRead(BaseModel):
    """A reservation; status as of now (a holding reservation past its expiry is Expired)."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="the reservationId the station knows it by")
    station_id: str
    evse_id: int | None
    id_token: str
    group_id_token: str | None
    expiry: UtcDatetime
    status: str = Field(
        description="Requested | Accepted | Faulted | Occupied | Rejected | Unavailable | Used | "
        "Expired | Cancelled | Removed"
    )
    transaction_id: int | None = Field(description="Joule's transaction that used it")
    operator: str | None
    created_at: UtcDatetime
    updated_at: UtcDatetime
