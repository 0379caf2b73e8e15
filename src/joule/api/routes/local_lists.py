"""A station's local authorization list: its state, and a sync on demand (issue 5).

`GET /stations/{id}/local-list` (any role) and `POST /stations/{id}/local-list/sync` (operator,
admin; viewers 403). A station outside the caller's scope is 404 (the router's StationGuard);
not connected → 409.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request
from pydantic import BaseModel

from joule.api.deps import CommandOperator, CurrentOperator, Db, StationGuard
from joule.domain.locallist.service import LocalListService, SyncResult, list_view

PREFIX = "/api/v1"

router = APIRouter(tags=["local lists"])


class LocalListOut(BaseModel):
    """What Joule last confirmed the station holds."""

    station_id: str
    status: str  # in_sync | pending | failed | unsupported
    version: int  # the version the station confirmed
    target_version: int  # the highest version Joule has sent
    entries: int
    last_error: str | None
    synced_at: datetime | None


class SyncOut(BaseModel):
    """What a sync did: the update sent (None: the station already held the list)."""

    station_id: str
    status: str
    version: int
    update_type: str | None
    messages: int
    entries: int
    left_out: int
    cache_cleared: bool
    error: str | None


def get_local_lists(request: Request) -> LocalListService:
    """The runtime's local list service."""
    service: LocalListService = request.app.state.local_lists
    return service


LocalLists = Annotated[LocalListService, Depends(get_local_lists)]


@router.get("/stations/{station_id}/local-list")
async def local_list(station_id: str, caller: CurrentOperator, db: Db) -> LocalListOut:
    """The station's list state: version, entries, status and the last error."""
    view = await db.read(lambda session: list_view(session, station_id))
    return LocalListOut(
        station_id=view.station_id,
        status=view.status,
        version=view.version,
        target_version=view.target_version,
        entries=view.entries,
        last_error=view.last_error,
        synced_at=view.synced_at,
    )


@router.post("/stations/{station_id}/local-list/sync")
async def sync_local_list(station_id: str, caller: CommandOperator, service: LocalLists) -> SyncOut:
    """Reconcile now: GetLocalListVersion, then a Full or Differential update as needed."""
    result: SyncResult = await service.sync_now(station_id, actor=caller.email)
    return SyncOut(
        station_id=result.station_id,
        status=result.status,
        version=result.version,
        update_type=result.update_type,
        messages=result.messages,
        entries=result.entries,
        left_out=result.left_out,
        cache_cleared=result.cache_cleared,
        error=result.error,
    )


def install(app: FastAPI, service: LocalListService) -> None:
    """Add the routes and the service they use to an app from create_app."""
    app.state.local_lists = service
    app.include_router(router, prefix=PREFIX, dependencies=[StationGuard])
