"""Prove that a request to the self-hosted endpoint really comes from Alexa.

Why: a skill hosted as a web service (not Lambda) is reachable by anyone on the internet, so
Amazon requires it to check every request as described in "Host a Custom Skill as a Web
Service": the signing certificate URL, the certificate chain, the RSA signature over the raw
body and the request timestamp. This module does exactly that, on the maintained `cryptography`
package (WebPKI path validation) rather than the unmaintained helpers flask-ask-sdk pulls in.

It is deliberately framework-free: the web layer hands over headers, the raw body and the parsed
JSON, and maps `VerificationError` to an HTTP 400.
"""

from __future__ import annotations

import base64
import functools
import logging
import os
import posixpath
import re
import ssl
import threading
import time
import urllib.request
import warnings
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import certifi
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509 import verification

CERT_URL_HEADER = "SignatureCertChainUrl"
SIGNATURE_HEADER = "Signature-256"
ALEXA_SIGNING_DOMAIN = "echo-api.amazon.com"
CERT_URL_HOST = "s3.amazonaws.com"
CERT_URL_PATH_PREFIX = "/echo.api/"
REQUEST_TOLERANCE = timedelta(seconds=150)
SKILL_EVENT_TOLERANCE = timedelta(hours=1)
SKILL_EVENT_PREFIX = "AlexaSkillEvent."
# Amazon's certificate paths are plain (`/echo.api/echo-api-cert-12.pem`); anything else (a
# percent-escape such as %2e or %2f, a backslash, a space) could make two spellings of one URL,
# or a URL that means one thing here and another to the server that is asked for it.
CERT_URL_PATH_CHARACTERS = re.compile(r"[A-Za-z0-9._~/-]*")
FETCH_TIMEOUT_SECONDS = 2.0  # each connect or read
FETCH_DEADLINE_SECONDS = 3.0  # the whole download: a host trickling bytes is cut off
MAX_CHAIN_BYTES = 64 * 1024
MIN_RSA_KEY_BITS = 2048
DEFAULT_CACHE_SIZE = 32
# A failed URL is answered from memory for a minute, so repeating it costs no fetch; bounded,
# and kept apart from verified chains so a flood of bad URLs cannot push a good chain out.
FAILURE_TTL = timedelta(seconds=60)
FAILURE_CACHE_SIZE = 256
# Threads that may be tied up fetching a chain (or waiting for another thread's fetch) at once.
# Below the server's worker count, so a slow certificate host can never occupy every worker:
# requests whose chain is cached keep being answered, the extra fetches are refused at once.
DEFAULT_MAX_FETCHING = 2
WAIT_FOR_FETCH_SECONDS = FETCH_DEADLINE_SECONDS + FETCH_TIMEOUT_SECONDS

logger = logging.getLogger(__name__)

Fetcher = Callable[[str], bytes]
Clock = Callable[[], datetime]
TrustRoots = bytes | str | os.PathLike[str] | None


class VerificationError(Exception):
    """A request failed one of Amazon's checks; `reason` is short and safe to show the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class _VerifiedKey:
    """What survives of a verified chain: the leaf's key and when the chain stops being valid."""

    public_key: rsa.RSAPublicKey
    not_before: datetime
    not_after: datetime


def utc_now() -> datetime:
    """The default clock; injectable so tests can move time."""
    return datetime.now(UTC)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Amazon serves the chain directly; following a redirect would only widen what we fetch."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def fetch_cert_chain(url: str) -> bytes:
    """Download a PEM chain over HTTPS (certifi roots, no redirects, time- and size-capped)."""
    context = ssl.create_default_context(cafile=certifi.where())
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), _NoRedirects)
    return read_chain(opener, url)


