"""`--workers N`: N full Joule processes on one machine, sharing the OCPP and HTTP ports.

One Python process uses one core (performance.md §3, scaling note). Each worker is a complete
role-`all` Joule on the same database; the kernel spreads new connections over the workers'
SO_REUSEPORT listeners. A station's socket lives in exactly one worker, so an operator command
that arrives on another worker's API is relayed: every worker serves a small control socket
(a Unix socket in a private directory), and a worker that does not hold the station asks its
siblings; only the one holding it sends the CALL, the others answer "not here" at once.

The supervisor prepares what must happen once (migrations, the first admin, the shared JWT
secret, clearing the presence a previous run left behind), starts the workers, forwards
SIGTERM/SIGINT to them (each drains: contract) and exits with 0 when they all did.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from joule.bus.port import CommandSender, Payload
from joule.config import Settings
from joule.domain.operator import service as operators
from joule.kit.clock import SystemClock
from joule.kit.errors import StationCallError, StationOffline, StationTimeout
from joule.kit.gc_tuning import tune_for_serving
from joule.runtime import Joule, StartupError, _jwt_secret
from joule.storage import migrate
from joule.storage.committer import GroupCommitter
from joule.storage.db import create_engine, session_factory
from joule.storage.repositories.activity import reset_host_presence
from joule.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

LogSetup = Callable[[str], None]
_MAX_ANSWER = 16 * 1024 * 1024  # a relayed answer (GetConfiguration, reports) can be large
_RELAY_MARGIN_S = 5.0  # on top of the command's own timeout, for the hop itself
_SUPERVISOR_CHECK_S = 1.0


def node_name(index: int) -> str:
    """The node a worker records in station rows (Station.connected_node)."""
    return f"{socket.gethostname()}/w{index}"


# -- the relay between workers ---------------------------------------------------------------


class RelaySender:
    """The API's command sender in a worker: the local gateway, else the sibling holding it."""

    def __init__(self, local: CommandSender, siblings: list[Path]) -> None:
        self._local = local
        self._siblings = siblings

    def is_connected(self, station_id: str) -> bool:
        """Always worth trying: a sibling may hold the socket (call() says StationOffline)."""
        return True

    async def call(
        self, station_id: str, action: str, payload: Payload, *, timeout: float, message_id: str
    ) -> Payload:
        """Send through this worker's gateway, or relay to the sibling that holds the station."""
        if self._local.is_connected(station_id):
            return await self._local.call(
                station_id, action, payload, timeout=timeout, message_id=message_id
            )
        request = {
            "station_id": station_id,
            "action": action,
            "payload": payload,
            "timeout": timeout,
            "message_id": message_id,
        }
        # At most one worker holds the socket: the others answer "offline" at once, so asking
        # all of them together costs one round trip.
        answers = await asyncio.gather(
            *(_ask(path, request, timeout + _RELAY_MARGIN_S) for path in self._siblings)
        )
        for answer in answers:
            if answer.get("kind") != "offline":
                return _unwrap(answer)
        raise StationOffline(f"station {station_id} is not connected")


async def _ask(path: Path, request: dict[str, Any], timeout: float) -> dict[str, Any]:
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_unix_connection(str(path), limit=_MAX_ANSWER)
            try:
                writer.write(orjson.dumps(request) + b"\n")
                await writer.drain()
                line = await reader.readline()
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
    except (OSError, TimeoutError) as error:
        # A sibling that is gone (restarting, stopped) holds no station.
        log.warning("worker control socket %s unreachable: %s", path.name, error)
        return {"kind": "offline"}
    answer: dict[str, Any] = orjson.loads(line) if line else {"kind": "offline"}
    return answer


def _unwrap(answer: dict[str, Any]) -> Payload:
    kind = answer.get("kind")
    if kind == "result":
        result: Payload = answer["payload"]
        return result
    if kind == "timeout":
        raise StationTimeout(str(answer.get("message", "station did not answer")))
    if kind == "callerror":
        raise StationCallError(
            str(answer.get("code", "GenericError")),
            str(answer.get("description", "")),
            dict(answer.get("details") or {}),
        )
    raise RuntimeError(f"relayed command failed: {answer.get('message', kind)}")


