"""Station registry verbs: register, change, look up and list stations and their histories."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from joule.domain.access.scope import Scope, station_condition, station_owner
from joule.domain.audit import record
from joule.domain.operator.rules import may_change
from joule.domain.registry.rules import (
    UNSET,
    Registration,
    Unset,
    check_security_profile,
    check_station_id,
    check_station_password,
    check_subprotocol,
    check_timezone,
    default_security_profile,
)
from joule.kit.errors import Conflict, Invalid, NotFound
from joule.kit.passwords import hash_password
from joule.storage.models import (
    BootRecord,
    Connector,
    DataTransferRecord,
    MessageLogEntry,
    SecurityEvent,
    Station,
    StatusInterval,
)
from joule.storage.repositories import listing


@dataclass(frozen=True, slots=True)
class StationView:
    """A station with its connectors, as operators see it."""

    station: Station
    connectors: list[Connector]


@dataclass(frozen=True, slots=True)
class StationDraft:
    """A checked new station, its password already hashed: ready to insert."""

    station_id: str
    password_hash: str | None
    security_profile: int
    registration: Registration
    site_id: str | None
    timezone: str | None
    assume_subprotocol: str | None
    lenient: bool | None


@dataclass(frozen=True, slots=True)
class StationChanges:
    """Checked changes to a station; UNSET fields stay as they are."""

    registration: Registration | Unset = UNSET
    password_hash: str | Unset | None = UNSET
    security_profile: int | Unset = UNSET
    site_id: str | Unset | None = UNSET
    timezone: str | Unset | None = UNSET
    assume_subprotocol: str | Unset | None = UNSET
    lenient: bool | Unset | None = UNSET


def _parse_registration(value: str) -> Registration:
    try:
        return Registration(value)
    except ValueError:
        allowed = ", ".join(r.value for r in Registration)
        raise Invalid(f"unknown registration {value!r} (one of {allowed})") from None


async def _hash(password: str) -> str:
    # Argon2 costs tens of milliseconds: keep it off the event loop and out of the writer.
    check_station_password(password)
    return await asyncio.to_thread(hash_password, password)


async def draft_station(
    *,
    station_id: str,
    password: str | None = None,
    security_profile: int | None = None,
    registration: str = Registration.ACCEPTED,
    site_id: str | None = None,
    timezone: str | None = None,
    assume_subprotocol: str | None = None,
    lenient: bool | None = None,
) -> StationDraft:
    """Check a new station's fields and hash its password (no database work)."""
    check_station_id(station_id)
    profile = (
        default_security_profile(password is not None)
        if security_profile is None
        else security_profile
    )
    check_security_profile(profile, has_password=password is not None)
    if timezone is not None:
        check_timezone(timezone)
    if assume_subprotocol is not None:
        check_subprotocol(assume_subprotocol)
    return StationDraft(
        station_id=station_id,
        password_hash=await _hash(password) if password is not None else None,
        security_profile=profile,
        registration=_parse_registration(registration),
        site_id=site_id,
        timezone=timezone,
        assume_subprotocol=assume_subprotocol,
        lenient=lenient,
    )


def vars_of(changes: StationChanges) -> dict[str, object]:
    """The fields a change sets (UNSET ones left out), for the audit log."""
    return {
        name: getattr(changes, name)
        for name in StationChanges.__dataclass_fields__
        if not isinstance(getattr(changes, name), Unset)
    }


async def station_owner_id(session: AsyncSession, station: Station) -> str | None:
    """The station's effective organisation (its site's when it has one)."""
    owner = await station_owner(session, station.id)
    return None if owner is None else owner.organisation_id


async def _existing(session: AsyncSession, station_id: str) -> Station:
    station = await listing.get_station(session, station_id)
    if station is None:
        raise NotFound(f"station {station_id} does not exist")
    return station


async def _check_site(
    session: AsyncSession, site_id: str | None, scope: Scope | None = None
) -> None:
    if site_id is None:
        return
    site = await listing.get_site(session, site_id)
    # A site outside the caller's scope, or one it may only view, reads as absent (issue 5).
    if site is None or (
        scope is not None
        and not may_change(
            scope.role_at(organisation_id=site.organisation_id, site_id=site.id) or "viewer"
        )
    ):
        raise Invalid(f"site {site_id} does not exist")


def placement_organisation(scope: Scope, organisation_id: str | None) -> str | None:
    """The organisation a new object of this caller belongs to (default: the caller's own)."""
    target = scope.organisation_id if organisation_id is None else organisation_id
    if (target is None and not scope.is_root) or not scope.sees_organisation(target):
        raise NotFound(f"organisation {target} not found")
    return target


async def register_station(
    session: AsyncSession,
    draft: StationDraft,
    *,
    at: datetime,
    scope: Scope | None = None,
    organisation_id: str | None = None,
) -> StationView:
    """Insert a station (owned by `organisation_id`, on a site of the scope); audited."""
    if await listing.get_station(session, draft.station_id) is not None:
        raise Conflict(f"station {draft.station_id} already exists")
    await _check_site(session, draft.site_id, scope)
    owner = organisation_id if scope is None else placement_organisation(scope, organisation_id)
    station = Station(
        id=draft.station_id,
        site_id=draft.site_id,
        organisation_id=owner,
        registration=draft.registration.value,
        password_hash=draft.password_hash,
        security_profile=draft.security_profile,
        min_security_profile=0,
        timezone=draft.timezone,
        assume_subprotocol=draft.assume_subprotocol,
        lenient=draft.lenient,
        online=False,
        quirks={},
        created_at=at,
    )
    await listing.add_station(session, station)
    if scope is not None:
        record(
            session,
            actor=scope.actor,
            actor_type=scope.actor_type,
            organisation_id=owner,
            action="station.create",
            object_type="station",
            object_id=station.id,
            changes={
                "site_id": draft.site_id,
                "registration": draft.registration.value,
                "security_profile": draft.security_profile,
                "has_password": draft.password_hash is not None,
            },
            at=at,
        )
    return StationView(station=station, connectors=[])


