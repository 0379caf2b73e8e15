"""The core's dispatcher: finds the handler for (version, action), runs it in the group commit."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from joule.bus.envelopes import StationCall
from joule.domain.context import (
    HANDLERS,
    PRELOADERS,
    STATELESS,
    Handler,
    HandlerContext,
    Payload,
    StatelessContext,
    StatelessHandler,
)
from joule.kit.clock import Clock
from joule.kit.logging import bind_message, bind_station, unbind_message, unbind_station
from joule.ocpp.errors import ErrorKind, OcppError
from joule.storage.committer import GroupCommitter
from joule.storage.repositories.activity import add_quirks
from joule.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

# A step before the unit of work (slow I/O such as the authorization hook); its result reaches
# the handler as HandlerContext.prepared.
BeforeStep = Callable[[StationCall], Awaitable[object | None]]


class Dispatcher:
    """Station → CSMS: handler, then commit, then answer (never before the data is durable)."""

    def __init__(
        self, committer: GroupCommitter, clock: Clock, before: BeforeStep | None = None
    ) -> None:
        self._committer = committer
        self._clock = clock
        self._before = before

    async def __call__(self, call: StationCall) -> Payload:
        """Handle one CALL and return the CALLRESULT payload once its data is committed."""
        key = (call.version.family, call.action)
        stateless = STATELESS.get(key)
        if stateless is not None and not call.quirks:
            return stateless(
                StatelessContext(call.station_id, call.version, call.received_at, self._clock),
                call.payload,
            )
        handler = HANDLERS.get(key)
        if handler is None and stateless is not None:
            handler = _with_context(stateless)
        if handler is None:
            # A real OCPP action of this version that Joule does not handle (P4 §4.3 NotSupported).
            raise OcppError(ErrorKind.NOT_SUPPORTED, f"{call.action} is not supported by Joule")

        prepared = await self._before(call) if self._before is not None else None

        async def work(uow: UnitOfWork) -> Payload:
            # The group-commit writer is its own task: re-bind who and what for its log lines.
            station = bind_station(call.station_id)
            message = bind_message(call.message_id, call.action)
            try:
                response = await _handle(uow)
                log.debug("handled, awaiting the group commit")
                return response
            finally:
                unbind_message(message)
                unbind_station(station)

        async def _handle(uow: UnitOfWork) -> Payload:
            ctx = HandlerContext(
                station_id=call.station_id,
                version=call.version,
                message_id=call.message_id,
                received_at=call.received_at,
                uow=uow,
                clock=self._clock,
                station_timezone=call.station_timezone,
                prepared=prepared,
            )
            response = await handler(ctx, call.payload)
            if call.quirks:
                await add_quirks(uow.session, call.station_id, call.quirks)
            return response

        preloader = PRELOADERS.get(key)
        preload = preloader(call.station_id, call.payload) if preloader is not None else None
        return await self._committer.run(work, preload=preload)


def _with_context(stateless: StatelessHandler) -> Handler:
    """Run a stateless handler inside a unit of work (when quirk counters must be written)."""

    async def handler(ctx: HandlerContext, payload: Payload) -> Payload:
        return stateless(
            StatelessContext(ctx.station_id, ctx.version, ctx.received_at, ctx.clock), payload
        )

    return handler
