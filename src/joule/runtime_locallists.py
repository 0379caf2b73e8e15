"""Composition of local authorization lists (part of the composition root, issue 5).

The service pushes lists through the same command sender as the API (metered, relayed to a
sibling worker when it holds the station); the keeper subscribes to the bus; the routes join
the API app. The target list is eligibility.local_list_entries.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from joule.api.routes import local_lists as routes
from joule.bus.port import CommandSender, EventBus
from joule.config import Settings
from joule.domain.authorization.eligibility import local_list_entries
from joule.domain.locallist.keeper import LocalListKeeper
from joule.domain.locallist.service import LocalListService
from joule.kit.clock import Clock
from joule.storage.committer import GroupCommitter


class LocalLists:
    """The local list service and its keeper in one Joule process."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        committer: GroupCommitter,
        sender: CommandSender,
        *,
        node: str,
    ) -> None:
        self.service = LocalListService(
            committer=committer,
            sender=sender,
            clock=clock,
            source=local_list_entries,
            timeout_s=settings.call_timeout_s,
        )
        self.keeper = LocalListKeeper(
            self.service,
            committer,
            debounce_s=settings.local_list_debounce_s,
            settle_s=settings.local_list_settle_s,
            interval_s=settings.local_list_interval_s,
            concurrency=settings.local_list_concurrency,
            node=node,
        )
        self._auto = settings.local_lists_auto
        self._unsubscribe: Callable[[], None] | None = None

    async def start(self, app: FastAPI, bus: EventBus) -> None:
        """Add the routes, subscribe to the bus, start the periodic reconciliation."""
        routes.install(app, self.service)
        if not self._auto:
            return  # on demand only (JOULE_LOCAL_LISTS_AUTO=false)
        await self.keeper.start()
        self._unsubscribe = bus.subscribe(self.keeper.on_event, LocalListKeeper.EVENTS)

    async def stop(self) -> None:
        """Unsubscribe and cancel pending syncs (reconciled on the next start)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        await self.keeper.stop()