def read_chain(
    opener: urllib.request.OpenerDirector, url: str, deadline_seconds: float = FETCH_DEADLINE_SECONDS
) -> bytes:
    """GET `url` through `opener`: at most MAX_CHAIN_BYTES, all of it within the deadline.

    Why a deadline on top of the socket timeout: the timeout bounds each read, so a host that
    sends a byte a second would otherwise hold a server thread for the whole 64 KB.
    """
    deadline = time.monotonic() + deadline_seconds
    data = bytearray()
    with opener.open(url, timeout=FETCH_TIMEOUT_SECONDS) as response:
        while chunk := response.read1(MAX_CHAIN_BYTES + 1 - len(data)):
            data += chunk
            if len(data) > MAX_CHAIN_BYTES:
                raise ValueError(f"certificate chain larger than {MAX_CHAIN_BYTES} bytes")
            if time.monotonic() > deadline:
                raise TimeoutError(f"certificate chain took over {deadline_seconds:g} s")
    return bytes(data)


def load_trust_roots(source: TrustRoots = None) -> list[x509.Certificate]:
    """Roots from PEM bytes/text or a path to a PEM bundle; certifi's bundle when not given."""
    if source is None:
        source = certifi.where()
    if isinstance(source, str) and "-----BEGIN" in source:
        source = source.encode("ascii")
    if not isinstance(source, bytes):
        with open(source, "rb") as bundle:
            source = bundle.read()
    # certifi still ships a legacy root with a non-positive serial number; loading it warns on
    # every start-up although it is harmless here.
    with warnings.catch_warnings(action="ignore", category=CryptographyDeprecationWarning):
        return x509.load_pem_x509_certificates(source)


@functools.lru_cache(maxsize=64)
def check_cert_url(url: str) -> str:
    """Amazon's URL rules (https, host s3.amazonaws.com, port 443, path under /echo.api/);
    returns the URL in its one normal spelling, the only form that is fetched or cached.

    Stricter than Amazon's wording on purpose: a query, fragment, user name or escaped
    character would give one certificate endless spellings, each a cache miss and a fetch.
    A pure function of the URL, and Alexa uses one URL for a long time: a URL that passed
    is not parsed again (a failing one raises, which lru_cache never caches)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise VerificationError("malformed SignatureCertChainUrl") from exc
    if parts.scheme.lower() != "https":
        raise VerificationError("SignatureCertChainUrl is not https")
    if "@" in parts.netloc:
        raise VerificationError("SignatureCertChainUrl has user information")
    if (parts.hostname or "").lower() != CERT_URL_HOST:
        raise VerificationError("SignatureCertChainUrl host is not s3.amazonaws.com")
    if port not in (None, 443):
        raise VerificationError("SignatureCertChainUrl port is not 443")
    if "?" in url or "#" in url:
        raise VerificationError("SignatureCertChainUrl has a query or fragment")
    if not CERT_URL_PATH_CHARACTERS.fullmatch(parts.path):
        raise VerificationError("SignatureCertChainUrl path has escaped or unusual characters")
    path = posixpath.normpath(parts.path or "/")
    if not path.startswith(CERT_URL_PATH_PREFIX):
        raise VerificationError("SignatureCertChainUrl path is not under /echo.api/")
    return f"https://{CERT_URL_HOST}{path}"


def decode_signature(value: str) -> bytes:
    """Strict base64, so a garbled header is reported as such rather than as a bad signature."""
    try:
        return base64.b64decode(value, validate=True)
    except ValueError as exc:  # binascii.Error, or non-ASCII characters
        raise VerificationError("Signature-256 is not valid base64") from exc


def _header(headers: Mapping[str, str], name: str) -> str:
    """Case-insensitive lookup that works for plain dicts as well as Werkzeug headers.

    Werkzeug's own `get` is already case-insensitive and cheap; walking every header
    (Werkzeug builds each from the WSGI environ) is only the fallback for plain dicts.
    """
    value = headers.get(name)
    if value is None:
        wanted = name.lower()
        value = next((v for key, v in headers.items() if key.lower() == wanted), "")
    return value.strip()


def _subobject(parent: Any, key: str) -> dict[str, Any]:
    value = parent.get(key) if isinstance(parent, dict) else None
    return value if isinstance(value, dict) else {}


def check_skill_id(envelope: Mapping[str, Any], skill_id: str) -> None:
    """Every application id the envelope carries (context and session) must be ours."""
    context_app = _subobject(_subobject(_subobject(envelope, "context"), "System"), "application")
    ids = [context_app.get("applicationId")]
    session = _subobject(envelope, "session")
    if session:
        ids.append(_subobject(session, "application").get("applicationId"))
    if any(found != skill_id for found in ids):
        raise VerificationError("request is for another skill id")


def parse_timestamp(value: Any) -> datetime:
    """Alexa sends ISO 8601 UTC (e.g. 2024-05-01T10:00:00Z); a missing zone means UTC."""
    if not isinstance(value, str):
        raise VerificationError("missing or malformed request.timestamp")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise VerificationError("missing or malformed request.timestamp") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def check_timestamp(envelope: Mapping[str, Any], now: datetime) -> None:
    """Reject replays: 150 s either way, one hour for skill events (Amazon delivers those late)."""
    request = _subobject(envelope, "request")
    request_type = request.get("type")
    tolerance = (
        SKILL_EVENT_TOLERANCE
        if isinstance(request_type, str) and request_type.startswith(SKILL_EVENT_PREFIX)
        else REQUEST_TOLERANCE
    )
    if abs(now - parse_timestamp(request.get("timestamp"))) > tolerance:
        raise VerificationError("request timestamp is too old or in the future")


def _leaf_names_alexa(leaf: x509.Certificate) -> bool:
    """Amazon's rule is an exact SAN entry; a wildcard that merely matches is not enough."""
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    return ALEXA_SIGNING_DOMAIN in (name.lower() for name in san.get_values_for_type(x509.DNSName))


