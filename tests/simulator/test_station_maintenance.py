"""Firmware updates and log uploads against a real HTTP server: the file moves, the statuses
follow (1.6 §4.3/§4.4, 2.x L01/N01), and the station comes back with the new firmware."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from joule.kit.clock import utc_iso
from joule.ocpp.versions import OcppVersion
from tests.e2e.test_charging_session import eventually
from tests.simulator.peer import Answer, Peer, accepted, station


class Files(BaseHTTPRequestHandler):
    """Serves /fw-*.bin and takes PUT uploads into `uploads`."""

    uploads: ClassVar[dict[str, bytes]] = {}

    def do_GET(self) -> None:
        if not self.path.startswith("/fw-"):
            self.send_error(404)
            return
        body = b"\x7fELF firmware image"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self) -> None:
        length = int(self.headers["Content-Length"])
        self.uploads[self.path] = self.rfile.read(length)
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def files() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Files)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def statuses(peer: Peer, action: str) -> list[str]:
    return [str(p["status"]) for _, _, a, p, _ in peer.calls if a == action]


async def test_v2x_firmware_update_reboots_into_the_new_version(
    peer_server: Callable[[Answer], Any], files: str
) -> None:
    peer, url = await peer_server(accepted)
    st = station(url, OcppVersion.V201)
    st.maintenance.step_s = 0.1
    await st.start()
    await st.wait_booted(10)
    request = {
        "requestId": 5,
        "firmware": {
            "location": f"{files}/fw-2.0.0.bin",
            "retrieveDateTime": utc_iso(datetime.now(UTC)),
        },
    }
    answer = await peer.call("UpdateFirmware", request)
    assert answer[0] == 3 and answer[2] == {"status": "Accepted"}

    async def installed() -> bool:
        return statuses(peer, "FirmwareStatusNotification")[-1:] == ["Installed"]

    await eventually(installed)
    assert statuses(peer, "FirmwareStatusNotification") == [
        "Downloading",
        "Downloaded",
        "Installing",
        "InstallRebooting",
        "Installed",
    ]
    boots = [p for _, _, a, p, _ in peer.calls if a == "BootNotification"]
    assert boots[-1]["reason"] == "FirmwareUpdate"
    assert boots[-1]["chargingStation"]["firmwareVersion"] == "fw-2.0.0"
    await st.stop()


async def test_v16_diagnostics_upload_and_a_failed_download(
    peer_server: Callable[[Answer], Any], files: str
) -> None:
    peer, url = await peer_server(accepted)
    st = station(url, OcppVersion.V16)
    await st.start()
    await st.wait_booted(10)
    answer = await peer.call("GetDiagnostics", {"location": f"{files}/logs"})
    name = answer[2]["fileName"]
    assert name.startswith("PEER-1-diagnostics-")

    async def uploaded() -> bool:
        return statuses(peer, "DiagnosticsStatusNotification") == ["Uploading", "Uploaded"]

    await eventually(uploaded)
    assert b"station PEER-1" in Files.uploads[f"/logs/{name}"]

    missing = {"location": f"{files}/nothing.bin", "retrieveDate": utc_iso(datetime.now(UTC))}
    assert (await peer.call("UpdateFirmware", missing))[2] == {}

    async def failed() -> bool:
        return statuses(peer, "FirmwareStatusNotification") == ["Downloading", "DownloadFailed"]

    await eventually(failed)
    assert st.counters.boots == 1  # no install, no reboot
    await st.stop()
