"""Domain errors that the API maps to HTTP statuses in one table."""

from __future__ import annotations


class JouleError(Exception):
    """Base of every error Joule raises on purpose."""


class NotFound(JouleError):
    """The object does not exist (or is outside the caller's scope)."""


class Conflict(JouleError):
    """The request conflicts with the current state (duplicate id, wrong state)."""


class Invalid(JouleError):
    """The request is well-formed but its content is not acceptable."""


class StationOffline(JouleError):
    """The station is not connected to any gateway."""


class StationTimeout(JouleError):
    """The station did not answer a CALL in time."""


class StationCallError(JouleError):
    """The station answered a CALL with a CALLERROR."""

    def __init__(self, code: str, description: str, details: object = None) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.details = details