def _leaf_key(leaf: x509.Certificate) -> rsa.RSAPublicKey:
    """Amazon signs with RSA-2048 or stronger; a shorter key could be factored and forged."""
    try:
        key = leaf.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise VerificationError("signing certificate key is not RSA") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise VerificationError("signing certificate key is not RSA")
    if key.key_size < MIN_RSA_KEY_BITS:
        raise VerificationError(f"signing certificate key is shorter than {MIN_RSA_KEY_BITS} bits")
    return key


def _leaf_may_sign(leaf: x509.Certificate) -> bool:
    """A certificate vouches for signatures only if its key usage says digitalSignature.

    WebPKI path validation for a TLS server accepts a leaf without it (TLS key exchange needs
    only keyEncipherment), so this is checked here; a leaf without key usage at all fails too.
    """
    try:
        usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return False
    return usage.digital_signature


@dataclass
class _Fetch:
    """One chain being fetched; other requests for the same URL wait for it instead."""

    done: threading.Event = field(default_factory=threading.Event)
    key: _VerifiedKey | None = None
    failure: str = "could not fetch the signing certificate chain"

    def outcome(self) -> rsa.RSAPublicKey:
        if self.key is None:
            raise VerificationError(self.failure)
        return self.key.public_key


@dataclass(frozen=True)
class _Failure:
    """Why a URL failed, remembered until `until` so that repeating it costs no fetch."""

    reason: str
    until: datetime


