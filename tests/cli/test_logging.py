"""kit/logging.py: the JSON and console shapes, bound context per task, secrets never written."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from typer.testing import CliRunner

from joule.api.request_id import RequestIdMiddleware
from joule.cli.main import app
from joule.kit.logging import (
    LogFormat,
    bind,
    bind_message,
    bind_station,
    bound,
    configure,
    resolve_format,
    scrub_text,
    unbind_message,
    unbind_station,
)

_QUIETED = ("sqlalchemy.engine", "aiosqlite", "websockets", "joule.gateway.websockets")


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """configure() writes here; root handlers, levels and structlog are restored afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in _QUIETED}
    out = io.StringIO()
    try:
        yield out
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
        for name, old in levels.items():
            logging.getLogger(name).setLevel(old)
        structlog.reset_defaults()


def lines(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_json_line_shape_and_bound_context(stream: io.StringIO) -> None:
    assert configure("INFO", "json", stream=stream) is LogFormat.JSON
    log = logging.getLogger("joule.test")
    station = bind_station("CP-7")
    message = bind_message("m-1", "Heartbeat")
    try:
        log.info("handled %s", "it")
    finally:
        unbind_message(message)
    log.info("after the message")
    unbind_station(station)
    log.info("outside the station")
    first, second, third = lines(stream)
    assert list(first)[:4] == ["ts", "level", "logger", "event"]
    assert first["ts"].endswith("Z") and first["level"] == "info"
    assert first["logger"] == "joule.test" and first["event"] == "handled it"
    assert (first["station_id"], first["message_id"], first["action"]) == (
        "CP-7",
        "m-1",
        "Heartbeat",
    )
    assert second["station_id"] == "CP-7" and "message_id" not in second
    assert "station_id" not in third


def test_explicit_extra_wins_and_fields_unbind(stream: io.StringIO) -> None:
    configure("DEBUG", "json", stream=stream)
    log = logging.getLogger("joule.test")
    with bound(request_id="r-1", operator="ops@example.test"):
        bind(command_id="c-9")
        log.info("sent", extra={"message_id": "c-9", "action": "Reset"})
    log.info("after")
    inside, after = lines(stream)
    assert inside["request_id"] == "r-1" and inside["operator"] == "ops@example.test"
    assert (inside["command_id"], inside["message_id"], inside["action"]) == ("c-9", "c-9", "Reset")
    assert not {"request_id", "operator", "command_id"} & after.keys()


async def test_each_task_keeps_its_own_station(stream: io.StringIO) -> None:
    configure("INFO", "json", stream=stream)
    log = logging.getLogger("joule.test")

    async def station(station_id: str) -> None:
        bind_station(station_id)
        for n in range(3):
            log.info("frame %d", n)
            await asyncio.sleep(0)

    await asyncio.gather(station("A"), station("B"))
    records = lines(stream)
    assert len(records) == 6
    assert all(r["station_id"] in ("A", "B") for r in records)
    assert sorted(r["station_id"] for r in records) == ["A", "A", "A", "B", "B", "B"]


def test_level_filters_before_any_work_and_libraries_stay_quiet(stream: io.StringIO) -> None:
    configure("INFO", "json", stream=stream)
    logging.getLogger("joule.test").debug("not at INFO")
    assert stream.getvalue() == ""
    configure("DEBUG", "json", stream=stream)
    # SQL with parameters and WebSocket frame texts carry data (hashes, keys): never at DEBUG.
    logging.getLogger("sqlalchemy.engine.Engine").info("INSERT … ('$argon2id$…')")
    logging.getLogger("joule.gateway.websockets").debug("> TEXT '[2, …]'")
    logging.getLogger("joule.test").debug("ours")
    assert [r["event"] for r in lines(stream)] == ["ours"]


def test_secrets_are_never_written(stream: io.StringIO) -> None:
    configure("INFO", "json", stream=stream)
    log = logging.getLogger("joule.test")
    log.info("header Authorization: Basic Q1AtMTpzZWNyZXQtcGFzc3dvcmQ=")
    log.info("connecting to postgresql://joule:db-pass-123@db:5432/joule")
    log.info("form password=hunter2-long&user=x")
    try:
        raise ValueError("token: eyJhbGciOiJIUzI1NiJ9.payload.sig")
    except ValueError:
        log.exception("failed")
    structlog.get_logger("joule.test").info("bound", password="hunter2", api_key="k-123")
    text = stream.getvalue()
    for secret in ("Q1AtMTpzZWNyZXQtcGFzc3dvcmQ=", "db-pass-123", "hunter2", "eyJhbGci", "k-123"):
        assert secret not in text, text
    records = lines(stream)
    assert records[0]["event"] == "header Authorization: Basic [redacted]"
    assert records[1]["event"] == "connecting to postgresql://joule:[redacted]@db:5432/joule"
    assert "Traceback" in records[3]["exception"]
    assert records[4]["password"] == "[redacted]" and records[4]["api_key"] == "[redacted]"
    assert scrub_text("station CP-1 booted") == "station CP-1 booted"


def test_console_format_is_plain_without_a_terminal(stream: io.StringIO) -> None:
    assert configure("INFO", "console", stream=stream) is LogFormat.CONSOLE
    with bound(request_id="r-2"):
        logging.getLogger("joule.test").warning("slow answer")
    line = stream.getvalue()
    assert "slow answer" in line and "request_id=r-2" in line and "warning" in line
    assert "\x1b[" not in line  # no colours into a file


def test_default_is_console_on_a_terminal_and_json_otherwise() -> None:
    primary, secondary = os.openpty()
    with os.fdopen(secondary, "w") as terminal, os.fdopen(primary, "rb"):
        assert resolve_format(None, terminal) is LogFormat.CONSOLE
    read, write = os.pipe()
    with os.fdopen(write, "w") as pipe, os.fdopen(read, "rb"):
        assert resolve_format(None, pipe) is LogFormat.JSON
        assert resolve_format("CONSOLE", pipe) is LogFormat.CONSOLE


def test_serve_refuses_an_unknown_log_format() -> None:
    result = CliRunner().invoke(app, ["serve", "--log-format", "xml"])
    assert result.exit_code == 2
    assert "xml" in result.output and "json" in result.output


async def test_request_id_is_bound_echoed_and_only_kept_when_plain(stream: io.StringIO) -> None:
    configure("DEBUG", "json", stream=stream)

    async def endpoint(request: Request) -> PlainTextResponse:
        logging.getLogger("joule.test").info("in the route")
        return PlainTextResponse("ok")

    app = RequestIdMiddleware(Starlette(routes=[Route("/x", endpoint)]))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://joule") as client:
        kept = await client.get("/x?token=abc123secret", headers={"X-Request-ID": "lb-7.1"})
        made = await client.get("/x", headers={"X-Request-ID": "bad id\r\nX-Evil: 1"})
    assert kept.headers["X-Request-ID"] == "lb-7.1"
    assert len(made.headers["X-Request-ID"]) == 16 and "X-Evil" not in made.headers
    records = [r for r in lines(stream) if r["logger"] in ("joule.test", "joule.api.request_id")]
    route, access = records[0], records[1]
    assert route["request_id"] == "lb-7.1" and route["event"] == "in the route"
    assert access["request_id"] == "lb-7.1" and access["event"].startswith("GET /x 200 ")
    assert records[2]["request_id"] == made.headers["X-Request-ID"]
    assert "abc123secret" not in stream.getvalue()  # the path is logged, not the query
