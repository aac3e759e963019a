"""A throwaway PKI that imitates Alexa's request-signing chain, for the endpoint tests.

Why: the verifier must be exercised end to end (path validation, SAN, expiry, RSA signature)
without the network and without Amazon's private key. We mint a root, an intermediate and
leaves shaped like Amazon's (RSA-2048 leaf with SAN echo-api.amazon.com, serverAuth EKU), plus
the broken variants the tests need. Key generation is the slow part, so everything is made
once per test session behind `functools.cache`.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from skill.tools.envelopes import Device

CERT_URL = "https://s3.amazonaws.com/echo.api/echo-api-cert-test.pem"
SKILL_ID = "amzn1.ask.skill.00000000-0000-0000-0000-000000000000"
ALEXA_DOMAIN = "echo-api.amazon.com"

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@dataclass(frozen=True)
class Pki:
    """PEM chains (leaf first, as Amazon serves them) and the keys that sign request bodies."""

    root_pem: bytes
    chain_pem: bytes
    expired_chain_pem: bytes
    wrong_san_chain_pem: bytes
    no_san_chain_pem: bytes
    untrusted_chain_pem: bytes
    ec_leaf_chain_pem: bytes
    weak_chain_pem: bytes  # RSA-1024 leaf, otherwise perfect
    no_signing_usage_chain_pem: bytes  # key usage without digitalSignature
    no_key_usage_chain_pem: bytes  # no key usage extension at all
    leaf_key: rsa.RSAPrivateKey
    weak_leaf_key: rsa.RSAPrivateKey
    other_key: rsa.RSAPrivateKey
    leaf_not_after: datetime


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _ca_cert(
    subject: str, key: PrivateKey, issuer: x509.Certificate | None, issuer_key: PrivateKey
) -> x509.Certificate:
    """A CA certificate with the extensions WebPKI path validation insists on."""
    now = datetime.now(UTC)
    public = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer.subject if issuer else _name(subject))
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=30))
        .not_valid_after(now + timedelta(days=3650))
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
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    )
    signer_public = issuer.public_key() if issuer else public
    builder = builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_public), critical=False
    )
    return builder.sign(issuer_key, hashes.SHA256())


def _leaf_cert(
    key: PrivateKey,
    issuer: x509.Certificate,
    issuer_key: PrivateKey,
    *,
    dns_names: list[str] | None,
    not_before: datetime,
    not_after: datetime,
    digital_signature: bool | None = True,
) -> x509.Certificate:
    """A signing certificate like Amazon's; `dns_names=None` leaves the SAN out entirely,
    `digital_signature=None` the key usage."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(dns_names[0] if dns_names else "no-san.invalid"))
        .issuer_name(issuer.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.public_key()),
            critical=False,
        )
    )
    if digital_signature is not None:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=digital_signature,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    if dns_names is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name) for name in dns_names]),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(*certs: x509.Certificate) -> bytes:
    return b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in certs)


def _rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    """RSA-2048 as Amazon uses; the verifier refuses less (WebPKI validation alone would not)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@functools.cache
def pki() -> Pki:
    """Build the whole test PKI once; CAs use EC keys because RSA generation is slow."""
    now = datetime.now(UTC)
    root_key, intermediate_key, rogue_key, ec_leaf_key = (
        ec.generate_private_key(ec.SECP256R1()) for _ in range(4)
    )
    leaf_key, other_key, weak_leaf_key = _rsa_key(), _rsa_key(), _rsa_key(1024)
    root = _ca_cert("Test Alexa Root", root_key, None, root_key)
    intermediate = _ca_cert("Test Alexa Intermediate", intermediate_key, root, root_key)
    rogue_root = _ca_cert("Rogue Root", rogue_key, None, rogue_key)
    valid = {"not_before": now - timedelta(days=1), "not_after": now + timedelta(days=90)}
    expired = {"not_before": now - timedelta(days=90), "not_after": now - timedelta(days=1)}

    def leaf(issuer: x509.Certificate, issuer_key: PrivateKey, **kwargs: Any) -> x509.Certificate:
        return _leaf_cert(leaf_key, issuer, issuer_key, **kwargs)

    def alexa_chain(key: PrivateKey = leaf_key, **kwargs: Any) -> bytes:
        """A valid-looking leaf for echo-api.amazon.com under the intermediate, then it."""
        named = {"dns_names": [ALEXA_DOMAIN], **valid, **kwargs}
        return _pem(_leaf_cert(key, intermediate, intermediate_key, **named), intermediate)

    good = leaf(intermediate, intermediate_key, dns_names=[ALEXA_DOMAIN], **valid)
    return Pki(
        root_pem=_pem(root),
        chain_pem=_pem(good, intermediate),
        expired_chain_pem=_pem(
            leaf(intermediate, intermediate_key, dns_names=[ALEXA_DOMAIN], **expired),
            intermediate,
        ),
        wrong_san_chain_pem=_pem(
            leaf(intermediate, intermediate_key, dns_names=["echo-api.example.com"], **valid),
            intermediate,
        ),
        no_san_chain_pem=_pem(
            leaf(intermediate, intermediate_key, dns_names=None, **valid), intermediate
        ),
        untrusted_chain_pem=_pem(
            leaf(rogue_root, rogue_key, dns_names=[ALEXA_DOMAIN], **valid), rogue_root
        ),
        ec_leaf_chain_pem=alexa_chain(ec_leaf_key),
        weak_chain_pem=alexa_chain(weak_leaf_key),
        no_signing_usage_chain_pem=alexa_chain(digital_signature=False),
        no_key_usage_chain_pem=alexa_chain(digital_signature=None),
        leaf_key=leaf_key,
        weak_leaf_key=weak_leaf_key,
        other_key=other_key,
        leaf_not_after=good.not_valid_after_utc,
    )


def sign(body: bytes, key: rsa.RSAPrivateKey | None = None) -> str:
    """Base64 RSA PKCS#1 v1.5 SHA-256 signature of the raw body, as Alexa's Signature-256."""
    signer = key or pki().leaf_key
    return base64.b64encode(signer.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode()


def signed_headers(
    body: bytes, *, url: str = CERT_URL, key: rsa.RSAPrivateKey | None = None
) -> dict[str, str]:
    """The headers Alexa would send with `body`."""
    return {
        "Content-Type": "application/json; charset=utf-8",
        "SignatureCertChainUrl": url,
        "Signature-256": sign(body, key),
    }


class RecordingFetcher:
    """Serves PEM chains by URL from memory and remembers every URL it was asked for."""

    def __init__(self, chains: Mapping[str, bytes]) -> None:
        self.chains = dict(chains)
        self.calls: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.calls.append(url)
        return self.serve(url)

    def serve(self, url: str) -> bytes:
        """The chain for `url`, or the error a missing file on S3 gives."""
        if url not in self.chains:
            raise OSError(f"404 for {url}")
        return self.chains[url]


def iso(moment: datetime) -> str:
    """Alexa's timestamp format: ISO 8601 UTC with a Z suffix."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def launch_envelope(
    timestamp: datetime, *, skill_id: str = SKILL_ID, request_type: str = "LaunchRequest"
) -> dict[str, Any]:
    """A complete request envelope, as Alexa sends for "open foot routine"."""
    envelope = Device(skill_id=skill_id, user_id="amzn1.ask.account.TESTUSER").launch(timestamp)
    envelope["request"]["type"] = request_type
    return envelope
