"""The one table from domain errors to HTTP: never a 500 for a station's or a user's behaviour."""

from __future__ import annotations

import pytest

from joule.api.errors import body_of, status_of
from joule.kit.errors import (
    Conflict,
    Invalid,
    JouleError,
    NotFound,
    StationCallError,
    StationOffline,
    StationTimeout,
)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NotFound("x"), 404),
        (Conflict("x"), 409),
        (Invalid("x"), 422),
        (StationOffline("station CS-1 is not connected"), 409),
        (StationTimeout("no answer"), 504),
        (StationCallError("NotSupported", "no"), 502),
        (JouleError("something else"), 400),
    ],
)
def test_status_of(error: JouleError, status: int) -> None:
    assert status_of(error) == status


def test_offline_body_names_the_station() -> None:
    assert body_of(StationOffline("station CS-1 is not connected")) == {
        "detail": "station CS-1 is not connected"
    }


def test_callerror_body_carries_the_stations_code_and_description() -> None:
    body = body_of(StationCallError("NotImplemented", "Unknown action", {"hint": 1}))
    assert body == {
        "detail": "the station answered NotImplemented: Unknown action",
        "code": "NotImplemented",
        "description": "Unknown action",
        "details": {"hint": 1},
    }