class ControlServer:
    """A worker's control socket: runs relayed commands for stations this worker holds."""

    def __init__(self, gateway: CommandSender, path: Path) -> None:
        self._gateway = gateway
        self._path = path
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        """Listen on the control socket (owner-only directory: no one else may send CALLs)."""
        self._server = await asyncio.start_unix_server(
            self._serve, path=str(self._path), limit=_MAX_ANSWER
        )

    async def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        with contextlib.suppress(FileNotFoundError):
            self._path.unlink()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await reader.readline()
            answer = await self._answer(orjson.loads(line)) if line else {"kind": "error"}
            writer.write(orjson.dumps(answer) + b"\n")
            await writer.drain()
        except (OSError, orjson.JSONDecodeError) as error:
            log.warning("control socket: bad request: %s", error)
        finally:
            writer.close()

    async def _answer(self, request: dict[str, Any]) -> dict[str, Any]:
        station_id = str(request["station_id"])
        if not self._gateway.is_connected(station_id):
            return {"kind": "offline"}
        try:
            payload = await self._gateway.call(
                station_id,
                str(request["action"]),
                dict(request["payload"]),
                timeout=float(request["timeout"]),
                message_id=str(request["message_id"]),
            )
        except StationOffline:
            return {"kind": "offline"}
        except StationTimeout as error:
            return {"kind": "timeout", "message": str(error)}
        except StationCallError as error:
            return {
                "kind": "callerror",
                "code": error.code,
                "description": error.description,
                "details": error.details,
            }
        except Exception as error:
            log.exception("relayed %s to %s failed", request.get("action"), station_id)
            return {"kind": "error", "message": type(error).__name__}
        return {"kind": "result", "payload": payload}


# -- the worker process ------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerPlan:
    """Everything a worker process needs (pickled to it)."""

    settings: Settings
    index: int
    count: int
    control_dir: Path
    log_setup: LogSetup | None
    ready: Any  # a multiprocessing Event, set once this worker accepts stations and requests

    def control_path(self, index: int) -> Path:
        """The control socket of worker `index`."""
        return self.control_dir / f"w{index}.sock"


def _worker_main(plan: WorkerPlan) -> None:
    if plan.log_setup is not None:
        plan.log_setup(plan.settings.log_level)
    try:
        asyncio.run(_run_worker(plan))
    except StartupError as error:
        log.error("worker %d: %s", plan.index, error)
        raise SystemExit(2) from None


