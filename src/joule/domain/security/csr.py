"""Checks on a certificate signing request before it may go to a CA (A02/A03, pure)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

# OCPP security key-size minimums for station certificates: RSA/DSA 2048 bits, elliptic curves 224.
MIN_RSA_BITS = 2048
MIN_EC_BITS = 224


@dataclass(frozen=True, slots=True)
class CsrVerdict:
    """Whether a CSR is acceptable, why, and the subject names it carries."""

    accepted: bool
    reason: str
    common_name: str | None = None
    organization: str | None = None


def _load(text: str) -> x509.CertificateSigningRequest:
    # Some firmwares send the PEM with escaped newlines or the bare base64 DER body.
    text = text.strip().replace("\\n", "\n")
    if "-----BEGIN" in text:
        return x509.load_pem_x509_csr(text.encode("ascii"))
    try:
        der = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("neither PEM nor base64 DER") from exc
    return x509.load_der_x509_csr(der)


def _first(csr: x509.CertificateSigningRequest, oid: x509.ObjectIdentifier) -> str | None:
    attributes = csr.subject.get_attributes_for_oid(oid)
    if not attributes:
        return None
    value = attributes[0].value
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def check_csr(
    pem: str, *, expected_common_names: Iterable[str], check_common_name: bool = True
) -> CsrVerdict:
    """Accept a parsable, self-consistent CSR whose CN names this station (A02.FR.11/12)."""
    try:
        csr = _load(pem)
    except (ValueError, UnicodeEncodeError) as exc:
        return CsrVerdict(accepted=False, reason=f"unparsable CSR: {exc}")
    try:
        signature_valid = csr.is_signature_valid
    except (UnsupportedAlgorithm, ValueError) as exc:
        return CsrVerdict(accepted=False, reason=f"CSR signature cannot be checked: {exc}")
    common_name = _first(csr, NameOID.COMMON_NAME)
    organization = _first(csr, NameOID.ORGANIZATION_NAME)

    def rejected(reason: str) -> CsrVerdict:
        return CsrVerdict(False, reason, common_name, organization)

    if not signature_valid:
        return rejected("CSR signature does not match its public key")
    try:
        key = csr.public_key()
    except (UnsupportedAlgorithm, ValueError) as exc:
        return rejected(f"unsupported public key: {exc}")
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        return rejected(f"RSA key of {key.key_size} bits is below {MIN_RSA_BITS}")
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.key_size < MIN_EC_BITS:
        return rejected(f"EC key of {key.curve.key_size} bits is below {MIN_EC_BITS}")
    if check_common_name:
        # A00.FR.405 / B01.FR.11: the station certificate's CN must be the station's identity;
        # a CSR naming any other station would let one station impersonate another.
        if common_name is None:
            return rejected("CSR has no common name")
        expected = {name for name in expected_common_names if name}
        if common_name not in expected:
            return rejected(f"CSR common name {common_name!r} is not this station")
    return CsrVerdict(True, "accepted", common_name, organization)