async def draft_changes(
    *,
    registration: str | Unset = UNSET,
    password: str | Unset | None = UNSET,
    security_profile: int | Unset = UNSET,
    site_id: str | Unset | None = UNSET,
    timezone: str | Unset | None = UNSET,
    assume_subprotocol: str | Unset | None = UNSET,
    lenient: bool | Unset | None = UNSET,
) -> StationChanges:
    """Check each given change on its own and hash a new password (no database work)."""
    if isinstance(timezone, str):
        check_timezone(timezone)
    if isinstance(assume_subprotocol, str):
        check_subprotocol(assume_subprotocol)
    return StationChanges(
        registration=registration
        if isinstance(registration, Unset)
        else _parse_registration(registration),
        password_hash=await _hash(password) if isinstance(password, str) else password,
        security_profile=security_profile,
        site_id=site_id,
        timezone=timezone,
        assume_subprotocol=assume_subprotocol,
        lenient=lenient,
    )


async def update_station(
    session: AsyncSession,
    station_id: str,
    changes: StationChanges,
    *,
    scope: Scope | None = None,
    at: datetime | None = None,
) -> StationView:
    """Apply changes to a station after checking they hold together; audited with a scope."""
    station = await _existing(session, station_id)
    if scope is not None:
        record(
            session,
            actor=scope.actor,
            actor_type=scope.actor_type,
            organisation_id=(await station_owner_id(session, station)),
            action="station.update",
            object_type="station",
            object_id=station.id,
            changes={
                name: (value is not None) if name == "password_hash" else value
                for name, value in vars_of(changes).items()
            },
            at=at,
        )
    password_hash = (
        station.password_hash if isinstance(changes.password_hash, Unset) else changes.password_hash
    )
    profile = (
        station.security_profile
        if isinstance(changes.security_profile, Unset)
        else changes.security_profile
    )
    # Checked on the result, so that "set a password and raise the profile" is one PATCH.
    check_security_profile(
        profile, has_password=password_hash is not None, minimum=station.min_security_profile
    )
    if not isinstance(changes.site_id, Unset):
        await _check_site(session, changes.site_id, scope)
        station.site_id = changes.site_id
    if not isinstance(changes.registration, Unset):
        station.registration = changes.registration.value
    station.password_hash = password_hash
    station.security_profile = profile
    if not isinstance(changes.timezone, Unset):
        station.timezone = changes.timezone
    if not isinstance(changes.assume_subprotocol, Unset):
        station.assume_subprotocol = changes.assume_subprotocol
    if not isinstance(changes.lenient, Unset):
        station.lenient = changes.lenient
    await session.flush()
    connectors = await listing.connectors_of(session, [station.id])
    return StationView(station=station, connectors=connectors[station.id])


async def get_station(session: AsyncSession, station_id: str) -> StationView:
    """The station with its connectors; NotFound when unknown."""
    station = await _existing(session, station_id)
    connectors = await listing.connectors_of(session, [station_id])
    return StationView(station=station, connectors=connectors[station_id])


async def list_stations(
    session: AsyncSession,
    *,
    online: bool | None = None,
    registration: str | None = None,
    site_id: str | None = None,
    ocpp_version: str | None = None,
    limit: int,
    offset: int,
    scope: Scope | None = None,
) -> tuple[list[StationView], int]:
    """A page of stations with their connectors (two queries) and the total count."""
    stations, total = await listing.list_stations(
        session,
        online=online,
        registration=registration,
        site_id=site_id,
        ocpp_version=ocpp_version,
        limit=limit,
        offset=offset,
        visible=None if scope is None else station_condition(scope),
    )
    connectors = await listing.connectors_of(session, [s.id for s in stations])
    return [StationView(station=s, connectors=connectors[s.id]) for s in stations], total


async def station_messages(
    session: AsyncSession, station_id: str, *, action: str | None, limit: int, offset: int
) -> tuple[list[MessageLogEntry], int]:
    """A page of the station's OCPP message log, newest first."""
    await _existing(session, station_id)
    return await listing.message_log(session, station_id, action=action, limit=limit, offset=offset)


async def station_security_events(
    session: AsyncSession, station_id: str, *, critical: bool | None, limit: int, offset: int
) -> tuple[list[SecurityEvent], int]:
    """A page of the station's security events (A04), newest first."""
    await _existing(session, station_id)
    return await listing.security_events(
        session, station_id, critical=critical, limit=limit, offset=offset
    )


async def station_status_history(
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
    """A page of the station's status intervals, newest first."""
    await _existing(session, station_id)
    return await listing.status_history(
        session,
        station_id,
        evse_id=evse_id,
        connector_id=connector_id,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )


async def station_boots(
    session: AsyncSession, station_id: str, *, limit: int, offset: int
) -> tuple[list[BootRecord], int]:
    """A page of the station's BootNotifications, newest first."""
    await _existing(session, station_id)
    return await listing.boot_records(session, station_id, limit=limit, offset=offset)


async def station_data_transfers(
    session: AsyncSession, station_id: str, *, limit: int, offset: int
) -> tuple[list[DataTransferRecord], int]:
    """A page of the station's DataTransfer exchanges (data size-capped), newest first."""
    await _existing(session, station_id)
    return await listing.data_transfers(session, station_id, limit=limit, offset=offset)
