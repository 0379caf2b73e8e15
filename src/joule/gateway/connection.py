"""One connection object per station: sequential inbound CALLs, one outstanding CSMS CALL."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from joule.bus.envelopes import StationCall
from joule.gateway.auth import boot_identity_mismatch
from joule.gateway.ports import CallSink, FrameObserver, StationAccess
from joule.kit.clock import Clock, SystemClock
from joule.kit.errors import StationCallError, StationOffline, StationTimeout
from joule.kit.logging import bind_message, unbind_message
from joule.ocpp import validation
from joule.ocpp.errors import ErrorKind, OcppError, error_code
from joule.ocpp.frames import (
    Call,
    CallError,
    CallResult,
    FrameError,
    IgnoredFrame,
    Send,
    decode_frame,
    encode_call,
    encode_error,
    encode_result,
)
from joule.ocpp.inbound import InboundRequest, accept_request, accept_send
from joule.ocpp.versions import OcppVersion

log = logging.getLogger(__name__)

# B01.FR.10 / B02.FR.09 / B03.FR.07: before the boot is Accepted only BootNotification is allowed.
_BOOT = "BootNotification"


class StationConnection:
    """The live session of one station on this gateway."""

    def __init__(
        self,
        *,
        station_id: str,
        version: OcppVersion,
        socket: ServerConnection,
        access: StationAccess,
        security_profile: int,
        sink: CallSink,
        observer: FrameObserver,
        lenient: bool,
        on_boot_status: Callable[[str, str], None] | None = None,
        faults: frozenset[tuple[str, str]] = frozenset(),
        certificate_cn: str | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.station_id = station_id
        # Joule's one clock (kit/clock): received_at drives authorization windows, budgets and
        # stored times, so it must be the same clock the domain and the tests move.
        self._clock: Clock = clock or SystemClock()
        self.version = version
        self.socket = socket
        self.security_profile = security_profile
        self.timezone = access.timezone
        self.boot_status = access.boot_status
        self.registration = access.registration
        self.lenient = lenient
        self._sink = sink
        self._observer = observer
        self._on_boot_status = on_boot_status
        self._faults = faults
        self._certificate_cn = certificate_cn  # SP3 only: the CN the TLS layer verified
        self.refusal: str | None = None  # why Joule closed the socket on the station, if it did
        self._call_lock = asyncio.Lock()  # at most one outstanding CSMS CALL (J16/P4 §4.1.1)
        self._pending: tuple[str, asyncio.Future[dict[str, Any]]] | None = None
        self.connected_at = time.monotonic()
        self.last_frame_at = self.connected_at
        self.frames_in = 0
        self.in_flight = 0
        self.draining = False
        self.closed = False

    # -- inbound ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Read frames until the socket closes; CALLs are handled one at a time, in order (T11)."""
        try:
            async for message in self.socket:
                self.last_frame_at = time.monotonic()
                self.frames_in += 1
                if self.draining:
                    continue  # SIGTERM: not acknowledged, so the station resends after reconnect
                if isinstance(message, bytes):
                    # Scenario 29: OCPP-J uses text frames only (J16 §4.1.2); refuse binary.
                    await self.socket.close(1003, "OCPP-J requires text frames")
                    return
                await self._on_text(message)
        except ConnectionClosed:
            pass
        finally:
            self.closed = True
            self._fail_pending(StationOffline(f"station {self.station_id} disconnected"))

    async def _on_text(self, text: str) -> None:
        try:
            frame = decode_frame(self.version, text)
        except IgnoredFrame:
            self._observe("in", 0, "-1", None, text)
            return  # J16 §4.1.3: unknown message type ids are ignored in 1.6
        except FrameError as exc:
            self._observe("in", 0, exc.message_id, None, text)
            if exc.answerable:
                await self._send_error(exc.message_id, exc.kind, exc.description, {})
            else:
                # A broken answer to our CALL: there is nothing to answer; fail the waiting command.
                log.warning(
                    "station %s: unreadable answer %s: %s",
                    self.station_id,
                    exc.message_id,
                    exc.description,
                )
                self._fail_pending(
                    StationCallError("FormatViolation", exc.description), exc.message_id
                )
            return
        if isinstance(frame, Send):
            # OCPP 2.1 SEND: no answer of any kind is allowed, errors are only logged.
            self._observe("in", 6, frame.message_id, frame.action, text)
            await self._on_send(frame)
        elif isinstance(frame, Call):
            self._observe("in", 2, frame.message_id, frame.action, text)
            self.in_flight += 1
            bound = bind_message(frame.message_id, frame.action)
            try:
                await self._on_call(frame)
            finally:
                self.in_flight -= 1
                unbind_message(bound)
        elif isinstance(frame, CallResult):
            self._observe("in", 3, frame.message_id, None, text)
            self._resolve(frame.message_id, frame.payload, None)
        else:
            self._observe("in", 4, frame.message_id, None, text)
            self._resolve(frame.message_id, None, frame)

    def _envelope(self, request: InboundRequest) -> StationCall:
        applied = request.quirks
        if request.stripped:
            # A strict station only gets here with a transaction message (scenario 27): kept
            # rather than lost, but said loudly, as the operator asked for strictness.
            log.log(
                logging.WARNING if self.lenient else logging.ERROR,
                "station %s: stripped unknown properties %s from %s%s",
                self.station_id,
                list(request.stripped),
                request.action,
                "" if self.lenient else " (strict mode: transaction data is never refused)",
            )
            applied = (*applied, "extra_properties")
        return StationCall(
            station_id=self.station_id,
            version=self.version,
            message_id=request.message_id,
            action=request.action,
            payload=request.payload,
            received_at=self._clock.now(),
            station_timezone=self.timezone,
            quirks=applied,
        )

    async def _on_send(self, send: Send) -> None:
        try:
            if self._boot_gate_closed():
                raise OcppError(ErrorKind.SECURITY, "SEND before BootNotification was accepted")
            request = accept_send(self.version, send, lenient=self.lenient)
            await self._sink.dispatch(self._envelope(request))
        except Exception as exc:
            log.warning("station %s: SEND %s dropped: %s", self.station_id, send.action, exc)

    async def _on_call(self, call: Call) -> None:
        try:
            if call.action != _BOOT and self._boot_gate_closed():
                raise OcppError(
                    ErrorKind.SECURITY,
                    f"{call.action} before BootNotification was accepted (B01.FR.10)",
                )
            request = accept_request(self.version, call, lenient=self.lenient)
            if call.action == _BOOT and await self._boot_contradicts_certificate(request):
                return
            if self._fault("abort_before_dispatch", call.action):
                return
            response = await self._sink.dispatch(self._envelope(request))
            if self._fault("abort_after_commit", call.action):
                return
            validation.validate_outbound(self.version, call.action, "response", response)
        except OcppError as exc:
            await self._send_error(call.message_id, exc.kind, exc.description, exc.details)
            return
        except Exception:
            # Our failure: InternalError makes the station retry (C16 §3.7.1), nothing is lost.
            log.exception("station %s: %s %s failed", self.station_id, call.action, call.message_id)
            await self._send_error(call.message_id, ErrorKind.INTERNAL, "internal error", {})
            return
        if call.action == _BOOT:
            self._note_boot_status(str(response.get("status")))
        text = encode_result(call.message_id, response)
        # A repaired frame (a tolerated quirk) is always logged whole (ADR 0019).
        self._observe("out", 3, call.message_id, call.action, text, request.repaired)
        await self._send(text)

    async def _boot_contradicts_certificate(self, request: InboundRequest) -> bool:
        """SP3: close the socket when the boot claims a serial other than the certificate CN."""
        if self._certificate_cn is None:
            return False
        reason = boot_identity_mismatch(self.version, request.payload, self._certificate_cn)
        if reason is None:
            return False
        # B01.FR.11/12, A00.FR.407/408: terminate and log InvalidChargingStationCertificate. We
        # close without answering: the boot never reaches the core, so nothing an impostor claims
        # is stored, and no BootNotification status (not even Rejected) is granted to it.
        log.warning("station %s: %s; closing", self.station_id, reason)
        self.refusal = reason
        await self.socket.close(1008, "serial number does not match the client certificate")
        return True

    def _fault(self, when: str, action: str) -> bool:
        """Test-only fault injection: abort the socket as if the CSMS died at this point."""
        if (when, action) in self._faults:
            log.warning(
                "fault injection: %s %s — aborting station %s", when, action, self.station_id
            )
            self.socket.transport.abort()
            return True
        return False

    def _boot_gate_closed(self) -> bool:
        if self.boot_status in ("Pending", "Rejected"):
            return True
        # A station never booted that is not yet approved may only boot (unknown-stations=pending).
        return self.boot_status is None and self.registration != "accepted"

    def _note_boot_status(self, status: str) -> None:
        self.boot_status = status
        if status == "Accepted":
            self.registration = "accepted"
        if self._on_boot_status is not None:
            self._on_boot_status(self.station_id, status)

    # -- outbound --------------------------------------------------------------------------

    async def call(
        self, action: str, payload: dict[str, Any], *, timeout: float, message_id: str
    ) -> dict[str, Any]:
        """Send a CSMS CALL and await the answer; queued behind any outstanding CALL."""
        if self.boot_status == "Rejected":
            # B03.FR.03: the CSMS SHALL NOT initiate messages to a Rejected station.
            raise StationOffline(f"station {self.station_id} was Rejected at boot")
        async with self._call_lock:
            if self.closed:
                raise StationOffline(f"station {self.station_id} disconnected")
            future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            self._pending = (message_id, future)
            text = encode_call(message_id, action, payload)
            self._observe("out", 2, message_id, action, text)
            try:
                await self._send(text)
                return await asyncio.wait_for(future, timeout)
            except TimeoutError:
                raise StationTimeout(
                    f"station {self.station_id} did not answer {action} within {timeout:g} s"
                ) from None
            except ConnectionClosed:
                raise StationOffline(f"station {self.station_id} disconnected") from None
            finally:
                self._pending = None

    def _resolve(
        self, message_id: str, payload: dict[str, Any] | None, error: CallError | None
    ) -> None:
        pending = self._pending
        if pending is None or pending[0] != message_id or pending[1].done():
            log.info(
                "station %s: answer to unknown or late CALL %s ignored", self.station_id, message_id
            )
            return
        future = pending[1]
        if error is not None:
            future.set_exception(
                StationCallError(error.error_code, error.description, error.details)
            )
        else:
            future.set_result(payload or {})

    def _fail_pending(self, exc: Exception, message_id: str | None = None) -> None:
        pending = self._pending
        if pending is None or pending[1].done():
            return
        if message_id is None or message_id in (pending[0], "-1"):
            pending[1].set_exception(exc)

    # -- plumbing --------------------------------------------------------------------------

    async def _send_error(
        self, message_id: str, kind: ErrorKind, description: str, details: dict[str, Any]
    ) -> None:
        text = encode_error(self.version, message_id, kind, description, details)
        code = error_code(self.version, kind)
        log.info("CALLERROR %s: %s", code, description, extra={"message_id": message_id})
        self._observe("out", 4, message_id, None, text)
        await self._send(text)

    async def _send(self, text: str) -> None:
        try:
            await self.socket.send(text)
        except ConnectionClosed:
            log.info("station %s: socket closed before a frame could be sent", self.station_id)

    def _observe(
        self,
        direction: str,
        mtype: int,
        message_id: str,
        action: str | None,
        text: str,
        repaired: bool = False,
    ) -> None:
        if log.isEnabledFor(logging.DEBUG):  # checked first: no dict per frame otherwise
            extra = {"message_id": message_id, "action": action}
            log.debug("%s frame, type %d", direction, mtype, extra=extra)
        try:
            self._observer.frame(
                self.station_id, direction, mtype, message_id, action, text, repaired
            )
        except Exception:
            log.exception("frame observer failed")
