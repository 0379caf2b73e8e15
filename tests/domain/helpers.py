"""Calling inbound OCPP handlers in tests: a real unit of work on the real database, no mocks.

`handle()` validates the request against the official schema of the version (so test payloads stay
realistic), runs the registered handler inside `committer.run` exactly as the dispatcher does, then
validates the response against the official response schema.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import select

from joule.domain.context import HANDLERS, STATELESS, HandlerContext, Payload, StatelessContext

# Handlers register when their module is imported (the integrator's handlers_index does the same).
from joule.domain.datatransfer import handlers as _datatransfer_handlers  # noqa: F401
from joule.domain.device import charging as _charging_handlers  # noqa: F401
from joule.domain.device import handlers as _device_handlers  # noqa: F401
from joule.domain.device import reports_21 as _reports_21_handlers  # noqa: F401
from joule.domain.firmware import handlers as _firmware_handlers  # noqa: F401
from joule.domain.security import handlers as _security_handlers  # noqa: F401
from joule.domain.station import handlers as _station_handlers  # noqa: F401
from joule.kit.clock import FixedClock
from joule.ocpp.validation import validate
from joule.ocpp.versions import OcppVersion
from joule.storage.committer import GroupCommitter
from joule.storage.models import MeterValue, SampledValue, Station, sampled_values
from joule.storage.uow import UnitOfWork

T = TypeVar("T")

V16 = OcppVersion.V16
V201 = OcppVersion.V201
V21 = OcppVersion.V21
ALL_VERSIONS = (V16, V201, V21)
V2X = (V201, V21)

T0 = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)


@dataclass
class Handled:
    """What a handler answered and the domain events its unit of work emitted."""

    response: Payload
    events: list[object] = field(default_factory=list)

    def of_type(self, kind: type[T]) -> list[T]:
        """The emitted events of one type."""
        return [e for e in self.events if isinstance(e, kind)]


async def handle(
    committer: GroupCommitter,
    version: OcppVersion,
    action: str,
    payload: Payload,
    *,
    station_id: str = "CS-1",
    received_at: datetime = T0,
    clock: FixedClock | None = None,
    station_timezone: str | None = None,
    message_id: str = "msg-1",
    check_request: bool = True,
) -> Handled:
    """Run the registered handler for (version, action) in one committed unit of work."""
    if check_request:
        validate(version, action, "request", payload)
    clock = clock or FixedClock(received_at)
    stateless = STATELESS.get((version.family, action))
    if stateless is not None:
        response = stateless(StatelessContext(station_id, version, received_at, clock), payload)
        validate(version, action, "response", response)
        return Handled(response)
    handler = HANDLERS[(version.family, action)]

    async def work(uow: UnitOfWork) -> Handled:
        ctx = HandlerContext(
            station_id=station_id,
            version=version,
            message_id=message_id,
            received_at=received_at,
            uow=uow,
            clock=clock,
            station_timezone=station_timezone,
        )
        response = await handler(ctx, payload)
        return Handled(response=response, events=list(uow.events))

    handled = await committer.run(work)
    validate(version, action, "response", handled.response)
    return handled


async def read(committer: GroupCommitter, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
    """Run a read-only unit of work (a fresh session: sees only committed data)."""
    return await committer.read(work)


async def rows(committer: GroupCommitter, model: type[T], **where: Any) -> list[T]:
    """Committed rows of `model` matching column == value filters, in primary-key order."""

    async def work(uow: UnitOfWork) -> list[T]:
        query = select(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        primary = [c for c in model.__table__.primary_key.columns]  # type: ignore[attr-defined]
        result = await uow.session.scalars(query.order_by(*primary))
        return list(result)

    return await committer.read(work)


async def samples(committer: GroupCommitter, **where: Any) -> list[SampledValue]:
    """Committed sampled values of the MeterValue rows matching the filters, in row order."""
    return sampled_values(await rows(committer, MeterValue, **where))


async def add_station(
    committer: GroupCommitter,
    station_id: str = "CS-1",
    *,
    registration: str = "accepted",
    serial_number: str | None = None,
    security_profile: int = 1,
    at: datetime = T0,
) -> None:
    """Register a station the way an operator (or the unknown-station policy) would."""

    async def work(uow: UnitOfWork) -> None:
        uow.session.add(
            Station(
                id=station_id,
                registration=registration,
                serial_number=serial_number,
                security_profile=security_profile,
                min_security_profile=0,
                online=False,
                quirks={},
                created_at=at,
            )
        )

    await committer.run(work)


async def station(committer: GroupCommitter, station_id: str = "CS-1") -> Station:
    """The committed station row."""

    async def work(uow: UnitOfWork) -> Station:
        found = await uow.session.get(Station, station_id)
        assert found is not None, f"no station {station_id}"
        return found

    return await committer.read(work)


def boot_payload(version: OcppVersion, **extra: Any) -> Payload:
    """A realistic BootNotification for the version."""
    if version is V16:
        payload: Payload = {
            "chargePointVendor": "Alfen BV",
            "chargePointModel": "NG920-61001",
            "chargePointSerialNumber": "ACE0123456",
            "firmwareVersion": "6.1.2-4150",
            "iccid": "8931088320082209547",
            "imsi": "204080000012345",
            "meterType": "Eastron SDM630",
            "meterSerialNumber": "SDM-0099887",
        }
    else:
        payload = {
            "reason": "PowerUp",
            "chargingStation": {
                "vendorName": "Alfen BV",
                "model": "NG920-61001",
                "serialNumber": "ACE0123456",
                "firmwareVersion": "6.1.2-4150",
                "modem": {"iccid": "8931088320082209547", "imsi": "204080000012345"},
            },
        }
    payload.update(extra)
    return payload