class SigningKeys:
    """Signing keys of verified chains, cached per URL until the chain expires.

    Why a cache: fetching and path-validating a chain costs a network round trip and several
    signature checks, while Amazon rotates the chain rarely. With the cache the steady-state
    cost is one RSA verify per request.

    The URL comes from the caller, so everything here is bounded: verified chains (LRU, and
    only chains that verified enter it), failures (briefly, in a separate bounded map, so a
    flood of bad URLs never evicts a good chain), one fetch per URL at a time, and at most
    `max_fetching` threads busy fetching or waiting; past that a request is refused at once.
    """

    def __init__(
        self,
        trust_roots: Sequence[x509.Certificate],
        fetcher: Fetcher = fetch_cert_chain,
        cache_size: int = DEFAULT_CACHE_SIZE,
        max_fetching: int = DEFAULT_MAX_FETCHING,
        wait_seconds: float = WAIT_FOR_FETCH_SECONDS,
    ) -> None:
        self._store = verification.Store(list(trust_roots))
        self._fetcher = fetcher
        self._cache_size = cache_size
        self._max_fetching = max_fetching
        self._wait_seconds = wait_seconds
        self._verified: OrderedDict[str, _VerifiedKey] = OrderedDict()
        self._failed: OrderedDict[str, _Failure] = OrderedDict()
        self._fetching: dict[str, _Fetch] = {}
        self._busy = 0
        self._lock = threading.Lock()

    def key_for(self, url: str, now: datetime) -> rsa.RSAPublicKey:
        """The key for a normalised `url`: cached while its chain is valid, else fetched once."""
        with self._lock:
            cached = self._verified.get(url)
            if cached is not None and cached.not_before <= now <= cached.not_after:
                self._verified.move_to_end(url)
                return cached.public_key
            failed = self._failed.get(url)
            if failed is not None and now < failed.until:
                raise VerificationError(failed.reason)
            if self._busy >= self._max_fetching:
                raise VerificationError("too many signing certificate chains being fetched")
            self._busy += 1
            fetch = self._fetching.get(url)
            leader = fetch is None
            if fetch is None:
                fetch = self._fetching[url] = _Fetch()
        try:
            if leader:
                self._fetch_and_verify(url, fetch, now)
            elif not fetch.done.wait(self._wait_seconds):
                raise VerificationError("timed out waiting for the signing certificate chain")
        finally:
            with self._lock:
                self._busy -= 1
        return fetch.outcome()

    def _fetch_and_verify(self, url: str, fetch: _Fetch, now: datetime) -> None:
        """Fill in `fetch`, remember the outcome, and wake whoever waits for it, come what may."""
        try:
            fetch.key = self._verify_chain(self._fetch(url), now)
        except VerificationError as exc:
            fetch.failure = exc.reason
        finally:
            with self._lock:
                del self._fetching[url]
                if fetch.key is not None:
                    self._remember(self._verified, url, fetch.key, self._cache_size)
                else:
                    failure = _Failure(fetch.failure, now + FAILURE_TTL)
                    self._remember(self._failed, url, failure, FAILURE_CACHE_SIZE)
            fetch.done.set()

    @staticmethod
    def _remember(cache: OrderedDict[str, Any], url: str, value: Any, size: int) -> None:
        """Insert as the newest entry and drop the oldest beyond `size` (caller holds the lock)."""
        cache[url] = value
        cache.move_to_end(url)
        while len(cache) > size:
            cache.popitem(last=False)

    def _fetch(self, url: str) -> bytes:
        try:
            return self._fetcher(url)
        except Exception as exc:  # whatever the fetcher raises, the answer is "reject"
            # One line per failed fetch (failures are remembered, so this cannot flood);
            # the URL passed check_cert_url, so it is Amazon's host and a plain path.
            logger.warning("could not fetch %s: %s", url, type(exc).__name__)
            raise VerificationError("could not fetch the signing certificate chain") from exc

    def _verify_chain(self, pem: bytes, now: datetime) -> _VerifiedKey:
        """Amazon's chain rules: leaf valid now, SAN names echo-api.amazon.com, an RSA key of
        2048 bits or more that may sign, and a trusted path."""
        certs = _parse_chain(pem)
        leaf = certs[0]
        if not leaf.not_valid_before_utc <= now <= leaf.not_valid_after_utc:
            raise VerificationError("signing certificate is expired or not yet valid")
        try:
            if not _leaf_names_alexa(leaf):
                raise VerificationError("signing certificate does not name echo-api.amazon.com")
            key = _leaf_key(leaf)
            if not _leaf_may_sign(leaf):
                raise VerificationError("signing certificate may not sign (no digitalSignature)")
        except ValueError as exc:  # extensions are parsed lazily; a malformed one raises here
            raise VerificationError("signing certificate has malformed extensions") from exc
        path = self._validate_path(leaf, certs[1:], now)
        return _VerifiedKey(
            public_key=key,
            not_before=max(cert.not_valid_before_utc for cert in path),
            not_after=min(cert.not_valid_after_utc for cert in path),
        )

    def _validate_path(
        self, leaf: x509.Certificate, intermediates: list[x509.Certificate], now: datetime
    ) -> list[x509.Certificate]:
        """WebPKI path building from the leaf to one of our roots, as a TLS client would."""
        verifier = (
            verification.PolicyBuilder()
            .store(self._store)
            .time(now)
            .build_server_verifier(x509.DNSName(ALEXA_SIGNING_DOMAIN))
        )
        try:
            return verifier.verify(leaf, intermediates)
        except verification.VerificationError as exc:
            raise VerificationError("certificate chain does not lead to a trusted root") from exc


