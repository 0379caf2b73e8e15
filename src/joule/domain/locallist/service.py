"""Keeping stations' local authorization lists in step with who may charge there (issue 5).

One sync of one station: read what it holds (LocalListEntry, as last confirmed), the target list
(eligibility.local_list_entries) and its limits; send a Differential update when the station's
confirmed version is ours, else a Full one (1.6 §5.15, 2.0.1 D01); store the entries and the
version in one unit of work once the station accepted; ClearCache when an id it accepted is
withdrawn (its authorization cache may still accept it: 1.6 §5.4, 2.0.1 C11).
GetLocalListVersion reconciles (1.6 §5.10, 2.0.1 D02): a version other than ours → Full update.

Nothing is sent from inside a unit of work (the committer may re-run those); syncs of one
station never overlap (a lock per station).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from joule.bus.port import CommandSender
from joule.domain.locallist import limits as station_limits
from joule.domain.locallist.plan import (
    DIFFERENTIAL,
    FULL,
    Change,
    Entry,
    Message,
    UpdateType,
    apply,
    diff,
    fit,
    key,
    plan,
    request_payload,
    withdrawn,
)
from joule.kit.clock import Clock
from joule.kit.errors import NotFound, StationCallError, StationOffline, StationTimeout
from joule.kit.ids import new_message_id
from joule.ocpp.versions import OcppVersion
from joule.storage.committer import GroupCommitter
from joule.storage.models import LocalListEntry
from joule.storage.repositories import command_log, listing
from joule.storage.repositories import local_list as repo
from joule.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

Payload = dict[str, Any]

# LocalListState.status
IN_SYNC = "in_sync"
PENDING = "pending"
FAILED = "failed"
UNSUPPORTED = "unsupported"

# Who the command log names for the syncs Joule starts on its own.
SYSTEM_ACTOR = "joule:local-list"


class TargetEntry(Protocol):
    """An entry of the target list (eligibility.LocalEntry)."""

    @property
    def uid(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def expiry(self) -> datetime | None: ...
    @property
    def group_id(self) -> str | None: ...


TargetSource = Callable[[AsyncSession, str, datetime], Awaitable[Sequence[TargetEntry]]]


@dataclass(frozen=True, slots=True)
class SyncResult:
    """What one sync did."""

    station_id: str
    status: str  # in_sync | pending (offline) | failed | unsupported
    version: int  # the version the station confirmed
    update_type: UpdateType | None = None  # None: nothing had to be sent
    messages: int = 0
    entries: int = 0
    left_out: int = 0
    cache_cleared: bool = False
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ListView:
    """A station's list as the API shows it."""

    station_id: str
    status: str
    version: int
    target_version: int
    entries: int
    last_error: str | None
    synced_at: datetime | None


def _utc(at: datetime | None) -> datetime | None:
    """SQLite hands timestamps back naive (they are stored in UTC): compare like with like."""
    if at is None:
        return None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _entry(item: TargetEntry | LocalListEntry) -> Entry:
    if isinstance(item, LocalListEntry):
        return Entry(item.uid, item.token_type, item.status, _utc(item.expiry), item.group_id)
    return Entry(item.uid, item.type, item.status, _utc(item.expiry), item.group_id)


@dataclass
class _Snapshot:
    """What a sync reads before it sends anything."""

    version: OcppVersion | None
    status: str
    confirmed: int
    next_version: int
    held: dict[str, Entry]
    target: list[Entry]
    group_types: dict[str, str]
    known: station_limits.Known


def _not_implemented(error: Exception) -> bool:
    """A CALLERROR saying the station does not do this at all (no point asking again)."""
    return isinstance(error, StationCallError) and error.code in ("NotImplemented", "NotSupported")


def _version(value: str | None) -> OcppVersion | None:
    try:
        return OcppVersion(value) if value is not None else None
    except ValueError:
        return None


async def list_view(session: AsyncSession, station_id: str) -> ListView:
    """The station's list state (never synced: version 0, pending); NotFound for no station."""
    if await listing.get_station(session, station_id) is None:
        raise NotFound(f"station {station_id} not found")
    state = await repo.get_state(session, station_id)
    count = await repo.count_entries(session, station_id)
    if state is None:
        return ListView(station_id, PENDING, 0, 0, count, None, None)
    return ListView(
        station_id=station_id,
        status=state.status,
        version=state.version,
        target_version=state.target_version,
        entries=count,
        last_error=state.last_error,
        synced_at=_utc(state.synced_at),
    )


