"""Operator → station commands: translate for the station's version, send, audit every attempt.

Flow (architecture: operator → station): look the station (and token / transaction) up in a
read-only unit of work, build and validate the CALL, refuse quickly when no gateway holds the
station, send it through the bus port, then append the outcome to the command log.
Nothing is sent from inside a unit of work: the committer may re-run those.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from joule.bus.port import CommandSender
from joule.domain.authorization.rules import ACCEPTED
from joule.domain.authorization.service import authorize_token
from joule.domain.command.translate import (
    Payload,
    Request,
    VariableRef,
    availability_request,
    get_configuration_request,
    reset_request,
    set_configuration_request,
    start_request,
    stop_request,
    trigger_request,
    unlock_request,
)
from joule.kit.clock import Clock
from joule.kit.errors import (
    Conflict,
    Invalid,
    NotFound,
    StationCallError,
    StationOffline,
    StationTimeout,
)
from joule.kit.ids import new_message_id
from joule.ocpp.catalogue import csms_actions
from joule.ocpp.errors import OcppError
from joule.ocpp.validation import validate_outbound
from joule.ocpp.versions import OcppVersion
from joule.storage.committer import GroupCommitter
from joule.storage.models import CommandRecord
from joule.storage.repositories import command_log, listing
from joule.storage.repositories import report as report_repo
from joule.storage.repositories import token as tokens
from joule.storage.repositories import transaction as transactions
from joule.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

Build = Callable[[AsyncSession, OcppVersion], Awaitable[Request]]

# The outcomes of a command in the audit log (CommandRecord.outcome).
ANSWERED = "answered"
CALLERROR = "callerror"
TIMEOUT = "timeout"
OFFLINE = "offline"


# Station passwords: 1.6 AuthorizationKey (SW16), 2.x SecurityCtrlr.BasicAuthPassword (A01).
_SECRET_NAMES = frozenset({"AuthorizationKey", "BasicAuthPassword"})
REDACTED = "***"


def _names_secret(name: object) -> bool:
    # "AuthorizationKey", "BasicAuthPassword" or "SecurityCtrlr.BasicAuthPassword"
    return isinstance(name, str) and name.rsplit(".", 1)[-1] in _SECRET_NAMES


def redacted(request: Request) -> Payload:
    """The payload to keep in the audit log: station passwords masked (A01.FR.08: never kept)."""
    payload = request.payload
    secret = _names_secret(payload.get("key")) or _names_secret(payload.get("variable"))
    if request.action in ("ChangeConfiguration", "set_configuration") and secret:
        return {**payload, "value": REDACTED}
    data = payload.get("setVariableData")
    if request.action == "SetVariables" and isinstance(data, list):
        # Not yet schema-checked when the station never connected: look before touching.
        return {
            **payload,
            "setVariableData": [
                {**item, "attributeValue": REDACTED}
                if isinstance(item, dict)
                and isinstance(item.get("variable"), dict)
                and _names_secret(item["variable"].get("name"))
                else item
                for item in data
            ],
        }
    return payload


def fixed(request: Callable[[OcppVersion], Request]) -> Build:
    """A build step that needs no database lookups."""

    async def build(session: AsyncSession, version: OcppVersion) -> Request:
        return request(version)

    return build


def _version(value: str | None) -> OcppVersion | None:
    try:
        return OcppVersion(value) if value is not None else None
    except ValueError:
        return None


def check_request(version: OcppVersion, request: Request) -> None:
    """Raise Invalid unless the CALL is a CSMS request of this version matching its schema."""
    if request.action not in csms_actions(version):
        raise Invalid(f"{request.action} is not a CSMS request in OCPP {version}")
    try:
        validate_outbound(version, request.action, "request", request.payload)
    except OcppError as error:
        where = error.details.get("path")
        at = f" at {where}" if where else ""
        raise Invalid(
            f"{request.action} payload does not match the OCPP {version} schema{at}: "
            f"{error.description}"
        ) from error


def new_request_id() -> int:
    """A requestId / reservationId for a CALL: positive, fits OCPP's 32-bit integer."""
    return secrets.randbelow(2**31 - 1) + 1


