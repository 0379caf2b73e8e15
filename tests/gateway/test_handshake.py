"""The pure upgrade checks: station id from the path, subprotocol choice, Basic credentials."""

from __future__ import annotations

import base64

import pytest

from joule.gateway.handshake import (
    MAX_STATION_ID,
    HandshakeError,
    parse_basic_auth,
    pick_subprotocol,
    station_id_from_path,
)
from joule.ocpp.versions import OcppVersion


@pytest.mark.parametrize(
    ("path", "station_id"),
    [
        ("/ocpp/CP-1", "CP-1"),
        ("/any/prefix/we/do/not/know/CP-1", "CP-1"),
        ("/ocpp/CP-1/", "CP-1"),
        ("/ocpp/CP-1?token=x", "CP-1"),
        ("/ocpp/RDAM%20123", "RDAM 123"),
        ("/" + "A" * MAX_STATION_ID, "A" * MAX_STATION_ID),
    ],
)
def test_station_id_is_the_last_segment(path: str, station_id: str) -> None:
    assert station_id_from_path(path) == station_id


@pytest.mark.parametrize(
    "path", ["/", "//", "", "/ocpp/" + "A" * (MAX_STATION_ID + 1), "/ocpp/CP%3A1", "/ocpp/CP:1"]
)
def test_bad_station_ids_are_404(path: str) -> None:
    with pytest.raises(HandshakeError) as info:
        station_id_from_path(path)
    assert info.value.status == 404


def test_subprotocol_in_the_stations_order_and_spelling() -> None:
    chosen = pick_subprotocol(["ocpp0.1, OCPP2.0.1", "ocpp1.6"], None)
    assert chosen.offered_token == "OCPP2.0.1" and chosen.version is OcppVersion.V201


def test_no_subprotocol_offered() -> None:
    assumed = pick_subprotocol([], "ocpp1.6")
    assert assumed.offered_token == "" and assumed.version is OcppVersion.V16
    with pytest.raises(HandshakeError) as info:
        pick_subprotocol([], None)
    assert info.value.status == 400


def test_no_common_subprotocol_is_400_even_with_an_assumption() -> None:
    # The assumption (Q1) covers chargers that offer nothing, not chargers that offer junk.
    with pytest.raises(HandshakeError) as info:
        pick_subprotocol(["mqtt"], "ocpp1.6")
    assert info.value.status == 400


def _basic(raw: bytes) -> str:
    return "Basic " + base64.b64encode(raw).decode()


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (_basic(b"CP-1:secret-secret-secret"), ("CP-1", "secret-secret-secret")),
        (_basic(b"CP-1:with:colons"), ("CP-1", "with:colons")),  # only the first ':' splits
        (_basic(b"CP-1:trailing "), ("CP-1", "trailing ")),  # kept, so it fails to match
        ("basic " + base64.b64encode(b"a:b").decode(), ("a", "b")),  # scheme is case-blind
        (None, None),
        ("", None),
        ("Bearer abc", None),
        ("Basic", None),
        ("Basic !!!notbase64", None),
        (_basic(b"no-colon"), None),
        (_basic(b"\xff\xfe:x"), None),  # not UTF-8
    ],
)
def test_parse_basic_auth(header: str | None, expected: tuple[str, str] | None) -> None:
    assert parse_basic_auth(header) == expected