async def _run_worker(plan: WorkerPlan) -> None:
    siblings = [plan.control_path(i) for i in range(plan.count) if i != plan.index]
    joule = Joule(
        plan.settings,
        node=node_name(plan.index),
        reuse_port=True,
        command_relay=lambda local: RelaySender(local, siblings),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    control: ControlServer | None = None
    orphaned = asyncio.create_task(_watch_supervisor(os.getppid(), stop))
    try:
        await joule.start()
        tune_for_serving(joule.settings.gc_gen0_threshold)
        assert joule.gateway is not None
        control = ControlServer(joule.gateway, plan.control_path(plan.index))
        await control.start()
        plan.ready.set()
        await stop.wait()
    finally:
        orphaned.cancel()
        if control is not None:
            await control.stop()
        await joule.stop()


async def _watch_supervisor(supervisor: int, stop: asyncio.Event) -> None:
    """Drain and exit if the supervisor is gone (SIGKILLed): no orphan keeps holding the ports."""
    while os.getppid() == supervisor:
        await asyncio.sleep(_SUPERVISOR_CHECK_S)
    log.warning("the supervisor (pid %d) is gone: this worker drains and stops", supervisor)
    stop.set()


# -- the supervisor ----------------------------------------------------------------------------


async def _prepare(settings: Settings, workers: int) -> str:
    """Once for all workers: migrate, first admin, JWT secret, stale presence; return the secret."""
    if settings.auto_migrate:
        await asyncio.to_thread(migrate.upgrade, settings.database_url)
    elif await asyncio.to_thread(migrate.pending, settings.database_url):
        raise StartupError("the database needs migrations: run `joule db upgrade` first")
    engine = create_engine(settings.database_url)
    committer = GroupCommitter(session_factory(engine))
    await committer.start()
    try:
        now = SystemClock().now()

        async def reset(uow: UnitOfWork) -> None:
            # A previous run (one process or N workers) may have left stations marked online.
            await reset_host_presence(uow.session, socket.gethostname(), now)
            if settings.admin_email and settings.admin_password:
                await operators.ensure_admin(
                    uow.session, settings.admin_email, settings.admin_password, now
                )

        await committer.run(reset)
        # Every worker must sign and verify API tokens with the same secret.
        return await _jwt_secret(committer, settings.jwt_secret)
    finally:
        await committer.stop()
        await engine.dispose()


def _shared_port(host: str, port: int) -> tuple[int, socket.socket | None]:
    """The port to share; for port 0, one the supervisor reserves (bound, never listening)."""
    if port != 0:
        return port, None
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    holder = socket.socket(family, socket.SOCK_STREAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    holder.bind((host, 0))
    return int(holder.getsockname()[1]), holder


def serve_workers(settings: Settings, workers: int, *, log_setup: LogSetup | None = None) -> int:
    """Run `workers` Joule processes until SIGTERM/SIGINT; the exit code (0 when all drained)."""
    if workers < 1:
        raise ValueError("workers must be at least 1")
    if settings.ocpp_tls_port is not None and settings.ocpp_tls_port == 0:
        raise StartupError("--workers needs a fixed TLS port (0 would differ per worker)")
    secret = asyncio.run(_prepare(settings, workers))
    ocpp_port, ocpp_holder = _shared_port(settings.host, settings.ocpp_port)
    http_port, http_holder = _shared_port(settings.host, settings.http_port)
    shared = settings.model_copy(
        update={
            "ocpp_port": ocpp_port,
            "http_port": http_port,
            "jwt_secret": secret,
            "auto_migrate": False,  # done above, once
            "admin_email": None,  # created above, once (workers would race on it)
            "admin_password": None,
        }
    )
    control_dir = Path(tempfile.mkdtemp(prefix="joule-workers-"))
    os.chmod(control_dir, 0o700)
    context = multiprocessing.get_context("spawn")
    ready = [context.Event() for _ in range(workers)]
    processes = [
        context.Process(
            target=_worker_main,
            args=(WorkerPlan(shared, index, workers, control_dir, log_setup, ready[index]),),
            name=f"joule-worker-{index}",
        )
        for index in range(workers)
    ]
    stopping = False

    def forward(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for process in processes:
            if process.pid is not None and process.is_alive():
                os.kill(process.pid, signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        for process in processes:
            process.start()
        if _all_ready(processes, ready, lambda: stopping):
            # Like `joule serve`: one line once every worker accepts stations and requests (a
            # health check alone may be answered by the first worker while others still start).
            print(
                f"Joule is running with {workers} workers — "
                f"OCPP ws://{settings.host}:{ocpp_port}/ocpp/<station-id>  "
                f"API http://{settings.host}:{http_port}/api/v1",
                file=sys.stderr,
                flush=True,
            )
        return _supervise(processes, lambda: stopping)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for holder in (ocpp_holder, http_holder):
            if holder is not None:
                holder.close()
        shutil.rmtree(control_dir, ignore_errors=True)


def _all_ready(processes: list[Any], ready: list[Any], stopping: Callable[[], bool]) -> bool:
    """Wait until every worker is ready; False when one died or a stop came first."""
    while not all(event.is_set() for event in ready):
        if stopping() or any(p.exitcode is not None for p in processes):
            return False
        time.sleep(0.05)
    return True


def _supervise(processes: list[Any], stopping: Callable[[], bool]) -> int:
    """Wait for the workers; one dying on its own stops the others (a supervisor restarts us)."""
    failed = False
    while any(p.is_alive() for p in processes):
        for process in processes:
            process.join(0.2)
            if not process.is_alive() and process.exitcode not in (0, None) and not failed:
                failed = True
                if not stopping():
                    log.error(
                        "%s exited with %s: stopping the other workers",
                        process.name,
                        process.exitcode,
                    )
                for other in processes:
                    if other.is_alive() and other.pid is not None:
                        os.kill(other.pid, signal.SIGTERM)
    codes = [p.exitcode for p in processes]
    return 0 if all(code == 0 for code in codes) and not failed else 1
