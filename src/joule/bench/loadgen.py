"""Load-generator worker: one process holding many lean stations, driven by commands over a pipe.

Each station keeps at most one CALL outstanding (the OCPP rule, J16 §4.1.1). Setup steps (boot,
status, start) await their answers; the measured loops are pure callbacks: an answer arrives,
is counted, and the next CALL goes out from the same callback.
"""

from __future__ import annotations

import asyncio
import itertools
import resource
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from urllib.parse import urlsplit

from joule.bench import payloads
from joule.bench.wire import LeanSocket

FrameMaker = Callable[["Station"], bytes]


def raise_fd_limit() -> int:
    """Raise the soft open-files limit to the hard limit (10 000 stations need 10 000 fds)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


# -- commands and results (pickled over the pipe) ----------------------------------------------


@dataclass(frozen=True)
class Connect:
    """Connect stations (≤ `in_flight` at once), then maybe Boot, Status × n, Heartbeat."""

    url: str
    station_ids: list[str]
    in_flight: int
    boot: bool = False
    statuses: int = 0
    heartbeat: bool = False
    timeout_s: float = 60.0
    source_host: str | None = None  # spreads storms over source addresses (ephemeral ports)


@dataclass(frozen=True)
class StartTransactions:
    """Every held station starts a transaction on connector 1 (for MeterValues)."""


@dataclass(frozen=True)
class ClosedLoop:
    """Every station keeps one CALL outstanding; count answers inside [start_at, end_at)."""

    action: str  # Heartbeat | MeterValues
    start_at: float  # time.monotonic() (one clock for every process on the host)
    end_at: float


@dataclass(frozen=True)
class OpenLoop:
    """Send `rate` CALLs/s round-robin over idle stations; record each one's latency."""

    action: str
    rate: float
    start_at: float
    end_at: float


@dataclass(frozen=True)
class CloseAll:
    """Close every held station (closing handshake) and wait for the sockets to go."""


@dataclass(frozen=True)
class Exit:
    """End the worker."""


Command = Connect | StartTransactions | ClosedLoop | OpenLoop | CloseAll | Exit


@dataclass
class Outcome:
    """What a command did in one worker."""

    ok: int = 0
    failed: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    durations: list[float] = field(default_factory=list)  # per station or per message, seconds
    first_at: float = 0.0  # monotonic time of the first and last completion
    last_at: float = 0.0
    missed: int = 0  # open loop: sends skipped because every station was busy


# -- stations --------------------------------------------------------------------------------


class Station:
    """One simulated station on a LeanSocket."""

    __slots__ = (
        "_ids",
        "mode",
        "register_wh",
        "sent_at",
        "socket",
        "station_id",
        "tx_id",
        "waiter",
    )

    def __init__(self, station_id: str) -> None:
        self.station_id = station_id
        self.socket: LeanSocket | None = None
        self.waiter: asyncio.Future[bytes] | None = None
        self.mode: Mode | None = None
        self.sent_at = 0.0
        self.tx_id = 0
        self.register_wh = 0
        self._ids = itertools.count(1)

    def next_id(self) -> str:
        """A fresh message id (unique per connection, J16 §4.1.4)."""
        return str(next(self._ids))

    def send(self, frame: bytes) -> None:
        """Send a CALL (no wait)."""
        assert self.socket is not None
        self.sent_at = time.perf_counter()
        self.socket.send_text(frame)

    async def call(self, frame: bytes, timeout: float) -> bytes:
        """Send a CALL and wait for the answer frame."""
        self.waiter = asyncio.get_running_loop().create_future()
        self.send(frame)
        try:
            return await asyncio.wait_for(self.waiter, timeout)
        finally:
            self.waiter = None

    def on_text(self, frame: bytes) -> None:
        """A frame from the server: the answer to our outstanding CALL (or a server CALL)."""
        kind = payloads.response_kind(frame)
        if kind == 2:
            # A CSMS CALL (local-list reconciliation after a connect, say): bench stations are
            # lean and implement no optional feature, so they answer at once as such a charger
            # does, instead of leaving Joule to wait out its call timeout for every station.
            if self.socket is not None:
                self.socket.send_text(payloads.not_implemented(frame))
            return
        waiter = self.waiter
        if waiter is not None:
            if not waiter.done():
                waiter.set_result(frame)
            return
        mode = self.mode
        if mode is not None:
            mode.on_answer(self, kind)

    def on_closed(self) -> None:
        """The socket went away."""
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionResetError("closed"))
        if self.mode is not None:
            self.mode.on_lost(self)


