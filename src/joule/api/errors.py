"""One table from domain errors to HTTP statuses: a station or a user never causes a 500."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from joule.kit.errors import (
    Conflict,
    Invalid,
    JouleError,
    NotFound,
    StationCallError,
    StationOffline,
    StationTimeout,
)

# Most specific first: the first matching class decides the status.
STATUS_OF: tuple[tuple[type[JouleError], int], ...] = (
    (NotFound, 404),
    (Conflict, 409),
    (Invalid, 422),
    (StationOffline, 409),  # contract: "409 (or 503) with a clear message, quickly"
    (StationTimeout, 504),  # the station did not answer in time
    (StationCallError, 502),  # the station answered with a CALLERROR
)


def status_of(error: JouleError) -> int:
    """The HTTP status for a domain error (400 for a JouleError no row names)."""
    for kind, status in STATUS_OF:
        if isinstance(error, kind):
            return status
    return 400


def body_of(error: JouleError) -> dict[str, Any]:
    """The JSON body: `detail` always; the station's code and description for a CALLERROR."""
    body: dict[str, Any] = {"detail": str(error)}
    if isinstance(error, StationCallError):
        body["detail"] = f"the station answered {error.code}: {error.description}"
        body["code"] = error.code
        body["description"] = error.description
        body["details"] = error.details
    return body


async def _joule_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, JouleError)
    return JSONResponse(body_of(error), status_code=status_of(error))


def install(app: FastAPI) -> None:
    """Register the mapping on the app."""
    app.add_exception_handler(JouleError, _joule_error)
