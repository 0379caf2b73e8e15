"""A throw-away test PKI made with `cryptography`: a CSO root, the CSMS server cert, station certs.

Nothing here is faked: the files are real PEM certificates and keys that OpenSSL verifies, so the
gateway's TLS listener is tested exactly as a charger would meet it.
"""

from __future__ import annotations

import ipaddress
import ssl
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CSO = "Joule Test CSO"


@dataclass(frozen=True, slots=True)
class Issued:
    """A certificate and its private key as PEM files."""

    cert: Path
    key: Path


@dataclass(frozen=True, slots=True)
class _Authority:
    name: x509.Name
    key: ec.EllipticCurvePrivateKey


def _name(cn: str, organization: str = CSO) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _write(
    directory: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> Issued:
    cert_path = directory / f"{stem}.crt"
    key_path = directory / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Issued(cert_path, key_path)


def _root(cn: str, now: datetime) -> tuple[_Authority, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(cn)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return _Authority(name, key), cert


@dataclass
class TestPki:
    """A CSO root trusted by Joule (and by stations), the CSMS server cert, and station certs."""

    __test__ = False  # not a pytest class

    directory: Path
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    ca: Path = field(init=False)
    server: Issued = field(init=False)
    _root: _Authority = field(init=False)
    _rogue: _Authority | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._root, root_cert = _root("Joule Test Root CA", self.now)
        self.ca = self.directory / "ca.crt"
        self.ca.write_bytes(root_cert.public_bytes(serialization.Encoding.PEM))
        self.server = self._issue(
            self._root,
            "csms",
            cn="localhost",
            server=True,
            not_before=self.now - timedelta(days=1),
            not_after=self.now + timedelta(days=30),
        )

    def station(self, cn: str, *, expired: bool = False, untrusted: bool = False) -> Issued:
        """A station (client) certificate whose subject CN is `cn` (A00.FR.405)."""
        authority = self._root
        if untrusted:
            if self._rogue is None:
                self._rogue, _ = _root("Rogue Root CA", self.now)
            authority = self._rogue
        if expired:
            not_before, not_after = self.now - timedelta(days=60), self.now - timedelta(days=1)
        else:
            not_before, not_after = self.now - timedelta(days=1), self.now + timedelta(days=30)
        stem = f"station-{cn}{'-expired' if expired else ''}{'-untrusted' if untrusted else ''}"
        return self._issue(
            authority, stem, cn=cn, server=False, not_before=not_before, not_after=not_after
        )

    def _issue(
        self,
        authority: _Authority,
        stem: str,
        *,
        cn: str,
        server: bool,
        not_before: datetime,
        not_after: datetime,
    ) -> Issued:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(cn))
            .issuer_name(authority.name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(authority.key.public_key()),
                critical=False,
            )
        )
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
        cert = builder.sign(authority.key, hashes.SHA256())
        return _write(self.directory, stem, cert, key)

    def client_context(
        self,
        cert: Issued | None = None,
        *,
        minimum: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2,
        maximum: ssl.TLSVersion = ssl.TLSVersion.MAXIMUM_SUPPORTED,
    ) -> ssl.SSLContext:
        """A station's TLS context: trusts the CSMS root, optionally presents a client cert."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(cafile=str(self.ca))
        with warnings.catch_warnings():
            # TLS 1.0/1.1 are deprecated in Python's ssl: that is the point of offering them here.
            warnings.simplefilter("ignore", DeprecationWarning)
            if minimum < ssl.TLSVersion.TLSv1_2:
                # Let this OpenSSL even offer TLS 1.0/1.1, so that it is Joule that refuses them.
                ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
            ctx.minimum_version = minimum
            ctx.maximum_version = maximum
        if cert is not None:
            ctx.load_cert_chain(str(cert.cert), str(cert.key))
        return ctx