class Mode:
    """What a station does when an answer arrives during a measured loop."""

    def on_answer(self, station: Station, kind: int) -> None:
        raise NotImplementedError

    def on_lost(self, station: Station) -> None:
        raise NotImplementedError


def _frame_maker(action: str) -> FrameMaker:
    if action == "Heartbeat":
        return lambda st: payloads.heartbeat(st.next_id())

    def meter(st: Station) -> bytes:
        st.register_wh += 10
        return payloads.meter_values(st.next_id(), st.tx_id, st.register_wh)

    if action == "MeterValues":
        return meter
    raise ValueError(f"no frame maker for {action}")


class _Closed(Mode):
    def __init__(self, make: FrameMaker, start_at: float, end_at: float, active: int) -> None:
        self.make = make
        self.start_at = start_at
        self.end_at = end_at
        self.active = active
        self.outcome = Outcome()
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_answer(self, station: Station, kind: int) -> None:
        now = time.monotonic()
        if self.start_at <= now < self.end_at:
            if kind == 3:
                self.outcome.ok += 1
            else:
                self.outcome.failed += 1
        if now < self.end_at:
            station.send(self.make(station))
        else:
            self._retire()

    def on_lost(self, station: Station) -> None:
        self.outcome.errors["connection lost"] = self.outcome.errors.get("connection lost", 0) + 1
        self._retire()

    def _retire(self) -> None:
        self.active -= 1
        if self.active <= 0 and not self.done.done():
            self.done.set_result(None)


class _Open(Mode):
    def __init__(self, start_at: float, end_at: float) -> None:
        self.start_at = start_at
        self.end_at = end_at
        self.busy: set[Station] = set()
        self.outcome = Outcome()

    def on_answer(self, station: Station, kind: int) -> None:
        now = time.perf_counter()
        self.busy.discard(station)
        if self.start_at <= time.monotonic() < self.end_at:
            if kind == 3:
                self.outcome.ok += 1
                self.outcome.durations.append(now - station.sent_at)
            else:
                self.outcome.failed += 1

    def on_lost(self, station: Station) -> None:
        self.busy.discard(station)
        self.outcome.errors["connection lost"] = self.outcome.errors.get("connection lost", 0) + 1


# -- bringing stations up ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    host: str
    port: int
    prefix: str
    local: tuple[str, int] | None

    @classmethod
    def of(cls, command: Connect) -> _Target:
        parts = urlsplit(command.url)
        local = (command.source_host, 0) if command.source_host else None
        return cls(parts.hostname or "127.0.0.1", parts.port or 80, parts.path.rstrip("/"), local)


async def _open_socket(station: Station, target: _Target) -> None:
    def factory() -> LeanSocket:
        sock = LeanSocket(
            host=f"{target.host}:{target.port}",
            path=f"{target.prefix}/{station.station_id}",
            subprotocol=payloads.SUBPROTOCOL,
            on_text=station.on_text,
        )
        sock.closed.add_done_callback(lambda _: station.on_closed())
        station.socket = sock
        return sock

    loop = asyncio.get_running_loop()
    await loop.create_connection(factory, target.host, target.port, local_addr=target.local)
    assert station.socket is not None
    await station.socket.opened


async def _bring_up(station: Station, command: Connect, target: _Target) -> None:
    """Connect one station and run its start-up conversation, each answer awaited."""
    await _open_socket(station, target)
    timeout = command.timeout_s
    if command.boot:
        answer = await station.call(payloads.boot_notification(station.next_id()), timeout)
        status = payloads.result_payload(answer).get("status")
        if status != "Accepted":
            raise RuntimeError(f"BootNotification {status}")
    for connector in range(1, command.statuses + 1):
        frame = payloads.status_notification(station.next_id(), connector)
        _expect_result(await station.call(frame, timeout), "StatusNotification")
    if command.heartbeat:
        frame = payloads.heartbeat(station.next_id())
        _expect_result(await station.call(frame, timeout), "Heartbeat")


def _expect_result(frame: bytes, action: str) -> None:
    if payloads.response_kind(frame) != 3:
        raise RuntimeError(f"{action} answered {frame[:120]!r}")


def _describe(error: BaseException) -> str:
    text = str(error)
    name = type(error).__name__
    return f"{name}: {text[:80]}" if text else name


# -- the worker ------------------------------------------------------------------------------


