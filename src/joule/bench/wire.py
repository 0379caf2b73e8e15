"""A lean, callback-based WebSocket client (RFC 6455) so the load generator is never the limit.

No task per connection and no per-frame awaits: frames are parsed in `data_received` and handed
to a callback. Only what a station needs: the upgrade, masked text frames out, unmasked text
frames in, ping → pong, and the closing handshake. No extensions (the servers run without
compression, as Joule does).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import random
from collections.abc import Callable

from websockets.speedups import apply_mask

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3
_TEXT, _CONT, _CLOSE, _PING, _PONG = 0x1, 0x0, 0x8, 0x9, 0xA
_MAX_HEADER = 16 * 1024


class HandshakeFailed(ConnectionError):
    """The server did not switch protocols (e.g. 401, 404, or a wrong accept key)."""


class LeanSocket(asyncio.Protocol):
    """One client WebSocket; `on_text` gets each complete text message as bytes."""

    def __init__(
        self,
        *,
        host: str,
        path: str,
        subprotocol: str | None,
        on_text: Callable[[bytes], None],
        authorization: str | None = None,
    ) -> None:
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self.subprotocol: str | None = None
        self._host = host
        self._path = path
        self._offered = subprotocol
        self._authorization = authorization
        self._on_text = on_text
        self._transport: asyncio.Transport | None = None
        self._key = base64.b64encode(random.randbytes(16))
        self._buffer = bytearray()
        self._fragments: list[bytes] = []
        self._open = False
        self._closing = False

    # -- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        lines = [
            f"GET {self._path} HTTP/1.1",
            f"Host: {self._host}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {self._key.decode()}",
            "Sec-WebSocket-Version: 13",
        ]
        if self._offered:
            lines.append(f"Sec-WebSocket-Protocol: {self._offered}")
        if self._authorization:
            lines.append(f"Authorization: {self._authorization}")
        transport.write(("\r\n".join(lines) + "\r\n\r\n").encode())

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if not self._open and not self._upgrade():
            return
        self._frames()

    def connection_lost(self, exc: Exception | None) -> None:
        self._open = False
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionResetError("closed during the upgrade"))
        if not self.closed.done():
            self.closed.set_result(None)

    # -- sending ---------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """True between a successful upgrade and the start of the close."""
        return self._open and not self._closing

    def send_text(self, payload: bytes) -> None:
        """Send one text message (masked, as every client frame must be: RFC 6455 §5.3)."""
        self._write(_TEXT, payload)

    def close(self, code: int = 1000) -> None:
        """Start the closing handshake; the transport closes when the server answers."""
        if self._transport is None or self._transport.is_closing():
            return
        if not self._open or self._closing:
            self._transport.close()
            return
        self._closing = True
        self._write(_CLOSE, code.to_bytes(2, "big"))
        # A server that never answers the close frame must not keep the socket forever.
        asyncio.get_running_loop().call_later(2.0, self.abort)

    def abort(self) -> None:
        """Drop the TCP connection at once."""
        if self._transport is not None:
            self._transport.abort()

    def _write(self, opcode: int, payload: bytes) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        length = len(payload)
        if length < 126:
            header = bytes((0x80 | opcode, 0x80 | length))
        elif length < 65536:
            header = bytes((0x80 | opcode, 0x80 | 126)) + length.to_bytes(2, "big")
        else:
            header = bytes((0x80 | opcode, 0x80 | 127)) + length.to_bytes(8, "big")
        mask = random.randbytes(4)
        transport.write(header + mask + apply_mask(payload, mask))

    # -- receiving -------------------------------------------------------------------------

    def _upgrade(self) -> bool:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > _MAX_HEADER:
                self._fail(HandshakeFailed("response headers too long"))
            return False
        head = bytes(self._buffer[:end]).decode("latin-1").split("\r\n")
        del self._buffer[: end + 4]
        status = head[0].split(" ", 2)
        if len(status) < 2 or status[1] != "101":
            self._fail(HandshakeFailed(head[0]))
            return False
        headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        expected = base64.b64encode(hashlib.sha1(self._key + _GUID).digest()).decode()
        if headers.get("sec-websocket-accept") != expected:
            self._fail(HandshakeFailed("wrong Sec-WebSocket-Accept"))
            return False
        self.subprotocol = headers.get("sec-websocket-protocol")
        self._open = True
        if not self.opened.done():
            self.opened.set_result(None)
        return True

    def _fail(self, error: Exception) -> None:
        if not self.opened.done():
            self.opened.set_exception(error)
        if self._transport is not None:
            self._transport.abort()

    def _frames(self) -> None:
        buffer = self._buffer
        pos = 0
        size = len(buffer)
        while size - pos >= 2:
            b0, b1 = buffer[pos], buffer[pos + 1]
            length = b1 & 0x7F
            head = 2
            if length == 126:
                if size - pos < 4:
                    break
                length = int.from_bytes(buffer[pos + 2 : pos + 4], "big")
                head = 4
            elif length == 127:
                if size - pos < 10:
                    break
                length = int.from_bytes(buffer[pos + 2 : pos + 10], "big")
                head = 10
            if b1 & 0x80:
                self._fail(ConnectionError("server frames must not be masked (RFC 6455 §5.1)"))
                return
            end = pos + head + length
            if end > size:
                break
            payload = bytes(buffer[pos + head : end])
            pos = end
            self._frame(b0 & 0x80, b0 & 0x0F, payload)
        del buffer[:pos]

    def _frame(self, fin: int, opcode: int, payload: bytes) -> None:
        if opcode in (_TEXT, _CONT):
            if not fin:
                self._fragments.append(payload)
                return
            if self._fragments:
                payload = b"".join((*self._fragments, payload))
                self._fragments.clear()
            self._on_text(payload)
        elif opcode == _PING:
            self._write(_PONG, payload)
        elif opcode == _CLOSE:
            if not self._closing:
                self._closing = True
                self._write(_CLOSE, payload[:2])
            if self._transport is not None:
                self._transport.close()
