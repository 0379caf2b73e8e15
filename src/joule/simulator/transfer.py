"""File transfers a station makes for the CSMS: firmware downloads, diagnostics/log uploads.

HTTP(S) and FTP, as chargers support them (C16 §5.9 GetDiagnostics and §5.19 UpdateFirmware name
a URI; 2.x L01/N01 the same). Blocking stdlib clients run in a worker thread.
"""

from __future__ import annotations

import asyncio
import ftplib
import io
import urllib.error
import urllib.request
from urllib.parse import unquote, urlsplit

MAX_FIRMWARE_BYTES = 64 * 1024 * 1024


class TransferFailed(Exception):
    """The file could not be fetched or delivered."""


def _ftp(location: str) -> tuple[ftplib.FTP, str]:
    parts = urlsplit(location)
    ftp = ftplib.FTP()
    ftp.connect(parts.hostname or "", parts.port or 21, timeout=30)
    ftp.login(unquote(parts.username or "anonymous"), unquote(parts.password or ""))
    return ftp, parts.path or "/"


def _download(location: str, timeout_s: float, max_bytes: int) -> bytes:
    scheme = urlsplit(location).scheme.lower()
    if scheme in ("http", "https"):
        with urllib.request.urlopen(location, timeout=timeout_s) as response:
            data: bytes = response.read(max_bytes + 1)
    elif scheme == "ftp":
        ftp, path = _ftp(location)
        buffer = io.BytesIO()
        try:
            ftp.retrbinary(f"RETR {path}", buffer.write)
        finally:
            ftp.close()
        data = buffer.getvalue()
    else:
        raise TransferFailed(f"unsupported scheme {scheme!r}")
    if len(data) > max_bytes:
        raise TransferFailed("the file is too large")
    return data


def _upload(location: str, filename: str, data: bytes, timeout_s: float) -> None:
    scheme = urlsplit(location).scheme.lower()
    if scheme in ("http", "https"):
        target = location.rstrip("/") + "/" + filename
        request = urllib.request.Request(target, data=data, method="PUT")
        request.add_header("Content-Type", "text/plain; charset=utf-8")
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            response.read()
    elif scheme == "ftp":
        ftp, path = _ftp(location)
        try:
            ftp.storbinary(f"STOR {path.rstrip('/')}/{filename}", io.BytesIO(data))
        finally:
            ftp.close()
    else:
        raise TransferFailed(f"unsupported scheme {scheme!r}")


async def download(
    location: str, *, timeout_s: float = 60.0, max_bytes: int = MAX_FIRMWARE_BYTES
) -> bytes:
    """Fetch a file (firmware) from an http(s):// or ftp:// location."""
    try:
        return await asyncio.to_thread(_download, location, timeout_s, max_bytes)
    except (OSError, ValueError, ftplib.Error, urllib.error.URLError) as exc:
        raise TransferFailed(str(exc)) from exc


async def upload(location: str, filename: str, data: bytes, *, timeout_s: float = 60.0) -> None:
    """Deliver a file (diagnostics, a log) to an http(s):// (PUT) or ftp:// location."""
    try:
        await asyncio.to_thread(_upload, location, filename, data, timeout_s)
    except (OSError, ValueError, ftplib.Error, urllib.error.URLError) as exc:
        raise TransferFailed(str(exc)) from exc
