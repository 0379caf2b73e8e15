"""Bulk action schemas: a selection of stations, the command's parameters, the job's progress."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from joule.api.schemas.common import UtcDatetime


class StationFilter(BaseModel):
    """Stations matching every condition given."""

    model_config = ConfigDict(extra="forbid")
    site_id: str | None = None
    model: str | None = None
    vendor: str | None = None
    online: bool | None = None


class BulkCreate(BaseModel):
    """Run a command on explicit stations or on a filter; params as the single command takes."""

    model_config = ConfigDict(extra="forbid")
    station_ids: list[str] | None = Field(default=None, min_length=1)
    filter: StationFilter | None = None
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_selection(self) -> Self:
        if (self.station_ids is None) == (self.filter is None):
            raise ValueError("give either station_ids or filter")
        return self


class BulkStationResult(BaseModel):
    """How the command went for one station."""

    station_id: str
    state: str = Field(description="pending | running | done")
    outcome: str | None = Field(
        description="answered | callerror | timeout | offline | not_found | invalid | failed"
    )
    response: dict[str, Any] | None
    error: str | None
    finished_at: UtcDatetime | None


class BulkJobRead(BaseModel):
    """A bulk job and its per-station results."""

    id: str
    command: str
    params: dict[str, Any]
    operator: str
    state: str = Field(description="pending | running | done")
    created_at: UtcDatetime
    finished_at: UtcDatetime | None
    total: int
    counts: dict[str, int]
    results: list[BulkStationResult]
