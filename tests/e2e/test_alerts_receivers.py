"""Receivers for alert delivery tests: a tiny HTTP webhook server and a tiny SMTP server.

Both are real servers on loopback, written on asyncio streams (aiohttp and aiosmtpd are not
dependencies; smtpd is deprecated). The tests at the bottom check the receivers themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import smtplib
from dataclasses import dataclass, field
from email.message import Message

import httpx


@dataclass
class HttpRequest:
    """What a webhook receiver got."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookReceiver:
    """Answers POSTs with the next status of `statuses` (then 200) and keeps every request."""

    statuses: list[int] = field(default_factory=list)
    requests: list[HttpRequest] = field(default_factory=list)
    server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/hook"

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            method, path, _ = head[0].split(" ", 2)
            headers = {}
            for line in head[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.requests.append(HttpRequest(method, path, headers, body))
            status = self.statuses.pop(0) if self.statuses else 200
            writer.write(
                f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()
            )
            await writer.drain()
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


@dataclass
class SmtpReceiver:
    """Accepts mail (RFC 5321 minimum: HELO/EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT)."""

    messages: list[tuple[list[str], Message]] = field(default_factory=list)
    server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def say(line: str) -> None:
            writer.write(line.encode() + b"\r\n")
            await writer.drain()

        recipients: list[str] = []
        try:
            await say("220 test-smtp ready")
            while line := (await reader.readline()).decode().rstrip("\r\n"):
                verb = line[:4].upper()
                if verb in ("HELO", "EHLO"):
                    await say("250 test-smtp")
                elif verb == "MAIL":
                    recipients = []
                    await say("250 OK")
                elif verb == "RCPT":
                    recipients.append(line.split(":", 1)[1].strip().strip("<>"))
                    await say("250 OK")
                elif verb == "DATA":
                    await say("354 end with <CRLF>.<CRLF>")
                    data = await reader.readuntil(b"\r\n.\r\n")
                    text = data[: -len(b"\r\n.\r\n")].replace(b"\r\n..", b"\r\n.")
                    self.messages.append((recipients, email.message_from_bytes(text)))
                    await say("250 queued")
                elif verb == "QUIT":
                    await say("221 bye")
                    break
                else:  # RSET, NOOP
                    await say("250 OK")
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


async def test_the_webhook_receiver_answers_its_statuses() -> None:
    receiver = WebhookReceiver(statuses=[503])
    await receiver.start()
    try:
        async with httpx.AsyncClient() as client:
            first = await client.post(receiver.url, content=b"{}")
            second = await client.post(receiver.url, content=b'{"a": 1}')
        assert (first.status_code, second.status_code) == (503, 200)
        assert receiver.requests[1].body == b'{"a": 1}'
    finally:
        await receiver.stop()


async def test_the_smtp_receiver_gets_a_message() -> None:
    receiver = SmtpReceiver()
    await receiver.start()
    try:

        def send() -> None:
            with smtplib.SMTP("127.0.0.1", receiver.port, timeout=5) as smtp:
                smtp.sendmail("a@example.test", ["b@example.test"], "Subject: hi\r\n\r\n.dot\r\n")

        await asyncio.to_thread(send)
        [(to, message)] = receiver.messages
        assert to == ["b@example.test"]
        assert message["Subject"] == "hi"
        assert message.get_payload().strip() == ".dot"
    finally:
        await receiver.stop()
