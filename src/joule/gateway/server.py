"""The OCPP endpoint: upgrade checks, one StationConnection per station, keepalive, drain."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from joule.config import Settings, UnknownStationPolicy
from joule.gateway.auth import (
    CredentialCache,
    FailureThrottle,
    RedactCredentials,
    certificate_cn,
    check_credentials,
    tls_server_context,
)
from joule.gateway.connection import StationConnection
from joule.gateway.handshake import (
    HandshakeError,
    Negotiated,
    pick_subprotocol,
    station_id_from_path,
)
from joule.gateway.ports import CallSink, FrameObserver, StationAccess, StationDirectory
from joule.kit.clock import Clock, SystemClock
from joule.kit.errors import StationOffline
from joule.kit.logging import bind_station
from joule.ocpp import validation
from joule.ocpp.versions import OcppVersion

log = logging.getLogger(__name__)

_LISTEN_BACKLOG = 2048

# How long a replaced (probably half-open) socket gets to answer our close frame.
_RETIRE_TIMEOUT_S = 2.0

# The WebSocket library logs request headers at DEBUG; never let it log a station's Basic
# credentials (A01.FR.09: the CSMS never logs passwords).
_wire_log = logging.getLogger("joule.gateway.websockets")
_wire_log.addFilter(RedactCredentials())


@dataclass(slots=True)
class _Admitted:
    station_id: str
    negotiated: Negotiated
    access: StationAccess
    security_profile: int
    certificate_cn: str | None = None  # SP3: the verified client certificate's CN


class StationSocket(ServerConnection):
    """A server connection that carries what the upgrade decided, and counts peers per IP."""

    admitted: _Admitted | None = None
    gateway: Gateway | None = None
    peer_ip: str | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        peer = transport.get_extra_info("peername")
        self.peer_ip = str(peer[0]) if peer else None
        gateway = self.gateway
        if gateway is not None and not gateway.admit_peer(self.peer_ip):
            # Scenario 26(c): cap sockets per IP, counted from TCP accept (half-open ones too).
            # A refused socket took no slot, so its connection_lost must not free one.
            self.gateway = None
            assert isinstance(transport, asyncio.Transport)
            transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        gateway = self.gateway
        if gateway is not None:
            gateway.release_peer(self.peer_ip)
            self.gateway = None
        super().connection_lost(exc)


class Gateway:
    """Holds station sockets on this node; also the CommandSender for stations it holds."""

    def __init__(
        self,
        settings: Settings,
        *,
        directory: StationDirectory,
        sink: CallSink,
        observer: FrameObserver,
        reuse_port: bool = False,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.directory = directory
        self.sink = sink
        self.observer = observer
        # `joule serve --workers N`: every worker listens on the same port (SO_REUSEPORT) and
        # the kernel spreads new connections over them.
        self.reuse_port = reuse_port
        self.connections: dict[str, StationConnection] = {}
        self._servers: list[Server] = []
        self._credentials = CredentialCache()
        self._throttle = FailureThrottle(
            settings.auth_failures_before_throttle, settings.auth_throttle_window_s
        )
        self._peers: Counter[str] = Counter()
        self._sweeper: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.ports: dict[str, int] = {}
        self._faults = frozenset(
            (when.strip(), action.strip())
            for item in (settings.fault_injection or "").split(",")
            if ":" in item
            for when, action in [item.split(":", 1)]
        )

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the plain listener (and the TLS one when configured)."""
        for version in OcppVersion:
            validation.warm_up(version)
        s = self.settings
        self._servers.append(await self._listen(s.ocpp_port, None))
        self.ports["ws"] = self._bound_port(self._servers[-1])
        tls = self._tls_context()
        if tls is not None and s.ocpp_tls_port is not None:
            self._servers.append(await self._listen(s.ocpp_tls_port, tls))
            self.ports["wss"] = self._bound_port(self._servers[-1])
            log.info(
                "OCPP wss:// listener on port %d (client certificates %s)",
                self.ports["wss"],
                "verified: profile 3 available" if s.tls_client_ca_file else "not requested",
            )
        elif (tls is not None) != (s.ocpp_tls_port is not None):
            # Half a TLS configuration would silently leave SP2/SP3 stations without a listener.
            log.warning(
                "no wss:// listener: set ocpp_tls_port, tls_cert_file and tls_key_file together"
            )
        self._sweeper = asyncio.create_task(self._sweep(), name="gateway-sweeper")

    async def _listen(self, port: int, tls: ssl.SSLContext | None) -> Server:
        gateway = self

        class _Socket(StationSocket):
            pass

        _Socket.gateway = gateway
        return await serve(
            self._handle,
            self.settings.host,
            port,
            ssl=tls,
            process_request=self._process_request,
            select_subprotocol=self._select_subprotocol,
            create_connection=_Socket,
            max_size=self.settings.max_frame_bytes,
            # Keepalive is ours (one sweeper for all sockets, Q4), not a task per connection.
            ping_interval=None,
            ping_timeout=None,
            open_timeout=self.settings.handshake_timeout_s,
            compression=None,
            max_queue=4,
            # A reconnect storm has up to 1 000 handshakes in flight (T7, T8): asyncio's default
            # backlog of 100 drops SYNs beyond it and each dropped connect waits the kernel's 1 s
            # retransmit. The kernel caps this at net.core.somaxconn.
            backlog=_LISTEN_BACKLOG,
            reuse_port=self.reuse_port or None,
            server_header="Joule",
            logger=_wire_log,
        )

    @staticmethod
    def _bound_port(server: Server) -> int:
        for sock in server.sockets:
            return int(sock.getsockname()[1])
        raise RuntimeError("listener has no socket")

    def _tls_context(self) -> ssl.SSLContext | None:
        s = self.settings
        if s.tls_cert_file is None or s.tls_key_file is None:
            return None
        return tls_server_context(
            s.tls_cert_file, s.tls_key_file, s.tls_client_ca_file, on_refused=self._tls_refused
        )

    def _tls_refused(self, reason: str) -> None:
        # A00.FR.407/408: log InvalidChargingStationCertificate (and TLS version/cipher refusals).
        # The handshake fails inside the TLS layer, before any HTTP: neither the station id nor
        # the peer address is known there, so the audit row carries the reason alone.
        log.warning("refused TLS handshake: %s", reason)
        self._spawn(self.directory.audit(None, remote=None, outcome="refused", reason=reason))

    async def drain(self, timeout: float = 10.0) -> None:
        """SIGTERM: stop accepting, finish in-flight messages, close with 1001 (contract)."""
        for server in self._servers:
            server.close(close_connections=False)
        for conn in self.connections.values():
            conn.draining = True
        deadline = time.monotonic() + timeout
        while any(c.in_flight for c in self.connections.values()) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.gather(
            *(c.socket.close(1001, "CSMS shutting down") for c in list(self.connections.values())),
            return_exceptions=True,
        )
        for server in self._servers:
            server.close(close_connections=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.wait_closed(), timeout)
        if self._sweeper is not None:
            self._sweeper.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- per-IP accounting ---------------------------------------------------------------

    def admit_peer(self, ip: str | None) -> bool:
        """Count a new TCP connection from `ip`; False when it exceeds the per-IP cap."""
        if ip is None:
            return True
        cap = self.settings.max_connections_per_ip
        if cap and self._peers[ip] >= cap:
            log.warning("refusing connection from %s: per-IP cap %d reached", ip, cap)
            return False
        self._peers[ip] += 1
        return True

    def release_peer(self, ip: str | None) -> None:
        """Forget one TCP connection from `ip`."""
        if ip is not None and self._peers[ip] > 0:
            self._peers[ip] -= 1
            if not self._peers[ip]:
                del self._peers[ip]

    # -- upgrade ---------------------------------------------------------------------------

    async def _process_request(self, ws: ServerConnection, request: Request) -> Response | None:
        assert isinstance(ws, StationSocket)
        remote = ws.peer_ip
        station_id: str | None = None
        try:
            station_id = station_id_from_path(request.path)
            bind_station(station_id)  # this task serves the connection: every line carries it
            if self._throttle.blocked(f"id:{station_id}", f"ip:{remote}"):
                raise HandshakeError(429, "too many failed attempts; try later")
            access = await self.directory.lookup(station_id)
            if access is None:
                policy = self.settings.unknown_stations
                if policy is UnknownStationPolicy.REJECT:
                    raise HandshakeError(404, "unknown station")  # J16 §3.2
                access = await self.directory.register_unknown(
                    station_id, accept=policy is UnknownStationPolicy.ACCEPT
                )
            if access.registration == "rejected" and access.boot_status is None:
                raise HandshakeError(404, "station is rejected")
            negotiated = pick_subprotocol(
                request.headers.get_all("Sec-WebSocket-Protocol"), access.assume_subprotocol
            )
            ssl_object = ws.transport.get_extra_info("ssl_object")
            profile = await check_credentials(
                access,
                authorization=request.headers.get("Authorization"),
                ssl_object=ssl_object,
                cache=self._credentials,
            )
        except HandshakeError as exc:
            if exc.status in (401, 403):
                self._throttle.fail(f"id:{station_id}", f"ip:{remote}")
            log.warning(
                "refused station %s from %s: %s %s", station_id, remote, exc.status, exc.reason
            )
            self._spawn(
                self.directory.audit(
                    station_id, remote=remote, outcome="refused", reason=exc.reason
                )
            )
            response = ws.respond(exc.status, exc.reason + "\n")
            if exc.status == 401:
                response.headers["WWW-Authenticate"] = 'Basic realm="Joule OCPP", charset="UTF-8"'
            return response
        cn = certificate_cn(ssl_object) if profile == 3 else None
        ws.admitted = _Admitted(station_id, negotiated, access, profile, cn)
        return None

    def _select_subprotocol(self, ws: ServerConnection, offered: Any) -> Subprotocol | None:
        assert isinstance(ws, StationSocket)
        admitted = ws.admitted
        if admitted is None or not admitted.negotiated.offered_token:
            return None  # Q1: nothing offered, per-station assumed version, no header echoed
        return Subprotocol(admitted.negotiated.offered_token)

    # -- connection ------------------------------------------------------------------------

    async def _handle(self, ws: ServerConnection) -> None:
        assert isinstance(ws, StationSocket) and ws.admitted is not None
        # websockets keeps our select_subprotocol, bound in a closure over the connection, on
        # the protocol for the connection's whole life: a cycle (connection → protocol → closure
        # → connection) that only the cyclic collector frees, ~50 objects per closed socket
        # carried through every GC generation — 5–8 % of a boot storm's CPU (T7). The
        # handshake is over: drop it, and a closed connection is freed by reference counting.
        vars(ws.protocol).pop("select_subprotocol", None)
        a = ws.admitted
        previous = self.connections.get(a.station_id)
        if previous is not None:
            # Reconnected while the old socket lingers (half-open TCP): the new one wins at once.
            # A dead peer never answers the close frame, so retiring the old socket must not
            # delay the new one (scenario 1, J16 §5.4: the station resumes without a reboot).
            self._spawn(self._retire(previous))
        lenient = a.access.lenient
        conn = StationConnection(
            station_id=a.station_id,
            version=a.negotiated.version,
            socket=ws,
            access=a.access,
            security_profile=a.security_profile,
            sink=self.sink,
            observer=self.observer,
            lenient=(not self.settings.strict_extra_properties) if lenient is None else lenient,
            faults=self._faults,
            certificate_cn=a.certificate_cn,
            clock=self.clock,
        )
        self.connections[a.station_id] = conn
        log.info(
            "station %s connected (%s, profile %d) from %s",
            a.station_id,
            a.negotiated.version.subprotocol,
            a.security_profile,
            ws.peer_ip,
        )
        try:
            await self.directory.connected(
                a.station_id,
                ocpp_version=a.negotiated.version.value,
                security_profile=a.security_profile,
            )
        except Exception:
            log.exception("station %s: could not record the connection", a.station_id)
        try:
            await conn.run()
            if conn.refusal is not None:
                self._spawn(
                    self.directory.audit(
                        a.station_id, remote=ws.peer_ip, outcome="refused", reason=conn.refusal
                    )
                )
        finally:
            if self.connections.get(a.station_id) is conn:
                del self.connections[a.station_id]
                try:
                    await self.directory.disconnected(a.station_id)
                except Exception:
                    log.exception("station %s: could not record the disconnection", a.station_id)
            log.info("station %s disconnected (code %s)", a.station_id, ws.close_code)

    async def _retire(self, conn: StationConnection) -> None:
        """Close a replaced connection; abort it when the peer does not finish the handshake."""
        try:
            await asyncio.wait_for(
                conn.socket.close(1000, "replaced by a new connection"), _RETIRE_TIMEOUT_S
            )
        except TimeoutError:
            conn.socket.transport.abort()

    # -- keepalive -------------------------------------------------------------------------

    async def _sweep(self) -> None:
        s = self.settings
        periods = [s.first_message_timeout_s]
        if s.ping_interval_s:
            periods.append(s.ping_interval_s)
        period = min(max(min(periods) / 4, 0.05), 5.0)
        pinging: set[str] = set()
        while True:
            await asyncio.sleep(period)
            now = time.monotonic()
            for conn in list(self.connections.values()):
                if conn.closed:
                    continue
                if conn.frames_in == 0 and now - conn.connected_at > s.first_message_timeout_s:
                    # Scenario 26(b): a socket that never speaks is closed after a deadline.
                    self._spawn(
                        conn.socket.close(1008, "no message within the first-message deadline")
                    )
                    continue
                if not s.ping_interval_s:
                    continue
                idle = now - conn.last_frame_at
                dead_after = s.ping_interval_s + (s.ping_timeout_s or 0)
                if s.ping_timeout_s and idle >= dead_after:
                    # Neither frames nor pongs for too long: dead TCP (scenario 43).
                    self._spawn(conn.socket.close(1011, "keepalive timeout"))
                elif idle >= s.ping_interval_s and conn.station_id not in pinging:
                    pinging.add(conn.station_id)
                    self._spawn(self._ping(conn, pinging))

    async def _ping(self, conn: StationConnection, pinging: set[str]) -> None:
        try:
            waiter = await conn.socket.ping()
            timeout = self.settings.ping_timeout_s or self.settings.ping_interval_s or 60.0
            await asyncio.wait_for(waiter, timeout)
            conn.last_frame_at = time.monotonic()  # a pong proves the link is alive
        except Exception:
            pass  # Q4: a missing pong alone never drops a station that still talks
        finally:
            pinging.discard(conn.station_id)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- CommandSender ---------------------------------------------------------------------

    def is_connected(self, station_id: str) -> bool:
        """True when this node holds an open socket for the station."""
        conn = self.connections.get(station_id)
        return conn is not None and not conn.closed

    def version_of(self, station_id: str) -> OcppVersion | None:
        """The OCPP version the station speaks on its current connection."""
        conn = self.connections.get(station_id)
        return conn.version if conn is not None else None

    async def call(
        self,
        station_id: str,
        action: str,
        payload: dict[str, Any],
        *,
        timeout: float,
        message_id: str,
    ) -> dict[str, Any]:
        """Send a CALL to a station held here and return its answer."""
        conn = self.connections.get(station_id)
        if conn is None or conn.closed:
            raise StationOffline(f"station {station_id} is not connected")
        validation.validate_outbound(conn.version, action, "request", payload)
        return await conn.call(action, payload, timeout=timeout, message_id=message_id)
