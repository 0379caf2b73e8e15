"""Composition root: build and run the parts of Joule a role needs, with their adapters."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import secrets
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine

from joule.api.app import create_app
from joule.api.deps import ApiServices
from joule.bus.memory import MemoryBus
from joule.bus.port import CommandSender
from joule.config import Role, Settings
from joule.domain import handlers_index
from joule.domain.activity import ActivityRecorder
from joule.domain.authorization.hook import auth_hook
from joule.domain.dispatcher import Dispatcher
from joule.domain.events import StationConnected, StationDisconnected
from joule.domain.operator import service as operators
from joule.domain.station import service as stations
from joule.gateway.ports import StationAccess
from joule.gateway.server import Gateway
from joule.kit.clock import Clock, SystemClock
from joule.runtime_locallists import LocalLists
from joule.runtime_monitoring import Monitoring, connected_count
from joule.storage import migrate
from joule.storage.committer import GroupCommitter
from joule.storage.db import create_engine, session_factory, sqlite_path
from joule.storage.models import Setting
from joule.storage.repositories.activity import reset_presence
from joule.storage.sqlite_checkpoint import WalCheckpointer
from joule.storage.uow import UnitOfWork
from joule.web.mount import close_live

log = logging.getLogger(__name__)

assert handlers_index.LOADED  # every inbound handler module is registered


class _EmbeddedHttpServer(uvicorn.Server):
    """uvicorn without its own signal handling: `joule serve` owns SIGTERM and drains everything."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class StartupError(Exception):
    """Joule cannot start with this configuration; the message says why."""


def _to_gateway(access: stations.StationAccess) -> StationAccess:
    return StationAccess(
        station_id=access.station_id,
        registration=access.registration,
        password_hash=access.password_hash,
        security_profile=access.security_profile,
        min_security_profile=access.min_security_profile,
        boot_status=access.boot_status,
        timezone=access.timezone,
        assume_subprotocol=access.assume_subprotocol,
        lenient=access.lenient,
    )


# Station ids per lookup query: a storm's lookups share queries of at most this many keys.
LOOKUP_BATCH = 500


@dataclass
class StationDirectoryAdapter:
    """The gateway's StationDirectory port, served by the station domain through the committer."""

    committer: GroupCommitter
    clock: Clock
    node: str
    # Lookups waiting for the next query, by station id (T8: one read serves a storm's connects).
    _waiting: dict[str, list[asyncio.Future[StationAccess | None]]] = field(
        default_factory=dict, init=False, repr=False
    )
    _reader: asyncio.Task[None] | None = field(default=None, init=False, repr=False)

    async def lookup(self, station_id: str) -> StationAccess | None:
        """The station's access record; lookups made while one query runs share the next."""
        future: asyncio.Future[StationAccess | None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(station_id, []).append(future)
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read_waiting(), name="station-lookups")
        return await future

    async def _read_waiting(self) -> None:
        while self._waiting:
            await asyncio.sleep(0)  # let the connects of this loop iteration join
            waiting = dict(itertools.islice(self._waiting.items(), LOOKUP_BATCH))
            for station_id in waiting:
                del self._waiting[station_id]
            try:
                found = await self._read(list(waiting))
            except Exception as error:
                for futures in waiting.values():
                    for future in futures:
                        if not future.done():
                            future.set_exception(error)
                continue
            for station_id, futures in waiting.items():
                access = found.get(station_id)
                answer = _to_gateway(access) if access is not None else None
                for future in futures:
                    if not future.done():  # a handshake that timed out gave up waiting
                        future.set_result(answer)

    async def _read(self, station_ids: list[str]) -> dict[str, stations.StationAccess]:
        async def work(uow: UnitOfWork) -> dict[str, stations.StationAccess]:
            return await stations.get_accesses(uow.session, station_ids)

        # A few rows by key: inline on SQLite, so a reconnect storm never queues on threads.
        return await self.committer.read(work, quick=True)

    async def register_unknown(self, station_id: str, *, accept: bool) -> StationAccess:
        at = self.clock.now()

        async def work(uow: UnitOfWork) -> stations.StationAccess:
            return await stations.register_unknown(uow, station_id=station_id, accept=accept, at=at)

        preload = stations.register_preload(station_id)
        return _to_gateway(await self.committer.run(work, preload=preload))

    async def connected(self, station_id: str, *, ocpp_version: str, security_profile: int) -> None:
        at = self.clock.now()

        async def work(uow: UnitOfWork) -> None:
            stations.queue_connected(
                uow,
                station_id=station_id,
                ocpp_version=ocpp_version,
                node=self.node,
                security_profile=security_profile,
                at=at,
            )
            # Published after commit: the dashboard's live pages and the alert rules follow it.
            uow.emit(StationConnected(station_id=station_id, ocpp_version=ocpp_version, at=at))

        # A storm's connects: one executemany UPDATE per batch, no row loaded, no flush (T8).
        await self.committer.run(work)

    async def disconnected(self, station_id: str) -> None:
        at = self.clock.now()

        async def work(uow: UnitOfWork) -> None:
            await stations.write_connected(uow)  # a connect earlier in this batch comes first
            if await stations.mark_disconnected(
                uow.session, station_id=station_id, at=at, node=self.node
            ):  # not when a newer socket already holds the station (it is still online)
                uow.emit(StationDisconnected(station_id=station_id, at=at))

        await self.committer.run(work)

    async def audit(
        self, station_id: str | None, *, remote: str | None, outcome: str, reason: str
    ) -> None:
        at = self.clock.now()

        async def work(uow: UnitOfWork) -> None:
            await stations.record_connection_audit(
                uow.session,
                station_id=station_id,
                remote=remote,
                outcome=outcome,
                reason=reason,
                at=at,
            )

        await self.committer.run(work)


