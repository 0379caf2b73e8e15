"""Security events, certificate signing and ISO 15118 certificate requests, on the real database."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from tests.domain.helpers import ALL_VERSIONS, T0, V2X, V16, add_station, handle, rows

from joule.domain.events import SecurityEventReceived
from joule.domain.security.csr import check_csr
from joule.domain.security.events import CRITICAL_SECURITY_EVENTS, is_critical
from joule.domain.station.intervals import utc
from joule.ocpp.versions import OcppVersion
from joule.storage.committer import GroupCommitter
from joule.storage.models import SecurityEvent, StationReport

versions = pytest.mark.parametrize("version", ALL_VERSIONS, ids=lambda v: f"ocpp{v.value}")
versions_2x = pytest.mark.parametrize("version", V2X, ids=lambda v: f"ocpp{v.value}")

SERIAL = "ACE0123456"


def make_csr(common_name: str | None, *, organization: str = "Joule CPO", key: Any = None) -> str:
    """A PEM CSR as a station would generate it (A02/A03)."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    names = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)]
    if common_name is not None:
        names.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name(names))
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM).decode("ascii")


@versions
async def test_security_events_are_kept_flagged_and_acknowledged(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    await add_station(committer)
    critical = await handle(
        committer,
        version,
        "SecurityEventNotification",
        {
            "type": "TamperDetectionActivated",
            "timestamp": "2026-11-28T11:59:58.120Z",
            "techInfo": "enclosure opened",
        },
    )
    routine = await handle(
        committer,
        version,
        "SecurityEventNotification",
        {"type": "FailedToAuthenticateAtCsms", "timestamp": "1970-01-01T00:00:05Z"},
        received_at=T0 + timedelta(seconds=3),
    )

    assert critical.response == {} and routine.response == {}  # A04.FR.02/03
    events = await rows(committer, SecurityEvent, station_id="CS-1")
    assert [(e.type, e.critical, e.tech_info) for e in events] == [
        ("TamperDetectionActivated", True, "enclosure opened"),
        ("FailedToAuthenticateAtCsms", False, None),
    ]
    assert utc(events[0].timestamp) == T0 - timedelta(milliseconds=1880)
    assert utc(events[1].timestamp) == T0 + timedelta(seconds=3)  # Q8: 1970 → receive time
    assert utc(events[1].received_at) == T0 + timedelta(seconds=3)
    assert critical.of_type(SecurityEventReceived) == [
        SecurityEventReceived(
            "CS-1", "TamperDetectionActivated", True, T0 - timedelta(milliseconds=1880)
        )
    ]
    assert routine.of_type(SecurityEventReceived)[0].critical is False


@versions
async def test_every_critical_event_type_is_flagged(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    """Scenario 37, including the 1.6 whitepaper's own names."""
    await add_station(committer)
    for event_type in sorted(CRITICAL_SECURITY_EVENTS):
        handled = await handle(
            committer,
            version,
            "SecurityEventNotification",
            {"type": event_type, "timestamp": "2026-11-28T11:00:00Z"},
        )
        assert handled.response == {}
    stored = await rows(committer, SecurityEvent, station_id="CS-1")
    assert len(stored) == len(CRITICAL_SECURITY_EVENTS)
    assert all(e.critical for e in stored)


def test_critical_names_ignore_case() -> None:
    assert is_critical("invalidfirmwaresignature")
    assert is_critical("InvalidCentralSystemCertificate")
    assert not is_critical("SecurityLogWasRead")


@versions
async def test_sign_certificate_accepts_a_csr_naming_this_station(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    await add_station(committer, serial_number=SERIAL)
    for common_name in (SERIAL, "CS-1"):
        payload: dict[str, Any] = {"csr": make_csr(common_name)}
        if version is not V16:
            payload["certificateType"] = "ChargingStationCertificate"
        handled = await handle(committer, version, "SignCertificate", payload)
        assert handled.response == {"status": "Accepted"}
    kept = await rows(committer, StationReport, station_id="CS-1", action="SignCertificate")
    assert [r.payload["status"] for r in kept] == ["Accepted", "Accepted"]
    assert kept[0].payload["csr"].startswith("-----BEGIN CERTIFICATE REQUEST-----")


@versions
@pytest.mark.parametrize(
    "csr",
    [
        pytest.param(lambda: make_csr("CS-OTHER"), id="cn-of-another-station"),
        pytest.param(lambda: make_csr(None), id="no-cn"),
        pytest.param(lambda: "-----BEGIN CERTIFICATE REQUEST-----\nnot base64\n", id="garbage"),
        pytest.param(
            lambda: make_csr(SERIAL, key=rsa.generate_private_key(65537, 1024)), id="rsa-1024"
        ),
    ],
)
async def test_sign_certificate_rejects_bad_csrs(
    committer: GroupCommitter, version: OcppVersion, csr: Any
) -> None:
    """Scenario 38 / A02.FR.12: never forward a CSR that could impersonate another station."""
    await add_station(committer, serial_number=SERIAL)
    handled = await handle(committer, version, "SignCertificate", {"csr": csr()})

    assert handled.response == {"status": "Rejected"}
    [kept] = await rows(committer, StationReport, station_id="CS-1", action="SignCertificate")
    assert kept.payload["status"] == "Rejected" and kept.payload["reason"]


@versions_2x
async def test_v2g_csr_is_not_bound_to_the_station_name(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    await add_station(committer, serial_number=SERIAL)
    payload = {"csr": make_csr("DEJOUE1234567"), "certificateType": "V2GCertificate"}
    assert (await handle(committer, version, "SignCertificate", payload)).response == {
        "status": "Accepted"
    }


def test_csr_in_escaped_pem_or_bare_der_is_read() -> None:
    pem = make_csr("CS-1")
    escaped = pem.replace("\n", "\\n")
    body = "".join(line for line in pem.splitlines() if not line.startswith("-----"))
    for text in (escaped, body):
        verdict = check_csr(text, expected_common_names=["CS-1"])
        assert verdict.accepted and verdict.common_name == "CS-1"
    assert verdict.organization == "Joule CPO"
    assert not check_csr(
        base64.b64encode(b"junk").decode(), expected_common_names=["CS-1"]
    ).accepted


def test_csr_with_an_altered_subject_is_rejected() -> None:
    """A CSR whose subject was edited after signing (CS-1 → CS-2) fails its signature check."""
    csr = x509.load_pem_x509_csr(make_csr("CS-1").encode())
    der = csr.public_bytes(serialization.Encoding.DER)
    assert der.count(b"CS-1") == 1
    altered = base64.b64encode(der.replace(b"CS-1", b"CS-2")).decode()
    verdict = check_csr(altered, expected_common_names=["CS-2"])
    assert not verdict.accepted
    assert "signature" in verdict.reason


@versions_2x
async def test_15118_certificate_and_ocsp_requests_fail_without_a_pki(
    committer: GroupCommitter, version: OcppVersion
) -> None:
    await add_station(committer)
    ev = await handle(
        committer,
        version,
        "Get15118EVCertificate",
        {"iso15118SchemaVersion": "urn:iso:15118:2:2013:MsgDef", "action": "Install",
         "exiRequest": "gAKDBBGjEA=="},
    )  # fmt: skip
    ocsp = await handle(
        committer,
        version,
        "GetCertificateStatus",
        {
            "ocspRequestData": {
                "hashAlgorithm": "SHA256",
                "issuerNameHash": "a" * 64,
                "issuerKeyHash": "b" * 64,
                "serialNumber": "0e4d",
                "responderURL": "http://ocsp.example.com",
            }
        },
    )
    assert ev.response == {"status": "Failed", "exiResponse": ""}
    assert ocsp.response == {"status": "Failed"}
    kept = await rows(committer, StationReport, station_id="CS-1")
    assert [r.action for r in kept] == ["Get15118EVCertificate", "GetCertificateStatus"]
