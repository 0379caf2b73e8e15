"""Structured logs: structlog renders every stdlib record as one JSON object (or a console line).

Everything logs through stdlib `logging` (Joule's modules, uvicorn, websockets, SQLAlchemy);
structlog's ProcessorFormatter is the one formatter on the root handler, so library lines get
the same shape as ours. Context is bound with contextvars, never passed around: the gateway
binds the station id for a connection's task and the message id + action for each frame it
handles, the dispatcher re-binds them around a unit of work in the group-commit writer, the API
binds request id, operator and command id. The processor below reads them only when a record is
actually emitted: a disabled level costs a contextvar set per message and nothing else.

A JSON line: {"ts": "2026-…Z", "level": "info", "logger": "joule.gateway.connection",
"event": "CALLERROR FormationViolation sent: …", "station_id": "CP-1", "message_id": "42",
"action": "Heartbeat"}.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from enum import StrEnum
from types import MappingProxyType
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger


class LogFormat(StrEnum):
    """How log records are rendered on stderr."""

    JSON = "json"  # one JSON object per line, for collectors (Loki, Elasticsearch, journald)
    CONSOLE = "console"  # aligned, human-readable lines for a terminal


# One contextvar per binding point, so the hot path sets a plain value and builds no dict.
_station: ContextVar[str | None] = ContextVar("joule_log_station", default=None)
_message: ContextVar[tuple[str, str | None] | None] = ContextVar("joule_log_message", default=None)
_NO_FIELDS: Mapping[str, Any] = MappingProxyType({})
_fields: ContextVar[Mapping[str, Any]] = ContextVar("joule_log_fields", default=_NO_FIELDS)

# Keys whose values are never written, whatever bound or passed them (A01.FR.09, security.md).
_SECRET_KEY = re.compile(r"pass(word)?|secret|token|authorization|credential|api_?key", re.I)
# Credentials that may hide inside a message text or a traceback: HTTP auth header values,
# and `password=…`-style pairs (a database URL's userinfo is handled by its own pattern).
_SECRET_TEXT = (
    (re.compile(r"\b(Basic|Bearer)\s+[A-Za-z0-9._~+/=-]{6,}", re.I), r"\1 [redacted]"),
    (re.compile(r"(://[^:/@\s]+):[^@/\s]+@"), r"\1:[redacted]@"),
    (
        re.compile(r"\b(password|passwd|secret|token)([\"']?\s*[=:]\s*[\"']?)[^\s\"',}&]+", re.I),
        r"\1\2[redacted]",
    ),
)
REDACTED = "[redacted]"


def bind_station(station_id: str) -> Token[str | None]:
    """Bind a station id to the current task (a station connection's task, for its lifetime)."""
    return _station.set(station_id)


def unbind_station(token: Token[str | None]) -> None:
    """Undo bind_station."""
    _station.reset(token)


def bind_message(message_id: str, action: str | None) -> Token[tuple[str, str | None] | None]:
    """Bind the OCPP message id and action being handled (one contextvar set per message)."""
    return _message.set((message_id, action))


def unbind_message(token: Token[tuple[str, str | None] | None]) -> None:
    """Undo bind_message once the message is handled."""
    _message.reset(token)


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Bind fields (request_id, operator, command_id, …) for the block; off the hot path."""
    token = _fields.set({**_fields.get(), **fields})
    try:
        yield
    finally:
        _fields.reset(token)


def bind(**fields: Any) -> None:
    """Bind fields for the rest of the current task (e.g. a command id learnt mid-request)."""
    _fields.set({**_fields.get(), **fields})


def merge_context(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """structlog processor: add the bound station, message and fields; explicit keys win."""
    station = _station.get()
    if station is not None:
        event.setdefault("station_id", station)
    message = _message.get()
    if message is not None:
        event.setdefault("message_id", message[0])
        if message[1] is not None:
            event.setdefault("action", message[1])
    for key, value in _fields.get().items():
        event.setdefault(key, value)
    return event


def scrub_text(text: str) -> str:
    """The text with credentials masked (Basic/Bearer values, URL passwords, password=…)."""
    for pattern, replacement in _SECRET_TEXT:
        text = pattern.sub(replacement, text)
    return text


def redact_secrets(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """structlog processor: never write a secret, by key or inside a text."""
    for key, value in event.items():
        if key == "event" or key == "exception":
            if isinstance(value, str):
                event[key] = scrub_text(value)
        elif _SECRET_KEY.search(key) and value is not None:
            event[key] = REDACTED
        elif isinstance(value, str) and key not in _PLAIN_KEYS:
            event[key] = scrub_text(value)
    return event


def _leading_keys(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """ts, level, logger, event first: a line reads left to right the way people scan it."""
    ordered = {key: event.pop(key) for key in _LEADING if key in event}
    ordered.update(event)
    return ordered


_LEADING = ("ts", "level", "logger", "event")

# Keys Joule itself fills with identifiers: nothing to scrub, and scrubbing costs a regex each.
_PLAIN_KEYS = frozenset(
    {"ts", "level", "logger", "station_id", "message_id", "action", "request_id", "command_id"}
)


def _stdlib_extras(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """Copy `extra={...}` fields of a stdlib record into the event (log.info(..., extra=))."""
    record = event.get("_record")
    if isinstance(record, logging.LogRecord):
        for key in _EXTRA_KEYS:
            value = record.__dict__.get(key)
            if value is not None:
                event.setdefault(key, value)
    return event


# The fields a stdlib call may pass with `extra=` (LogRecord attributes would otherwise be lost).
_EXTRA_KEYS = ("station_id", "message_id", "action", "operator", "command_id", "request_id")


# Libraries whose DEBUG lines carry data, not events: SQL with its parameters (password hashes),
# every WebSocket frame's text (a ChangeConfiguration of AuthorizationKey), every aiosqlite call.
# They stay at these levels even with --log-level debug, so debug logs never hold a secret.
_LIBRARY_FLOORS = {
    "sqlalchemy.engine": logging.WARNING,
    "sqlalchemy.pool": logging.WARNING,
    "aiosqlite": logging.INFO,
    "asyncio": logging.INFO,
    "websockets": logging.INFO,
    "joule.gateway.websockets": logging.INFO,
}


def _pre_chain() -> list[Processor]:
    return [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
        _stdlib_extras,
        merge_context,
    ]


def resolve_format(requested: LogFormat | str | None, stream: TextIO | None = None) -> LogFormat:
    """The format to use: the one asked for, else console on a terminal and JSON otherwise.

    A terminal means a person is reading; anything else (a pipe, a file, systemd, a container
    runtime) is a collector that wants one JSON object per line.
    """
    if requested:
        return LogFormat(str(requested).lower())
    out = stream if stream is not None else sys.stderr
    isatty = getattr(out, "isatty", None)
    return LogFormat.CONSOLE if isatty is not None and isatty() else LogFormat.JSON


def configure(
    level: str | int = "INFO",
    fmt: LogFormat | str | None = None,
    *,
    stream: TextIO | None = None,
) -> LogFormat:
    """Route every log record (Joule's and the libraries') through structlog to `stream`.

    Replaces the root logger's handlers, so calling it again (a worker process, a test)
    reconfigures rather than duplicates. Returns the format chosen.
    """
    out = stream if stream is not None else sys.stderr
    chosen = resolve_format(fmt, out)
    renderer: Processor
    if chosen is LogFormat.JSON:
        renderer = structlog.processors.JSONRenderer(ensure_ascii=False)
    else:
        isatty = getattr(out, "isatty", None)
        renderer = structlog.dev.ConsoleRenderer(colors=bool(isatty and isatty()))
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_pre_chain(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_secrets,
            _leading_keys,
            renderer,
        ],
        pass_foreign_args=False,
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    numeric = level if isinstance(level, int) else logging.getLevelName(level.upper())
    root.setLevel(numeric if isinstance(numeric, int) else logging.INFO)
    for name, floor in _LIBRARY_FLOORS.items():
        logging.getLogger(name).setLevel(max(root.level, floor))
    # structlog's own loggers (structlog.get_logger()) end in the same handler.
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_pre_chain(),
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return chosen