class CommandService:
    """Sends operator commands to stations and keeps the audit log (scenario 39)."""

    def __init__(
        self,
        *,
        committer: GroupCommitter,
        sender: CommandSender,
        clock: Clock,
        timeout_s: float,
    ) -> None:
        self._committer = committer
        self._sender = sender
        self._clock = clock
        self._timeout_s = timeout_s

    async def start(
        self,
        station_id: str,
        *,
        operator: str,
        uid: str,
        evse_id: int | None = None,
        connector_id: int | None = None,
    ) -> Payload:
        """Ask the station to start a transaction for an id token (F01 / 1.6 RemoteStart)."""

        async def build(session: AsyncSession, version: OcppVersion) -> Request:
            token = await tokens.get_token(session, uid)
            if token is not None:
                # A blocked, expired or busy token is not started remotely: 1.6 stations with
                # AuthorizeRemoteTxRequests=false (2.x AuthorizeRemoteStart) would not re-check it.
                # The CSMS judges the access rules itself (ADR 0010) whatever the station's
                # AuthorizeRemoteTxRequests / AuthorizeRemoteStart says.
                decision = await authorize_token(
                    session,
                    token,
                    now=self._clock.now(),
                    for_start=True,
                    exclude_tx=None,
                    station_id=station_id,
                    evse_id=evse_id,
                )
                if decision.status != ACCEPTED:
                    raise Conflict(f"id token {uid} cannot start a transaction: {decision.reason}")
            return start_request(
                version,
                uid=uid,
                token_type=token.type if token is not None else None,
                evse_id=evse_id,
                connector_id=connector_id,
                # F01: the station echoes it in TransactionEvent transactionInfo.remoteStartId.
                remote_start_id=new_request_id(),
            )

        params = {"uid": uid, "evse_id": evse_id, "connector_id": connector_id}
        return await self.send(station_id, operator, "start", params, build)

    async def stop(self, station_id: str, *, operator: str, transaction_id: int) -> Payload:
        """Ask the station to stop one of its transactions (F03 / 1.6 RemoteStop)."""

        async def build(session: AsyncSession, version: OcppVersion) -> Request:
            tx = await transactions.get_station_transaction(session, station_id, transaction_id)
            if tx is None:
                raise NotFound(f"transaction {transaction_id} of station {station_id} not found")
            if tx.status != "active":
                raise Conflict(f"transaction {transaction_id} is already {tx.status}")
            return stop_request(version, transaction_pk=tx.id, transaction_uid=tx.transaction_uid)

        params = {"transaction_id": transaction_id}
        return await self.send(station_id, operator, "stop", params, build)

    async def reset(
        self, station_id: str, *, operator: str, type: str, evse_id: int | None = None
    ) -> Payload:
        """Reset the station (or, 2.x, one EVSE)."""
        build = fixed(lambda version: reset_request(version, type=type, evse_id=evse_id))
        params = {"type": type, "evse_id": evse_id}
        return await self.send(station_id, operator, "reset", params, build)

    async def unlock(
        self, station_id: str, *, operator: str, evse_id: int, connector_id: int | None = None
    ) -> Payload:
        """Unlock a connector (F05)."""
        build = fixed(
            lambda version: unlock_request(version, evse_id=evse_id, connector_id=connector_id)
        )
        params = {"evse_id": evse_id, "connector_id": connector_id}
        return await self.send(station_id, operator, "unlock", params, build)

    async def availability(
        self,
        station_id: str,
        *,
        operator: str,
        operative: bool,
        evse_id: int | None = None,
        connector_id: int | None = None,
    ) -> Payload:
        """Make the station, an EVSE or a connector (in)operative (G03)."""
        build = fixed(
            lambda version: availability_request(
                version, operative=operative, evse_id=evse_id, connector_id=connector_id
            )
        )
        params = {"operative": operative, "evse_id": evse_id, "connector_id": connector_id}
        return await self.send(station_id, operator, "availability", params, build)

    async def trigger(
        self,
        station_id: str,
        *,
        operator: str,
        message: str,
        evse_id: int | None = None,
        connector_id: int | None = None,
    ) -> Payload:
        """Ask the station to send a message now (F06)."""
        build = fixed(
            lambda version: trigger_request(
                version, message=message, evse_id=evse_id, connector_id=connector_id
            )
        )
        params = {"message": message, "evse_id": evse_id, "connector_id": connector_id}
        return await self.send(station_id, operator, "trigger", params, build)

    async def set_configuration(
        self,
        station_id: str,
        *,
        operator: str,
        value: str,
        key: str | None = None,
        variable: VariableRef | None = None,
    ) -> Payload:
        """Set a configuration key (1.6) or a device-model variable (2.x, B05)."""
        build = fixed(
            lambda version: set_configuration_request(
                version, key=key, variable=variable, value=value
            )
        )
        params: dict[str, Any] = {"key": key, "value": value}
        if variable is not None:
            params["variable"] = f"{variable.component}.{variable.variable}"
        return await self.send(station_id, operator, "set_configuration", params, build)

    async def get_configuration(
        self,
        station_id: str,
        *,
        operator: str,
        keys: list[str],
        variables: list[VariableRef] | None = None,
    ) -> Payload:
        """Read configuration keys (1.6; none = all) or device-model variables (2.x, B06)."""
        wanted = variables or []
        build = fixed(
            lambda version: get_configuration_request(version, keys=keys, variables=wanted)
        )
        params = {"keys": keys, "variables": [f"{v.component}.{v.variable}" for v in wanted]}
        return await self.send(station_id, operator, "get_configuration", params, build)

    async def raw(
        self, station_id: str, *, operator: str, action: str, payload: Payload
    ) -> Payload:
        """Send any CSMS request of the station's version, as given (power users)."""
        build = fixed(lambda version: Request(action, payload))
        return await self.send(station_id, operator, action, payload, build)

    @property
    def committer(self) -> GroupCommitter:
        """The group committer: commands that keep state (reservations) write through it."""
        return self._committer

    @property
    def clock(self) -> Clock:
        """The injected clock."""
        return self._clock

    async def reports(self, station_id: str, *, action: str, request_id: int) -> list[Payload]:
        """The payloads a station sent in answer to one of our requests (report parts, in order)."""

        async def work(uow: UnitOfWork) -> list[Payload]:
            if await listing.get_station(uow.session, station_id) is None:
                raise NotFound(f"station {station_id} does not exist")
            rows = await report_repo.reports_for_request(
                uow.session, station_id, action=action, request_id=request_id
            )
            return [row.payload for row in rows]

        return await self._committer.read(work)

    async def wait_reports(
        self, station_id: str, *, action: str, request_id: int, poll_s: float = 0.05
    ) -> tuple[list[Payload], bool]:
        """Report parts for a request, waiting up to the call timeout for the last one (tbc
        false). Returns the parts and whether they are complete."""
        deadline = asyncio.get_running_loop().time() + self._timeout_s
        while True:
            parts = await self.reports(station_id, action=action, request_id=request_id)
            complete = bool(parts) and not parts[-1].get("tbc", False)
            if complete or asyncio.get_running_loop().time() >= deadline:
                return parts, complete
            await asyncio.sleep(poll_s)

    async def send_numbered(
        self,
        station_id: str,
        operator: str,
        name: str,
        params: Payload,
        make: Callable[[OcppVersion], Request],
    ) -> Payload:
        """`send`, then add the CALL's requestId to the answer when the version's message has one.

        The operator needs it to follow the notifications that come later (status of a firmware
        update or log upload, report parts); 1.6 core messages carry none.
        """
        built: list[Request] = []

        def build(version: OcppVersion) -> Request:
            built.append(make(version))
            return built[-1]

        answer = await self.send(station_id, operator, name, params, fixed(build))
        request_id = built[-1].payload.get("requestId") if built else None
        return answer if request_id is None else {**answer, "requestId": request_id}

    async def send(
        self, station_id: str, operator: str, name: str, params: Payload, build: Build
    ) -> Payload:
        """Build the CALL for the station's version, send it, audit the outcome, return the answer.

        `name` and `params` describe the operator's intent for the audit log when nothing could
        be built (a station that never connected). Raises NotFound, Invalid, StationOffline,
        StationTimeout or StationCallError.
        """

        async def prepare(uow: UnitOfWork) -> Request | None:
            station = await listing.get_station(uow.session, station_id)
            if station is None:
                raise NotFound(f"station {station_id} does not exist")
            version = _version(station.ocpp_version)
            if version is None:
                return None  # never connected: nothing to translate for
            request = await build(uow.session, version)
            check_request(version, request)
            return request

        request = await self._committer.read(prepare)
        if request is None or not self._sender.is_connected(station_id):
            # Audited too: the operator asked, and the record says why nothing was sent.
            attempted = request or Request(name, params)
            await self._record(station_id, operator, attempted, None, OFFLINE, None)
            raise StationOffline(f"station {station_id} is not connected")
        message_id = new_message_id()
        try:
            response = await self._sender.call(
                station_id,
                request.action,
                request.payload,
                timeout=self._timeout_s,
                message_id=message_id,
            )
        except StationOffline:
            await self._record(station_id, operator, request, message_id, OFFLINE, None)
            raise
        except StationTimeout:
            await self._record(station_id, operator, request, message_id, TIMEOUT, None)
            raise
        except StationCallError as error:
            answer = {
                "code": error.code,
                "description": error.description,
                "details": error.details,
            }
            await self._record(station_id, operator, request, message_id, CALLERROR, answer)
            raise
        await self._record(station_id, operator, request, message_id, ANSWERED, response)
        return response

    async def _record(
        self,
        station_id: str,
        operator: str,
        request: Request,
        message_id: str | None,
        outcome: str,
        response: Payload | None,
    ) -> None:
        at = self._clock.now()
        who = {"operator": operator, "command_id": message_id, "station_id": station_id}
        log.info("command %s to %s: %s", request.action, station_id, outcome, extra=who)

        async def work(uow: UnitOfWork) -> None:
            command_log.append_command(
                uow.session,
                station_id=station_id,
                operator=operator,
                action=request.action,
                message_id=message_id,
                request=redacted(request),
                outcome=outcome,
                response=response,
                at=at,
            )

        try:
            await self._committer.run(work)
        except Exception:
            # The station has already acted (or not): failing the operator's request now would
            # invite a retry that acts twice. The outcome is still in the logs.
            log.exception(
                "could not record %s %s for %s (%s)",
                request.action,
                outcome,
                station_id,
                message_id,
            )


async def commands_of(
    session: AsyncSession, station_id: str, *, action: str | None, limit: int, offset: int
) -> tuple[list[CommandRecord], int]:
    """A page of the station's command audit records, newest first."""
    if await listing.get_station(session, station_id) is None:
        raise NotFound(f"station {station_id} does not exist")
    return await command_log.commands_of(
        session, station_id, action=action, limit=limit, offset=offset
    )