@dataclass
class LocalListService:
    """Pushes local authorization lists to stations and reconciles their versions."""

    committer: GroupCommitter
    sender: CommandSender
    clock: Clock
    source: TargetSource
    timeout_s: float = 30.0
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    def _lock(self, station_id: str) -> asyncio.Lock:
        return self._locks.setdefault(station_id, asyncio.Lock())

    # -- public verbs ---------------------------------------------------------------------------

    async def sync(
        self, station_id: str, *, full: bool = False, actor: str = SYSTEM_ACTOR
    ) -> SyncResult:
        """Bring the station's list to the target now (Full when `full` or out of step)."""
        async with self._lock(station_id):
            return await self._sync(station_id, full=full, actor=actor)

    async def sync_now(self, station_id: str, *, actor: str) -> SyncResult:
        """An operator's sync: limits asked again, GetLocalListVersion, then the update needed.

        NotFound for an unknown station, StationOffline when it is not connected.
        """

        async def exists(uow: UnitOfWork) -> bool:
            return await listing.get_station(uow.session, station_id) is not None

        if not await self.committer.read(exists):
            raise NotFound(f"station {station_id} not found")
        if not self.sender.is_connected(station_id):
            raise StationOffline(f"station {station_id} is not connected")
        return await self.reconcile(station_id, rediscover=True, actor=actor)

    async def reconcile(
        self, station_id: str, *, rediscover: bool = False, actor: str = SYSTEM_ACTOR
    ) -> SyncResult:
        """GetLocalListVersion, then sync: Full when the station's version is not the one Joule
        confirmed (1.6 §5.10, 2.0.1 D02), Differential (or nothing) when it is.

        `rediscover` (after a boot) asks the station for its limits and support again.
        """
        async with self._lock(station_id):
            snapshot = await self._read(station_id, target=False)
            if snapshot.version is None or not self.sender.is_connected(station_id):
                return SyncResult(station_id, PENDING, snapshot.confirmed)
            if snapshot.status == UNSUPPORTED and not rediscover:
                return SyncResult(station_id, UNSUPPORTED, snapshot.confirmed)
            if rediscover:
                try:
                    known = await self._discover(station_id, snapshot.version, actor)
                except (StationOffline, StationTimeout) as error:
                    return await self._finish_failed(station_id, snapshot.confirmed, str(error))
                if known.unsupported is not None:
                    return await self._finish_unsupported(
                        station_id, snapshot.confirmed, known.unsupported
                    )
            try:
                answer = await self._call(
                    station_id, snapshot.version, "GetLocalListVersion", {}, actor
                )
            except (StationOffline, StationTimeout, StationCallError) as error:
                if _not_implemented(error):  # a station without the message has no list
                    return await self._finish_unsupported(
                        station_id, snapshot.confirmed, f"GetLocalListVersion: {error}"
                    )
                return await self._finish_failed(station_id, snapshot.confirmed, str(error))
            reported = answer.get("listVersion", answer.get("versionNumber"))
            if snapshot.version is OcppVersion.V16 and reported == -1:
                # C16 §5.10: -1 = the station has no (enabled) local list.
                return await self._finish_unsupported(
                    station_id, snapshot.confirmed, "GetLocalListVersion answered -1"
                )
            full = reported != snapshot.confirmed
            if full:
                log.info(
                    "local list of %s: station has version %s, Joule confirmed %s: full update",
                    station_id,
                    reported,
                    snapshot.confirmed,
                )
            return await self._sync(station_id, full=full, actor=actor, rediscovered=rediscover)

    # -- one sync -------------------------------------------------------------------------------

    async def _read(self, station_id: str, *, target: bool = True) -> _Snapshot:
        """The station's version and list state, and (target=True) what it holds and should
        hold; reconcile asks without the target, which is the costly part."""
        now = self.clock.now()

        async def work(uow: UnitOfWork) -> _Snapshot:
            session = uow.session
            state = await repo.sync_state(session, station_id)
            if state is None:
                raise NotFound(f"station {station_id} not found")
            # Only an accepted station is sent CALLs of ours (B02/B03: not while Pending or
            # Rejected; 1.6 §4.2 likewise).
            accepted = state.boot_status == "Accepted" and state.registration == "accepted"
            version = _version(state.ocpp_version) if accepted else None
            snapshot = _Snapshot(
                version=version,
                status=state.status or PENDING,
                confirmed=state.version,
                next_version=max(state.version, state.target_version) + 1,
                held={},
                target=[],
                group_types={},
                known=station_limits.Known.unknown(),
            )
            if not target or version is None:
                return snapshot
            snapshot.held = {
                key(row.uid): _entry(row) for row in await repo.held_entries(session, station_id)
            }
            snapshot.target = [_entry(item) for item in await self.source(session, station_id, now)]
            groups = {e.group_id for e in snapshot.target if e.group_id} | {
                e.group_id for e in snapshot.held.values() if e.group_id
            }
            snapshot.group_types = await repo.token_types(session, groups)
            snapshot.known = await station_limits.stored(session, station_id, version)
            return snapshot

        # Without the target it is one row by key: inline on SQLite, no thread hop (issue 3).
        return await self.committer.read(work, quick=not target)

    async def _sync(
        self, station_id: str, *, full: bool, actor: str, rediscovered: bool = False
    ) -> SyncResult:
        # A station away is reconciled when it comes back: no target computed for it now.
        snapshot = await self._read(station_id, target=self.sender.is_connected(station_id))
        version = snapshot.version
        if version is None or not self.sender.is_connected(station_id):
            # Reconciled when it (re)connects: GetLocalListVersion then the update it needs.
            return SyncResult(station_id, PENDING, snapshot.confirmed)
        if snapshot.status == UNSUPPORTED and not rediscovered:
            # Asked again only when it boots or an operator syncs it: no retry storm.
            return SyncResult(station_id, UNSUPPORTED, snapshot.confirmed)
        known = snapshot.known
        if not known.complete and not rediscovered:
            try:
                known = await self._discover(station_id, version, actor)
            except (StationOffline, StationTimeout) as error:
                return await self._finish_failed(station_id, snapshot.confirmed, str(error))
        if known.unsupported is not None:
            return await self._finish_unsupported(station_id, snapshot.confirmed, known.unsupported)
        limits = known.limits
        fitted = fit(snapshot.target, version, limits)
        in_step = snapshot.status == IN_SYNC and snapshot.confirmed > 0
        update_type: UpdateType = DIFFERENTIAL if in_step and not full else FULL
        if update_type == DIFFERENTIAL:
            changes = diff(snapshot.held, fitted.entries)
            if not changes:
                return SyncResult(
                    station_id,
                    IN_SYNC,
                    snapshot.confirmed,
                    entries=len(snapshot.held),
                    left_out=fitted.left_out,
                )
        else:
            changes = [Change(e.uid, e) for _, e in sorted(fitted.entries.items())]
        messages = plan(
            version,
            update_type=update_type,
            changes=changes,
            next_version=snapshot.next_version,
            limits=limits,
            group_types=snapshot.group_types,
        )
        await self._reserve(station_id, messages[-1].version)
        result = await self._send(station_id, version, snapshot, messages, fitted.left_out, actor)
        if result.error == "VersionMismatch" and update_type == DIFFERENTIAL:
            # The station's list is not the one Joule thinks: replace it (1.6 §5.15, D01).
            log.info("local list of %s: VersionMismatch on a differential update", station_id)
            return await self._sync(station_id, full=True, actor=actor, rediscovered=True)
        gone = withdrawn(snapshot.held, fitted.entries)
        if gone and result.status != UNSUPPORTED:
            cleared = await self._clear_cache(station_id, version, gone, actor)
            result = replace(result, cache_cleared=cleared)
        return result

    async def _reserve(self, station_id: str, target_version: int) -> None:
        """Record the version about to be sent before sending it: versions only ever increase,
        even when Joule stops mid-update and the station kept some parts."""
        at = self.clock.now()

        async def work(uow: UnitOfWork) -> None:
            state = await repo.ensure_state(uow.session, station_id, at)
            state.target_version = max(state.target_version, target_version)
            state.updated_at = at

        await self.committer.run(work)

    async def _send(
        self,
        station_id: str,
        version: OcppVersion,
        snapshot: _Snapshot,
        messages: list[Message],
        left_out: int,
        actor: str,
    ) -> SyncResult:
        held = dict(snapshot.held)
        confirmed = snapshot.confirmed
        error: str | None = None
        status = IN_SYNC
        sent = 0
        for message in messages:
            payload = request_payload(version, message, snapshot.group_types)
            try:
                answer = await self._call(station_id, version, "SendLocalList", payload, actor)
            except (StationOffline, StationTimeout, StationCallError) as failure:
                if _not_implemented(failure):
                    status, error = UNSUPPORTED, f"SendLocalList: {failure}"
                else:
                    status, error = FAILED, f"SendLocalList: {failure}"
                break
            sent += 1
            answered = answer.get("status")
            if answered == "Accepted":
                held = apply(held, message)
                confirmed = message.version
                continue
            status = UNSUPPORTED if answered == "NotSupported" else FAILED
            error = str(answered)
            break
        if status == IN_SYNC and left_out:
            error = f"{left_out} entries did not fit the station's list and were left out"
        await self._store(station_id, held, confirmed, status, error)
        return SyncResult(
            station_id,
            status,
            confirmed,
            update_type=messages[0].update_type,
            messages=sent,
            entries=len(held),
            left_out=left_out,
            error=error,
        )

    async def _store(
        self,
        station_id: str,
        held: Mapping[str, Entry],
        confirmed: int,
        status: str,
        error: str | None,
    ) -> None:
        """What the station now holds and the version it confirmed, in one unit of work."""
        at = self.clock.now()

        async def work(uow: UnitOfWork) -> None:
            state = await repo.ensure_state(uow.session, station_id, at)
            await repo.replace_entries(
                uow.session,
                station_id,
                (
                    LocalListEntry(
                        station_id=station_id,
                        uid=entry.uid,
                        token_type=entry.type,
                        status=entry.status,
                        expiry=entry.expiry,
                        group_id=entry.group_id,
                    )
                    for entry in held.values()
                ),
            )
            state.version = confirmed
            state.target_version = max(state.target_version, confirmed)
            state.status = status
            state.last_error = error[:500] if error else None
            state.updated_at = at
            if status == IN_SYNC:
                state.synced_at = at

        await self.committer.run(work)

    async def _finish_failed(self, station_id: str, confirmed: int, error: str) -> SyncResult:
        await self._mark(station_id, FAILED, error)
        return SyncResult(station_id, FAILED, confirmed, error=error)

    async def _finish_unsupported(self, station_id: str, confirmed: int, why: str) -> SyncResult:
        # Not retried until the station boots again (no retry storm at a station without a list).
        await self._mark(station_id, UNSUPPORTED, why)
        return SyncResult(station_id, UNSUPPORTED, confirmed, error=why)

    async def _mark(self, station_id: str, status: str, error: str) -> None:
        at = self.clock.now()

        async def work(uow: UnitOfWork) -> None:
            state = await repo.ensure_state(uow.session, station_id, at)
            state.status = status
            state.last_error = error[:500]
            state.updated_at = at

        await self.committer.run(work)

    async def _clear_cache(
        self, station_id: str, version: OcppVersion, gone: list[str], actor: str
    ) -> bool:
        log.info("local list of %s: %d ids withdrawn, clearing the cache", station_id, len(gone))
        try:
            answer = await self._call(station_id, version, "ClearCache", {}, actor)
        except (StationOffline, StationTimeout, StationCallError) as error:
            log.warning("ClearCache at %s failed: %s", station_id, error)
            return False
        return answer.get("status") == "Accepted"

    async def _discover(
        self, station_id: str, version: OcppVersion, actor: str
    ) -> station_limits.Known:
        """Ask the station for its list limits and support; keep the answers as its variables."""
        action, payload = station_limits.query(version)
        try:
            answer = await self._call(station_id, version, action, payload, actor)
        except StationCallError as error:  # it does not say: go on without limits
            log.info("could not read the local list limits of %s: %s", station_id, error)
            return station_limits.Known.unknown()
        # StationOffline / StationTimeout propagate: a station that does not answer now will
        # not answer the list either (no second wait for nothing).
        rows = station_limits.from_answer(version, answer)
        at = self.clock.now()

        async def work(uow: UnitOfWork) -> station_limits.Known:
            await station_limits.keep(uow.session, station_id, rows, at)
            return await station_limits.stored(uow.session, station_id, version)

        return await self.committer.run(work)

    async def _call(
        self, station_id: str, version: OcppVersion, action: str, payload: Payload, actor: str
    ) -> Payload:
        """One CALL to the station, appended to the command log whatever its outcome."""
        message_id = new_message_id()
        outcome, response = "answered", None
        try:
            response = await self.sender.call(
                station_id, action, payload, timeout=self.timeout_s, message_id=message_id
            )
            return response
        except StationOffline:
            outcome = "offline"
            raise
        except StationTimeout:
            outcome = "timeout"
            raise
        except StationCallError as error:
            outcome = "callerror"
            response = {"code": error.code, "description": error.description}
            raise
        finally:
            await self._audit(station_id, actor, action, message_id, payload, outcome, response)

    async def _audit(
        self,
        station_id: str,
        actor: str,
        action: str,
        message_id: str,
        payload: Payload,
        outcome: str,
        response: Payload | None,
    ) -> None:
        at = self.clock.now()

        async def work(uow: UnitOfWork) -> None:
            command_log.append_command(
                uow.session,
                station_id=station_id,
                operator=actor,
                action=action,
                message_id=message_id,
                request=payload,
                outcome=outcome,
                response=response,
                at=at,
            )

        try:
            await self.committer.run(work)
        except Exception:  # the station already acted; the outcome is still in the logs
            log.exception("could not record %s to %s", action, station_id)
