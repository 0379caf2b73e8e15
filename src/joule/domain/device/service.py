"""Device-model intent verbs: keep station reports and the variables they carry."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from joule.domain.device.variables import VariableValue
from joule.storage.repositories import device as device_repo
from joule.storage.repositories import station as station_repo
from joule.storage.uow import UnitOfWork


async def record_report(
    uow: UnitOfWork,
    *,
    station_id: str,
    action: str,
    payload: dict[str, Any],
    at: datetime,
    variables: Iterable[VariableValue] = (),
    values_only: bool = False,
) -> int:
    """Keep a station-initiated report as received and upsert the variables it carries.

    Returns the number of variable attributes written. `values_only` (event data) updates values
    without touching the stored mutability.
    """
    request_id = payload.get("requestId")
    station_repo.add_station_report(
        uow.session,
        station_id=station_id,
        action=action,
        request_id=request_id if isinstance(request_id, int) else None,
        payload=payload,
        at=at,
    )
    rows = [
        device_repo.VariableRow(
            component=v.component,
            variable=v.variable,
            attribute_type=v.attribute_type,
            value=v.value,
            mutability=v.mutability,
        )
        for v in variables
    ]
    if not rows:
        return 0
    return await device_repo.upsert_variables(
        uow.session, station_id=station_id, rows=rows, at=at, value_only=values_only
    )
