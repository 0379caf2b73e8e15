"""Every HTTP request gets an id: bound to its log lines and echoed in the X-Request-ID header.

A pure ASGI middleware (no extra task per request, unlike BaseHTTPMiddleware), so the binding
made here reaches the route, the domain and the gateway's send of a command in role all.
"""

from __future__ import annotations

import logging
import re
import secrets
import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from joule.kit.logging import bound

log = logging.getLogger(__name__)

HEADER = "X-Request-ID"
# An id a proxy in front already gave the request is kept, if it is a plain token: it lands in
# log lines and a response header, so nothing else (no spaces, quotes or newlines) is echoed.
_ACCEPTABLE = re.compile(r"[A-Za-z0-9._:-]{1,64}")


class RequestIdMiddleware:
    """Binds request_id for the request's lifetime and logs the request at DEBUG."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI request with its id bound."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _given_id(scope) or secrets.token_hex(8)
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message).append(HEADER, request_id)
            await send(message)

        started = time.perf_counter()
        with bound(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                # The path only: a query string may carry a token (never logged, security.md).
                log.debug(
                    "%s %s %d %.1f ms",
                    scope.get("method", "?"),
                    scope.get("path", "?"),
                    status,
                    (time.perf_counter() - started) * 1000,
                )


def _given_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _ACCEPTABLE.fullmatch(text) else None
    return None
