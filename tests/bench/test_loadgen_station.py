"""The bench's lean station answers a CSMS CALL at once, as a charger without the feature does."""

from __future__ import annotations

from typing import Any

import orjson

from joule.bench.loadgen import Station


class _Socket:
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def send_text(self, frame: bytes) -> None:
        self.sent.append(frame)


def test_a_csms_call_gets_not_implemented_with_its_message_id() -> None:
    station = Station("B00001")
    socket = _Socket()
    station.socket = socket  # type: ignore[assignment]
    station.on_text(b'[2,"csms-7","GetLocalListVersion",{}]')
    [answer] = socket.sent
    frame: list[Any] = orjson.loads(answer)
    assert frame[:3] == [4, "csms-7", "NotImplemented"] and frame[4] == {}


def test_an_answer_to_the_stations_own_call_is_not_answered() -> None:
    station = Station("B00002")
    socket = _Socket()
    station.socket = socket  # type: ignore[assignment]
    station.on_text(b'[3,"1",{"currentTime":"2026-11-28T12:00:00.000Z"}]')
    assert socket.sent == []