class Worker:
    """Holds this process's stations and runs commands on them."""

    def __init__(self) -> None:
        self.stations: list[Station] = []

    async def run(self, command: Command) -> Outcome:
        """Run one command to completion."""
        if isinstance(command, Connect):
            return await self._connect(command)
        if isinstance(command, StartTransactions):
            return await self._start_transactions()
        if isinstance(command, ClosedLoop):
            return await self._closed_loop(command)
        if isinstance(command, OpenLoop):
            return await self._open_loop(command)
        if isinstance(command, CloseAll):
            return await self._close_all()
        raise ValueError(f"unknown command {command!r}")

    def _live(self) -> list[Station]:
        return [st for st in self.stations if st.socket is not None and st.socket.is_open]

    async def _connect(self, command: Connect) -> Outcome:
        target = _Target.of(command)
        gate = asyncio.Semaphore(max(1, command.in_flight))
        outcome = Outcome()
        errors: Counter[str] = Counter()

        async def one(station_id: str) -> None:
            station = Station(station_id)
            async with gate:
                started = time.monotonic()
                try:
                    await asyncio.wait_for(_bring_up(station, command, target), command.timeout_s)
                except Exception as error:
                    errors[_describe(error)] += 1
                    if station.socket is not None:
                        station.socket.abort()
                    return
                finished = time.monotonic()
            outcome.ok += 1
            outcome.durations.append(finished - started)
            outcome.first_at = min(outcome.first_at or finished, finished)
            outcome.last_at = max(outcome.last_at, finished)
            self.stations.append(station)

        await asyncio.gather(*(one(sid) for sid in command.station_ids))
        outcome.failed = sum(errors.values())
        outcome.errors = dict(errors)
        return outcome

    async def _start_transactions(self) -> Outcome:
        outcome = Outcome()
        errors: Counter[str] = Counter()

        async def start(station: Station) -> None:
            try:
                frame = payloads.start_transaction(station.next_id(), 0)
                answer = payloads.result_payload(await station.call(frame, 60.0))
                station.tx_id = int(str(answer["transactionId"]))
                outcome.ok += 1
            except Exception as error:
                errors[_describe(error)] += 1

        await asyncio.gather(*(start(st) for st in self._live()))
        outcome.failed = sum(errors.values())
        outcome.errors = dict(errors)
        return outcome

    async def _closed_loop(self, command: ClosedLoop) -> Outcome:
        live = self._live()
        mode = _Closed(_frame_maker(command.action), command.start_at, command.end_at, len(live))
        if not live:
            return mode.outcome
        for station in live:
            station.mode = mode
        for station in live:
            station.send(mode.make(station))
        # After end_at every station only has to receive the answer to its last CALL.
        await asyncio.wait({mode.done}, timeout=max(0.0, command.end_at - time.monotonic()) + 30)
        for station in live:
            station.mode = None
        return mode.outcome

    async def _open_loop(self, command: OpenLoop) -> Outcome:
        live = self._live()
        mode = _Open(command.start_at, command.end_at)
        if not live or command.rate <= 0:
            return mode.outcome
        for station in live:
            station.mode = mode
        make = _frame_maker(command.action)
        ring = itertools.cycle(live)
        began = time.monotonic()
        sent = 0
        while (now := time.monotonic()) < command.end_at:
            due = int((now - began) * command.rate) - sent
            for _ in range(due):
                sent += 1
                idle = _next_idle(ring, mode.busy, len(live))
                if idle is None:
                    mode.outcome.missed += 1
                    continue
                mode.busy.add(idle)
                idle.send(make(idle))
            await asyncio.sleep(0.0005)
        deadline = time.monotonic() + 30
        while mode.busy and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        for station in live:
            station.mode = None
        return mode.outcome

    async def _close_all(self) -> Outcome:
        stations, self.stations = self.stations, []
        for station in stations:
            if station.socket is not None:
                station.socket.close()
        waits = [st.socket.closed for st in stations if st.socket is not None]
        if waits:
            await asyncio.wait(waits, timeout=30)
        return Outcome(ok=len(stations))


def _next_idle(ring: Iterator[Station], busy: set[Station], size: int) -> Station | None:
    for _ in range(size):
        station = next(ring)
        if station not in busy:
            return station
    return None


def worker_main(pipe: Connection) -> None:
    """Entry point of a generator process: run commands from the pipe until Exit."""
    raise_fd_limit()
    asyncio.run(_serve(pipe))


async def _serve(pipe: Connection) -> None:
    worker = Worker()
    loop = asyncio.get_running_loop()
    while True:
        command: Command = await loop.run_in_executor(None, pipe.recv)
        if isinstance(command, Exit):
            await worker.run(CloseAll())
            pipe.send(Outcome())
            return
        try:
            outcome = await worker.run(command)
        except Exception as error:
            outcome = Outcome(failed=1, errors={_describe(error): 1})
        pipe.send(outcome)
