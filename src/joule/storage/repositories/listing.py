"""Registry SQL: stations and sites with their connectors and histories, listed and paged."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from joule.kit.errors import Conflict
from joule.storage.models import (
    BootRecord,
    Connector,
    DataTransferRecord,
    MessageLogEntry,
    SecurityEvent,
    Site,
    Station,
    StatusInterval,
)

T = TypeVar("T")


async def page(
    session: AsyncSession, query: Select[T], *, limit: int, offset: int
) -> tuple[list[T], int]:
    """Run an ordered query for one page and count every row it matches."""
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    result = await session.execute(query.limit(limit).offset(offset))
    return list(result.scalars()), int(total or 0)


async def get_station(session: AsyncSession, station_id: str) -> Station | None:
    """The station with this id, or None."""
    return await session.get(Station, station_id)


async def add_station(session: AsyncSession, station: Station) -> Station:
    """Insert a station and flush; an id that is taken raises Conflict."""
    session.add(station)
    try:
        await session.flush()
    except IntegrityError as exc:
        # Another writer registered the id between our check and the insert (multi-node).
        raise Conflict(f"station {station.id} already exists") from exc
    return station


async def list_stations(
    session: AsyncSession,
    *,
    online: bool | None = None,
    registration: str | None = None,
    site_id: str | None = None,
    ocpp_version: str | None = None,
    limit: int,
    offset: int,
    visible: ColumnElement[bool] | None = None,
) -> tuple[list[Station], int]:
    """A page of stations ordered by id, filtered on the given fields."""
    query = select(Station).order_by(Station.id)
    if visible is not None:  # the caller's scope, as a condition (storage knows no rules)
        query = query.where(visible)
    if online is not None:
        query = query.where(Station.online.is_(online))
    if registration is not None:
        query = query.where(Station.registration == registration)
    if site_id is not None:
        query = query.where(Station.site_id == site_id)
    if ocpp_version is not None:
        query = query.where(Station.ocpp_version == ocpp_version)
    return await page(session, query, limit=limit, offset=offset)


async def connectors_of(
    session: AsyncSession, station_ids: Sequence[str]
) -> dict[str, list[Connector]]:
    """The connectors of each station, ordered by EVSE and connector id (one query)."""
    found: dict[str, list[Connector]] = {station_id: [] for station_id in station_ids}
    if not station_ids:
        return found
    result = await session.execute(
        select(Connector)
        .where(Connector.station_id.in_(station_ids))
        .order_by(Connector.station_id, Connector.evse_id, Connector.connector_id)
    )
    for connector in result.scalars():
        found[connector.station_id].append(connector)
    return found


async def message_log(
    session: AsyncSession, station_id: str, *, action: str | None, limit: int, offset: int
) -> tuple[list[MessageLogEntry], int]:
    """A page of a station's OCPP message log, newest first."""
    query = (
        select(MessageLogEntry)
        .where(MessageLogEntry.station_id == station_id)
        .order_by(MessageLogEntry.id.desc())
    )
    if action is not None:
        query = query.where(MessageLogEntry.action == action)
    return await page(session, query, limit=limit, offset=offset)


async def security_events(
    session: AsyncSession, station_id: str, *, critical: bool | None, limit: int, offset: int
) -> tuple[list[SecurityEvent], int]:
    """A page of a station's security events, newest first."""
    query = (
        select(SecurityEvent)
        .where(SecurityEvent.station_id == station_id)
        .order_by(SecurityEvent.timestamp.desc(), SecurityEvent.id.desc())
    )
    if critical is not None:
        query = query.where(SecurityEvent.critical.is_(critical))
    return await page(session, query, limit=limit, offset=offset)


async def status_history(
    session: AsyncSession,
    station_id: str,
    *,
    evse_id: int | None,
    connector_id: int | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
) -> tuple[list[StatusInterval], int]:
    """A page of status intervals of a station, newest first; since/until select overlaps."""
    query = (
        select(StatusInterval)
        .where(StatusInterval.station_id == station_id)
        .order_by(StatusInterval.started_at.desc(), StatusInterval.id.desc())
    )
    if evse_id is not None:
        query = query.where(StatusInterval.evse_id == evse_id)
    if connector_id is not None:
        query = query.where(StatusInterval.connector_id == connector_id)
    if since is not None:
        # An interval still open (ended_at NULL) overlaps any later window.
        query = query.where((StatusInterval.ended_at.is_(None)) | (StatusInterval.ended_at > since))
    if until is not None:
        query = query.where(StatusInterval.started_at < until)
    return await page(session, query, limit=limit, offset=offset)


async def boot_records(
    session: AsyncSession, station_id: str, *, limit: int, offset: int
) -> tuple[list[BootRecord], int]:
    """A page of a station's BootNotifications, newest first."""
    query = (
        select(BootRecord)
        .where(BootRecord.station_id == station_id)
        .order_by(BootRecord.at.desc(), BootRecord.id.desc())
    )
    return await page(session, query, limit=limit, offset=offset)


async def data_transfers(
    session: AsyncSession, station_id: str, *, limit: int, offset: int
) -> tuple[list[DataTransferRecord], int]:
    """A page of a station's DataTransfer exchanges, newest first."""
    query = (
        select(DataTransferRecord)
        .where(DataTransferRecord.station_id == station_id)
        .order_by(DataTransferRecord.at.desc(), DataTransferRecord.id.desc())
    )
    return await page(session, query, limit=limit, offset=offset)


async def get_site(session: AsyncSession, site_id: str) -> Site | None:
    """The site with this id, or None."""
    return await session.get(Site, site_id)


async def add_site(session: AsyncSession, site: Site) -> Site:
    """Insert a site and flush; an id that is taken raises Conflict."""
    session.add(site)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"site {site.id} already exists") from exc
    return site


async def list_sites(
    session: AsyncSession, *, limit: int, offset: int, visible: ColumnElement[bool] | None = None
) -> tuple[list[Site], int]:
    """A page of sites ordered by id (matching `visible` when given)."""
    query = select(Site).order_by(Site.id)
    if visible is not None:
        query = query.where(visible)
    return await page(session, query, limit=limit, offset=offset)
