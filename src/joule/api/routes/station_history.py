"""A station's histories: messages, security events, statuses, boots, data transfers, commands."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from joule.api.deps import CurrentOperator, Db, PageParams
from joule.api.schemas.command import CommandRecordRead
from joule.api.schemas.common import Page, as_utc
from joule.api.schemas.station import (
    BootRead,
    DataTransferRead,
    MessageRead,
    SecurityEventRead,
    StatusIntervalRead,
)
from joule.domain.command.service import commands_of
from joule.domain.registry import stations

router = APIRouter(tags=["stations"])


@router.get("/stations/{station_id}/messages")
async def messages(
    station_id: str,
    operator: CurrentOperator,
    db: Db,
    page: PageParams,
    action: str | None = None,
) -> Page[MessageRead]:
    """The station's OCPP message log (bounded), newest first."""
    found, total = await db.read(
        lambda s: stations.station_messages(
            s, station_id, action=action, limit=page.limit, offset=page.offset
        )
    )
    items = [MessageRead.model_validate(m) for m in found]
    return Page[MessageRead].of(items, total, limit=page.limit, offset=page.offset)


@router.get("/stations/{station_id}/security-events")
async def security_events(
    station_id: str,
    operator: CurrentOperator,
    db: Db,
    page: PageParams,
    critical: bool | None = None,
) -> Page[SecurityEventRead]:
    """The station's security events (A04), newest first."""
    found, total = await db.read(
        lambda s: stations.station_security_events(
            s, station_id, critical=critical, limit=page.limit, offset=page.offset
        )
    )
    items = [SecurityEventRead.model_validate(e) for e in found]
    return Page[SecurityEventRead].of(items, total, limit=page.limit, offset=page.offset)


@router.get("/stations/{station_id}/status-history")
async def status_history(
    station_id: str,
    operator: CurrentOperator,
    db: Db,
    page: PageParams,
    evse_id: Annotated[int | None, Query(ge=0)] = None,
    connector_id: Annotated[int | None, Query(ge=0)] = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
) -> Page[StatusIntervalRead]:
    """Status intervals of the station's connectors (evse 0 / connector 0: the station)."""
    found, total = await db.read(
        lambda s: stations.station_status_history(
            s,
            station_id,
            evse_id=evse_id,
            connector_id=connector_id,
            since=as_utc(since) if since else None,
            until=as_utc(until) if until else None,
            limit=page.limit,
            offset=page.offset,
        )
    )
    items = [StatusIntervalRead.model_validate(i) for i in found]
    return Page[StatusIntervalRead].of(items, total, limit=page.limit, offset=page.offset)


@router.get("/stations/{station_id}/boots")
async def boots(
    station_id: str, operator: CurrentOperator, db: Db, page: PageParams
) -> Page[BootRead]:
    """The station's BootNotifications and Joule's answers, newest first."""
    found, total = await db.read(
        lambda s: stations.station_boots(s, station_id, limit=page.limit, offset=page.offset)
    )
    items = [BootRead.model_validate(b) for b in found]
    return Page[BootRead].of(items, total, limit=page.limit, offset=page.offset)


@router.get("/stations/{station_id}/data-transfers")
async def data_transfers(
    station_id: str, operator: CurrentOperator, db: Db, page: PageParams
) -> Page[DataTransferRead]:
    """The station's DataTransfer exchanges (data capped at 64 KiB), newest first."""
    found, total = await db.read(
        lambda s: stations.station_data_transfers(
            s, station_id, limit=page.limit, offset=page.offset
        )
    )
    items = [DataTransferRead.model_validate(d) for d in found]
    return Page[DataTransferRead].of(items, total, limit=page.limit, offset=page.offset)


@router.get("/stations/{station_id}/commands")
async def commands(
    station_id: str,
    operator: CurrentOperator,
    db: Db,
    page: PageParams,
    action: str | None = None,
) -> Page[CommandRecordRead]:
    """The audit log of commands sent (or attempted) to the station, newest first."""
    found, total = await db.read(
        lambda s: commands_of(s, station_id, action=action, limit=page.limit, offset=page.offset)
    )
    items = [CommandRecordRead.model_validate(c) for c in found]
    return Page[CommandRecordRead].of(items, total, limit=page.limit, offset=page.offset)