async def _jwt_secret(committer: GroupCommitter, configured: str | None) -> str:
    """The configured secret, else one generated once and kept in the database."""
    if configured:
        return configured

    async def work(uow: UnitOfWork) -> str:
        row = await uow.session.get(Setting, "jwt_secret")
        if row is None:
            row = Setting(key="jwt_secret", value=secrets.token_urlsafe(48))
            uow.session.add(row)
        return row.value

    return await committer.run(work)


def _reuse_port_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound with SO_REUSEPORT, for a port several worker processes share."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


@dataclass
class Joule:
    """A running Joule process (role `all` by default)."""

    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    node: str = field(default_factory=socket.gethostname)
    engine: AsyncEngine | None = None
    checkpointer: WalCheckpointer | None = None  # SQLite only
    committer: GroupCommitter | None = None
    bus: MemoryBus | None = None
    gateway: Gateway | None = None
    activity: ActivityRecorder | None = None
    monitoring: Monitoring | None = None
    local_lists: LocalLists | None = None
    http_server: uvicorn.Server | None = None
    http_port: int | None = None
    _http_task: asyncio.Task[Any] | None = None
    stopped: asyncio.Event = field(default_factory=asyncio.Event)
    # `--workers N` (cluster.py): share the ports with sibling processes, and send API commands
    # for stations held by a sibling through the relay.
    reuse_port: bool = False
    command_relay: Callable[[CommandSender], CommandSender] | None = None

    @property
    def ocpp_port(self) -> int | None:
        """The bound plain OCPP port (useful with port 0)."""
        return self.gateway.ports.get("ws") if self.gateway else None

    async def start(self) -> None:
        """Migrate (or refuse), then start storage, core, gateway and API for the role."""
        s = self.settings
        if s.role not in (Role.ALL,):
            raise StartupError(
                f"--role {s.role.value} needs the multi-node bus, not built yet; use --role all"
            )
        if s.auto_migrate:
            await asyncio.to_thread(migrate.upgrade, s.database_url)
        elif await asyncio.to_thread(migrate.pending, s.database_url):
            raise StartupError("the database needs migrations: run `joule db upgrade` first")
        stations.configure(heartbeat_interval_s=s.heartbeat_interval_s, pending_interval_s=30)
        self.engine = create_engine(s.database_url, sqlite_busy_timeout_ms=s.sqlite_busy_timeout_ms)
        database_file = sqlite_path(self.engine)
        if database_file is not None:
            self.checkpointer = WalCheckpointer(database_file)
            await self.checkpointer.start()
        self.bus = MemoryBus()
        bus = self.bus

        async def published(events: list[object]) -> None:
            for event in events:
                await bus.publish(event)

        self.committer = GroupCommitter(
            session_factory(self.engine),
            max_batch=s.commit_max_batch,
            on_committed=published,
            retries=s.commit_retries,
        )
        await self.committer.start()
        committer = self.committer
        now = self.clock.now()

        async def boot_work(uow: UnitOfWork) -> None:
            await reset_presence(uow.session, self.node, now)
            if s.admin_email and s.admin_password:
                await operators.ensure_admin(uow.session, s.admin_email, s.admin_password, now)

        await committer.run(boot_work)
        self.bus.bind_dispatcher(Dispatcher(committer, self.clock, before=auth_hook(s, committer)))
        self.activity = ActivityRecorder(
            committer,
            self.clock,
            touch_last_seen=stations.touch_last_seen,
            log_limit=s.message_log_limit,
        )
        await self.activity.start()
        # Monitoring (issue 4): metered ports around the gateway, alerts, delivery, bulk jobs.
        self.monitoring = monitoring = Monitoring(s, self.clock, committer)
        self.gateway = Gateway(
            s,
            directory=StationDirectoryAdapter(committer, self.clock, self.node),
            sink=monitoring.metered_sink(self.bus),
            observer=monitoring.metered_observer(self.activity),
            reuse_port=self.reuse_port,
            clock=self.clock,
        )
        await self.gateway.start()
        secret = await _jwt_secret(committer, s.jwt_secret)
        commands = monitoring.metered_sender(
            self.command_relay(self.gateway) if self.command_relay else self.gateway
        )
        app = create_app(
            ApiServices(
                committer=committer,
                commands=commands,
                settings=s,
                clock=self.clock,
                jwt_secret=secret,
                events=self.bus,
            )
        )
        await monitoring.start(app, self.bus, connected=connected_count(self.gateway))
        # Local authorization lists (issue 5): synced on access changes, (re)connects and boots.
        self.local_lists = LocalLists(s, self.clock, committer, commands, node=self.node)
        await self.local_lists.start(app, self.bus)
        config = uvicorn.Config(
            app,
            host=s.host,
            port=s.http_port,
            log_level="warning",
            access_log=False,
            lifespan="on",
            log_config=None,  # uvicorn's lines go through the root handler (kit/logging.py)
        )
        self.http_server = _EmbeddedHttpServer(config)
        # With sibling workers the HTTP port is shared too: uvicorn gets a SO_REUSEPORT socket.
        sockets = [_reuse_port_socket(s.host, s.http_port)] if self.reuse_port else None
        self._http_task = asyncio.create_task(self.http_server.serve(sockets), name="http")
        while not self.http_server.started:
            if self._http_task.done():
                self._http_task.result()
                raise StartupError(f"the HTTP server did not start on port {s.http_port}")
            await asyncio.sleep(0.01)
        self.http_port = int(self.http_server.servers[0].sockets[0].getsockname()[1])
        log.info(
            "Joule ready: OCPP ws://%s:%s/ocpp/{station_id}, API http://%s:%s/api/v1",
            s.host,
            self.ocpp_port,
            s.host,
            self.http_port,
        )

    async def stop(self) -> None:
        """Drain: stop accepting, finish in-flight work, close stations with 1001, flush."""
        if self.gateway is not None:
            await self.gateway.drain()
        if self.http_server is not None and self._http_task is not None:
            # Open dashboard streams would hold the server's graceful shutdown open: end them.
            close_live(self.http_server.config.app)
            self.http_server.should_exit = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._http_task, 10)
        if self.local_lists is not None:
            await self.local_lists.stop()
        if self.monitoring is not None:
            await self.monitoring.stop()
        if self.activity is not None:
            await self.activity.stop()
        if self.committer is not None:
            at: datetime = self.clock.now()
            node = self.node

            async def offline(uow: UnitOfWork) -> None:
                await reset_presence(uow.session, node, at)

            with contextlib.suppress(Exception):
                await self.committer.run(offline)
            await self.committer.stop(timeout=30)
        if self.checkpointer is not None:
            await self.checkpointer.stop()
        if self.engine is not None:
            await self.engine.dispose()
        self.stopped.set()
