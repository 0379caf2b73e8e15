"""SQL for local authorization lists: what stations hold, Joule's sync state. Never commits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, case, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from joule.storage.models import (
    DeviceVariable,
    IdToken,
    LocalListEntry,
    LocalListState,
    Site,
    Station,
)


async def get_state(session: AsyncSession, station_id: str) -> LocalListState | None:
    """The station's list state row, if a sync was ever tried."""
    return await session.get(LocalListState, station_id)


@dataclass(frozen=True, slots=True)
class SyncState:
    """What a sync reads first: may the station be sent CALLs, and Joule's list state for it."""

    registration: str
    boot_status: str | None
    ocpp_version: str | None
    version: int  # confirmed by the station; 0 when never synced
    target_version: int
    status: str | None  # None: never synced


_SYNC_STATE = (
    select(
        Station.registration,
        Station.boot_status,
        Station.ocpp_version,
        LocalListState.version,
        LocalListState.target_version,
        LocalListState.status,
    )
    .outerjoin(LocalListState, LocalListState.station_id == Station.id)
    .where(Station.id == bindparam("b_station"))
)


async def sync_state(session: AsyncSession, station_id: str) -> SyncState | None:
    """The station's sync state in one Core query of six columns (no ORM object); None for no
    station. Every reconciliation starts here (issue 3: one per booted station)."""
    connection = await session.connection()
    row = (await connection.execute(_SYNC_STATE, {"b_station": station_id})).first()
    if row is None:
        return None
    registration, boot_status, ocpp_version, version, target_version, status = row
    return SyncState(
        registration=registration,
        boot_status=boot_status,
        ocpp_version=ocpp_version,
        version=version or 0,
        target_version=target_version or 0,
        status=status,
    )


async def ensure_state(session: AsyncSession, station_id: str, at: datetime) -> LocalListState:
    """The station's list state row, added (version 0, pending) when missing."""
    state = await session.get(LocalListState, station_id)
    if state is None:
        state = LocalListState(
            station_id=station_id, version=0, target_version=0, status="pending", updated_at=at
        )
        session.add(state)
        await session.flush()
    return state


async def held_entries(session: AsyncSession, station_id: str) -> list[LocalListEntry]:
    """The entries the station holds, as last confirmed."""
    rows = await session.scalars(
        select(LocalListEntry)
        .where(LocalListEntry.station_id == station_id)
        .order_by(LocalListEntry.uid)
    )
    return list(rows)


async def count_entries(session: AsyncSession, station_id: str) -> int:
    """How many entries the station holds, as last confirmed."""
    count = await session.scalar(
        select(func.count())
        .select_from(LocalListEntry)
        .where(LocalListEntry.station_id == station_id)
    )
    return int(count or 0)


async def replace_entries(
    session: AsyncSession, station_id: str, entries: Iterable[LocalListEntry]
) -> None:
    """Replace what the station holds with `entries` (in the caller's unit of work)."""
    await session.execute(delete(LocalListEntry).where(LocalListEntry.station_id == station_id))
    session.add_all(list(entries))


async def variable_values(
    session: AsyncSession, station_id: str, names: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], str | None]:
    """Stored Actual values of (component, variable) pairs; 1.6 keys have component ''."""
    wanted = set(names)
    rows = await session.execute(
        select(DeviceVariable.component, DeviceVariable.variable, DeviceVariable.value).where(
            DeviceVariable.station_id == station_id,
            DeviceVariable.attribute_type == "Actual",
            DeviceVariable.variable.in_({variable for _, variable in wanted}),
        )
    )
    return {(c, v): value for c, v, value in rows if (c, v) in wanted}


async def token_types(session: AsyncSession, uids: Iterable[str]) -> dict[str, str]:
    """Stored types of the given ids, keyed by lower-case uid (for 2.0.1 groupIdToken)."""
    wanted = sorted({uid for uid in uids if uid})
    if not wanted:
        return {}
    rows = await session.execute(select(IdToken.uid, IdToken.type).where(IdToken.uid.in_(wanted)))
    return {uid.lower(): type_ for uid, type_ in rows}


@dataclass(frozen=True, slots=True)
class StationPresence:
    """An accepted station's owning organisation and where it is connected."""

    station_id: str
    organisation_id: str | None  # the site's organisation when it has a site, else its own
    online: bool
    node: str | None  # the Joule process holding its socket


async def station_presence(session: AsyncSession) -> list[StationPresence]:
    """Every accepted station: owner, online, node."""
    rows = await session.execute(
        select(
            Station.id,
            case(
                (Station.site_id.is_not(None), Site.organisation_id),
                else_=Station.organisation_id,
            ),
            Station.online,
            Station.connected_node,
        )
        .outerjoin(Site, Site.id == Station.site_id)
        .where(Station.registration == "accepted")
        .order_by(Station.id)
    )
    return [
        StationPresence(station_id, org, bool(online), node)
        for station_id, org, online, node in rows
    ]