def _parse_chain(pem: bytes) -> list[x509.Certificate]:
    """Leaf first, as Amazon serves it; cryptography refuses input without any certificate."""
    try:
        return x509.load_pem_x509_certificates(pem)
    except ValueError as exc:
        raise VerificationError("signing certificate chain is not valid PEM") from exc


class RequestVerifier:
    """All of Amazon's request checks, each switchable, behind one `verify` call.

    Trust roots, fetcher and clock are injectable so tests run offline against their own CA.
    """

    def __init__(
        self,
        *,
        trust_roots: TrustRoots = None,
        fetcher: Fetcher | None = None,
        clock: Clock = utc_now,
        skill_id: str | None = None,
        verify_signature: bool = True,
        verify_timestamp: bool = True,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        self._keys = (
            SigningKeys(load_trust_roots(trust_roots), fetcher or fetch_cert_chain, cache_size)
            if verify_signature
            else None
        )
        self._clock = clock
        self._skill_id = skill_id or None
        self._verify_timestamp = verify_timestamp

    @property
    def verifies_signature(self) -> bool:
        return self._keys is not None

    @property
    def verifies_timestamp(self) -> bool:
        return self._verify_timestamp

    @property
    def checks_skill_id(self) -> bool:
        return self._skill_id is not None

    def verify(
        self, headers: Mapping[str, str], raw_body: bytes, envelope: Mapping[str, Any]
    ) -> None:
        """Run every enabled check; raise `VerificationError` naming the first that fails.

        Cheap checks run first so garbage is turned away before any fetch or RSA work.
        """
        signed = _signature_headers(headers) if self._keys is not None else None
        if self._skill_id is not None:
            check_skill_id(envelope, self._skill_id)
        now = self._clock()
        if self._verify_timestamp:
            check_timestamp(envelope, now)
        if self._keys is not None and signed is not None:
            url, signature = signed
            check_signature(self._keys.key_for(url, now), signature, raw_body)


def _signature_headers(headers: Mapping[str, str]) -> tuple[str, bytes]:
    """The certificate URL and decoded signature, or the reason they are unusable."""
    url = _header(headers, CERT_URL_HEADER)
    if not url:
        raise VerificationError("missing SignatureCertChainUrl header")
    url = check_cert_url(url)
    value = _header(headers, SIGNATURE_HEADER)
    if not value:
        raise VerificationError("missing or empty Signature-256 header")
    return url, decode_signature(value)


def check_signature(key: rsa.RSAPublicKey, signature: bytes, raw_body: bytes) -> None:
    """RSA PKCS#1 v1.5 with SHA-256 over the raw body bytes, exactly as received."""
    try:
        key.verify(signature, raw_body, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as exc:
        raise VerificationError("signature does not match the request body") from exc
