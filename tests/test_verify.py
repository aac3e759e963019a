"""Amazon's request-verification rules, checked one by one against `skill.web.verify`.

Why: if any single check silently passes, anyone on the internet can drive the skill as if they
were Alexa (or replay a real request). Each rule gets a test that a violating request is refused
with the right reason, and the happy path proves the rules do not refuse Alexa itself. All
offline: the chain comes from the test CA in `tests.alexa_test_ca` through an injected fetcher.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import certifi
import pytest

from skill.web.verify import (
    FAILURE_CACHE_SIZE,
    FAILURE_TTL,
    MAX_CHAIN_BYTES,
    RequestVerifier,
    SigningKeys,
    VerificationError,
    check_cert_url,
    load_trust_roots,
    read_chain,
)
from tests.alexa_test_ca import (
    CERT_URL,
    SKILL_ID,
    RecordingFetcher,
    launch_envelope,
    pki,
    signed_headers,
)

NOW = datetime.now(UTC).replace(microsecond=0)


def make_verifier(
    chain: bytes | None = None, *, now: datetime = NOW, **kwargs: Any
) -> tuple[RequestVerifier, RecordingFetcher]:
    fetcher = RecordingFetcher({CERT_URL: pki().chain_pem if chain is None else chain})
    verifier = RequestVerifier(
        trust_roots=pki().root_pem, fetcher=fetcher, clock=lambda: now, skill_id=SKILL_ID, **kwargs
    )
    return verifier, fetcher


def signed_request(envelope: dict[str, Any] | None = None, **header_kwargs: Any):
    envelope = envelope if envelope is not None else launch_envelope(NOW)
    body = json.dumps(envelope).encode()
    return signed_headers(body, **header_kwargs), body, envelope


def reason_of(verifier: RequestVerifier, headers: dict[str, str], body: bytes, envelope) -> str:
    with pytest.raises(VerificationError) as caught:
        verifier.verify(headers, body, envelope)
    return caught.value.reason


def test_a_genuine_request_passes_and_fetches_the_chain_once():
    verifier, fetcher = make_verifier()
    for _ in range(3):
        verifier.verify(*signed_request())
    assert fetcher.calls == [CERT_URL]


def test_a_chain_that_includes_the_root_itself_passes():
    verifier, _ = make_verifier(pki().chain_pem + pki().root_pem)
    verifier.verify(*signed_request())


def test_header_names_are_case_insensitive():
    verifier, _ = make_verifier()
    headers, body, envelope = signed_request()
    verifier.verify({name.lower(): value for name, value in headers.items()}, body, envelope)


def test_a_tampered_body_is_refused():
    verifier, _ = make_verifier()
    headers, body, envelope = signed_request()
    tampered = body.replace(b"LaunchRequest", b"LaunchRequesT")
    assert reason_of(verifier, headers, tampered, envelope) == (
        "signature does not match the request body"
    )


def test_a_body_signed_by_another_key_is_refused():
    verifier, _ = make_verifier()
    headers, body, envelope = signed_request(key=pki().other_key)
    assert reason_of(verifier, headers, body, envelope) == (
        "signature does not match the request body"
    )


@pytest.mark.parametrize(
    ("chain", "reason"),
    [
        ("expired_chain_pem", "signing certificate is expired or not yet valid"),
        ("wrong_san_chain_pem", "signing certificate does not name echo-api.amazon.com"),
        ("no_san_chain_pem", "signing certificate does not name echo-api.amazon.com"),
        ("untrusted_chain_pem", "certificate chain does not lead to a trusted root"),
        ("ec_leaf_chain_pem", "signing certificate key is not RSA"),
        ("no_signing_usage_chain_pem", "signing certificate may not sign (no digitalSignature)"),
        ("no_key_usage_chain_pem", "signing certificate may not sign (no digitalSignature)"),
    ],
)
def test_bad_chains_are_refused(chain: str, reason: str):
    verifier, _ = make_verifier(getattr(pki(), chain))
    assert reason_of(verifier, *signed_request()) == reason


def test_a_leaf_with_a_1024_bit_key_is_refused_even_when_its_signature_matches():
    verifier, _ = make_verifier(pki().weak_chain_pem)
    request = signed_request(key=pki().weak_leaf_key)
    assert reason_of(verifier, *request) == "signing certificate key is shorter than 2048 bits"


def test_a_leaf_without_its_intermediate_does_not_chain_to_the_root():
    leaf_only = pki().chain_pem.split(b"-----END CERTIFICATE-----")[0]
    verifier, _ = make_verifier(leaf_only + b"-----END CERTIFICATE-----\n")
    assert reason_of(verifier, *signed_request()) == (
        "certificate chain does not lead to a trusted root"
    )


def test_the_default_roots_do_not_trust_the_test_ca():
    fetcher = RecordingFetcher({CERT_URL: pki().chain_pem})
    verifier = RequestVerifier(fetcher=fetcher, clock=lambda: NOW)
    assert reason_of(verifier, *signed_request()) == (
        "certificate chain does not lead to a trusted root"
    )


@pytest.mark.parametrize(
    ("pem", "reason"),
    [
        (b"", "signing certificate chain is not valid PEM"),
        (b"<html>Access Denied</html>", "signing certificate chain is not valid PEM"),
        (
            b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n",
            "signing certificate chain is not valid PEM",
        ),
    ],
)
def test_garbage_instead_of_a_chain_is_refused(pem: bytes, reason: str):
    verifier, _ = make_verifier(pem)
    assert reason_of(verifier, *signed_request()) == reason


def test_a_failed_fetch_is_remembered_briefly_then_tried_again():
    moment = [NOW]
    fetcher = RecordingFetcher({})
    verifier = RequestVerifier(trust_roots=pki().root_pem, fetcher=fetcher, clock=lambda: moment[0])
    for _ in range(5):
        assert reason_of(verifier, *signed_request()) == (
            "could not fetch the signing certificate chain"
        )
    assert fetcher.calls == [CERT_URL]
    fetcher.chains[CERT_URL] = pki().chain_pem  # the host recovers
    moment[0] = NOW + FAILURE_TTL
    verifier.verify(*signed_request(launch_envelope(moment[0])))
    assert fetcher.calls == [CERT_URL, CERT_URL]


def test_a_chain_that_fails_verification_is_not_fetched_again_at_once():
    verifier, fetcher = make_verifier(pki().untrusted_chain_pem)
    for _ in range(3):
        assert reason_of(verifier, *signed_request()) == (
            "certificate chain does not lead to a trusted root"
        )
    assert fetcher.calls == [CERT_URL]


def test_remembered_failures_are_bounded_and_never_evict_a_verified_chain():
    bad = [f"https://s3.amazonaws.com/echo.api/bad-{n}.pem" for n in range(FAILURE_CACHE_SIZE + 1)]
    fetcher = RecordingFetcher({CERT_URL: pki().chain_pem})
    keys = SigningKeys(load_trust_roots(pki().root_pem), fetcher, cache_size=1)
    keys.key_for(CERT_URL, NOW)
    for url in bad:
        with pytest.raises(VerificationError):
            keys.key_for(url, NOW)
    keys.key_for(CERT_URL, NOW)  # the verified chain is still cached
    with pytest.raises(VerificationError):
        keys.key_for(bad[-1], NOW)  # and the newest failure still remembered
    assert fetcher.calls == [CERT_URL, *bad]
    with pytest.raises(VerificationError):
        keys.key_for(bad[0], NOW)  # the oldest failure made room
    assert fetcher.calls[-1] == bad[0]


class GatedFetcher(RecordingFetcher):
    """A certificate host that holds every fetch of a URL in `slow` until released."""

    def __init__(self, chains: dict[str, bytes], slow: set[str]) -> None:
        super().__init__(chains)
        self.slow = slow
        self.entered: dict[str, threading.Event] = {url: threading.Event() for url in slow}
        self.release = threading.Event()

    def serve(self, url: str) -> bytes:
        if url in self.slow:
            self.entered[url].set()
            self.release.wait(timeout=10)
        return super().serve(url)


def run_in_thread(call: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    """Run `call` in a thread; the list receives its result or the exception it raised."""
    outcome: list[Any] = []

    def target() -> None:
        try:
            outcome.append(call())
        except VerificationError as exc:  # handed to the test to assert on
            outcome.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, outcome


def test_one_fetch_per_url_at_a_time_the_others_wait_for_it():
    fetcher = GatedFetcher({CERT_URL: pki().chain_pem}, slow={CERT_URL})
    # The followers give up waiting while the leader's fetch is still held.
    keys = SigningKeys(
        load_trust_roots(pki().root_pem), fetcher, max_fetching=8, wait_seconds=0.05
    )
    leader, leader_outcome = run_in_thread(lambda: keys.key_for(CERT_URL, NOW))
    try:
        assert fetcher.entered[CERT_URL].wait(timeout=10)
        followers = [run_in_thread(lambda: keys.key_for(CERT_URL, NOW)) for _ in range(3)]
        for thread, _ in followers:
            thread.join(timeout=10)
        assert [str(outcome[0]) for _, outcome in followers] == [
            "timed out waiting for the signing certificate chain"
        ] * 3
        assert fetcher.calls == [CERT_URL]
    finally:
        fetcher.release.set()
        leader.join(timeout=10)
    assert leader_outcome[0].key_size == 2048
    assert keys.key_for(CERT_URL, NOW) is leader_outcome[0]


def test_fetches_are_capped_and_a_cached_chain_still_answers_meanwhile():
    slow = {f"https://s3.amazonaws.com/echo.api/slow-{n}.pem" for n in range(2)}
    fetcher = GatedFetcher({CERT_URL: pki().chain_pem}, slow=slow)
    keys = SigningKeys(load_trust_roots(pki().root_pem), fetcher, max_fetching=2)
    genuine = keys.key_for(CERT_URL, NOW)
    held = []
    try:
        for url in sorted(slow):
            held.append(run_in_thread(lambda url=url: keys.key_for(url, NOW)))
            assert fetcher.entered[url].wait(timeout=10)
        extra = "https://s3.amazonaws.com/echo.api/one-more.pem"
        with pytest.raises(VerificationError, match="too many signing certificate chains"):
            keys.key_for(extra, NOW)
        assert extra not in fetcher.calls
        assert keys.key_for(CERT_URL, NOW) is genuine
    finally:
        fetcher.release.set()
        for thread, _ in held:
            thread.join(timeout=10)
    assert all(isinstance(outcome[0], VerificationError) for _, outcome in held)


@pytest.mark.parametrize(
    "url",
    [
        "https://s3.amazonaws.com/echo.api/echo-api-cert.pem",
        "https://s3.amazonaws.com:443/echo.api/echo-api-cert.pem",
        "https://s3.amazonaws.com/echo.api/../echo.api/echo-api-cert.pem",
        "HTTPS://S3.AMAZONAWS.COM/echo.api/echo-api-cert.pem",
    ],
)
def test_amazons_valid_certificate_urls_are_accepted_in_one_normal_form(url: str):
    assert check_cert_url(url) == "https://s3.amazonaws.com/echo.api/echo-api-cert.pem"


def test_every_spelling_of_one_url_shares_one_fetch():
    verifier, fetcher = make_verifier()
    spellings = [
        CERT_URL,
        CERT_URL.replace("https://s3.amazonaws.com", "HTTPS://S3.AmazonAWS.com:443"),
        CERT_URL.replace("/echo.api/", "/echo.api/../echo.api/./"),
    ]
    for url in spellings:
        verifier.verify(*signed_request(url=url))
    assert fetcher.calls == [CERT_URL]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://s3.amazonaws.com/echo.api/echo-api-cert.pem", "is not https"),
        ("ftp://s3.amazonaws.com/echo.api/echo-api-cert.pem", "is not https"),
        ("//s3.amazonaws.com/echo.api/echo-api-cert.pem", "is not https"),
        ("https://notamazon.com/echo.api/echo-api-cert.pem", "host is not s3.amazonaws.com"),
        ("https://s3.amazonaws.com.evil.example/echo.api/c.pem", "host is not s3.amazonaws.com"),
        ("https://evil.example/s3.amazonaws.com/echo.api/c.pem", "host is not s3.amazonaws.com"),
        ("https://[::1]/echo.api/echo-api-cert.pem", "host is not s3.amazonaws.com"),
        ("https://s3.amazonaws.com/EcHo.aPi/echo-api-cert.pem", "path is not under /echo.api/"),
        ("https://s3.amazonaws.com/invalid.path/echo-api-cert.pem", "path is not under /echo.api/"),
        (
            "https://s3.amazonaws.com/echo.api/../x/echo-api-cert.pem",
            "path is not under /echo.api/",
        ),
        ("https://s3.amazonaws.com/echo.api", "path is not under /echo.api/"),
        ("https://s3.amazonaws.com:563/echo.api/echo-api-cert.pem", "port is not 443"),
        ("https://s3.amazonaws.com:80/echo.api/echo-api-cert.pem", "port is not 443"),
        ("https://s3.amazonaws.com:https/echo.api/echo-api-cert.pem", "malformed"),
        ("https://s3.amazonaws.com:99999/echo.api/echo-api-cert.pem", "malformed"),
        ("https://s3.amazonaws.com/echo.api/echo-api-cert.pem?n=1", "has a query or fragment"),
        ("https://s3.amazonaws.com/echo.api/echo-api-cert.pem?", "has a query or fragment"),
        ("https://s3.amazonaws.com/echo.api/echo-api-cert.pem#n=1", "has a query or fragment"),
        ("https://u@s3.amazonaws.com/echo.api/echo-api-cert.pem", "has user information"),
        ("https://u:p@s3.amazonaws.com/echo.api/echo-api-cert.pem", "has user information"),
        ("https://s3.amazonaws.com/echo.api/%2e%2e/x/c.pem", "escaped or unusual characters"),
        ("https://s3.amazonaws.com/echo.api/%2E%2E/x/c.pem", "escaped or unusual characters"),
        ("https://s3.amazonaws.com/echo.api/..%2fx/c.pem", "escaped or unusual characters"),
        ("https://s3.amazonaws.com/echo.api/..%2Fx%2Fc.pem", "escaped or unusual characters"),
        ("https://s3.amazonaws.com/echo.api/..%5cx/c.pem", "escaped or unusual characters"),
        ("https://s3.amazonaws.com/echo.api/..\\x/c.pem", "escaped or unusual characters"),
        ("https://s3.amazonaws.com/echo.api/echo%2Dapi-cert.pem", "escaped or unusual characters"),
    ],
)
def test_bad_certificate_urls_are_refused_without_fetching(url: str, reason: str):
    verifier, fetcher = make_verifier()
    got = reason_of(verifier, *signed_request(url=url))
    assert reason in got and "SignatureCertChainUrl" in got
    assert fetcher.calls == []


@pytest.mark.parametrize(
    ("drop", "replace", "reason"),
    [
        ("SignatureCertChainUrl", None, "missing SignatureCertChainUrl header"),
        ("Signature-256", None, "missing or empty Signature-256 header"),
        (None, ("Signature-256", ""), "missing or empty Signature-256 header"),
        (None, ("Signature-256", "   "), "missing or empty Signature-256 header"),
        (None, ("Signature-256", "not*base64!"), "Signature-256 is not valid base64"),
        (None, ("Signature-256", "=="), "Signature-256 is not valid base64"),
        (None, ("Signature-256", "sig\u00e9"), "Signature-256 is not valid base64"),
        (None, ("Signature-256", "QUJD"), "signature does not match the request body"),
    ],
)
def test_missing_or_garbled_signature_headers_are_refused(drop, replace, reason):
    verifier, _ = make_verifier()
    headers, body, envelope = signed_request()
    if drop:
        del headers[drop]
    if replace:
        headers[replace[0]] = replace[1]
    assert reason_of(verifier, headers, body, envelope) == reason


def test_the_legacy_sha1_signature_header_alone_is_not_enough():
    verifier, _ = make_verifier()
    headers, body, envelope = signed_request()
    headers["Signature"] = headers.pop("Signature-256")
    assert reason_of(verifier, headers, body, envelope) == "missing or empty Signature-256 header"


@pytest.mark.parametrize("offset", [-149, 0, 149])
def test_timestamps_within_150_seconds_pass(offset: int):
    verifier, _ = make_verifier()
    verifier.verify(*signed_request(launch_envelope(NOW + timedelta(seconds=offset))))


@pytest.mark.parametrize("offset", [-151, 151, -86_400, 86_400])
def test_stale_and_future_timestamps_are_refused(offset: int):
    verifier, _ = make_verifier()
    request = signed_request(launch_envelope(NOW + timedelta(seconds=offset)))
    assert reason_of(verifier, *request) == "request timestamp is too old or in the future"


def test_skill_events_may_be_up_to_an_hour_old():
    verifier, _ = make_verifier()
    event = "AlexaSkillEvent.SkillEnabled"
    verifier.verify(
        *signed_request(launch_envelope(NOW - timedelta(minutes=59), request_type=event))
    )
    late = signed_request(launch_envelope(NOW - timedelta(minutes=61), request_type=event))
    assert reason_of(verifier, *late) == "request timestamp is too old or in the future"


@pytest.mark.parametrize(
    "timestamp", ["yesterday", "", 1700000000000, None, "2024-13-01T00:00:00Z"]
)
def test_malformed_timestamps_are_refused(timestamp):
    verifier, _ = make_verifier()
    envelope = launch_envelope(NOW)
    envelope["request"]["timestamp"] = timestamp
    assert (
        reason_of(verifier, *signed_request(envelope)) == "missing or malformed request.timestamp"
    )


def test_fractional_seconds_and_offsets_in_timestamps_are_understood():
    verifier, _ = make_verifier()
    envelope = launch_envelope(NOW)
    in_paris_summer = (NOW + timedelta(milliseconds=250)).astimezone(timezone(timedelta(hours=2)))
    envelope["request"]["timestamp"] = in_paris_summer.isoformat(timespec="milliseconds")
    verifier.verify(*signed_request(envelope))


def test_a_request_for_another_skill_is_refused():
    verifier, _ = make_verifier()
    request = signed_request(launch_envelope(NOW, skill_id="amzn1.ask.skill.someone-else"))
    assert reason_of(verifier, *request) == "request is for another skill id"


@pytest.mark.parametrize("where", ["session", "context"])
def test_a_mismatch_in_either_application_id_is_refused(where: str):
    verifier, _ = make_verifier()
    envelope = launch_envelope(NOW)
    other = {"applicationId": "amzn1.ask.skill.someone-else"}
    if where == "session":
        envelope["session"]["application"] = other
    else:
        envelope["context"]["System"]["application"] = other
    assert reason_of(verifier, *signed_request(envelope)) == "request is for another skill id"


def test_a_request_without_application_id_is_refused_when_a_skill_id_is_set():
    verifier, _ = make_verifier()
    envelope = launch_envelope(NOW)
    del envelope["context"]
    assert reason_of(verifier, *signed_request(envelope)) == "request is for another skill id"


def test_requests_without_a_session_are_checked_on_context_alone():
    verifier, _ = make_verifier()
    envelope = launch_envelope(NOW)
    del envelope["session"]
    verifier.verify(*signed_request(envelope))


def test_without_a_configured_skill_id_any_skill_passes():
    verifier = RequestVerifier(
        trust_roots=pki().root_pem,
        fetcher=RecordingFetcher({CERT_URL: pki().chain_pem}),
        clock=lambda: NOW,
    )
    verifier.verify(*signed_request(launch_envelope(NOW, skill_id="amzn1.ask.skill.other")))


def test_disabled_checks_let_unsigned_and_stale_requests_through():
    verifier, fetcher = make_verifier(verify_signature=False, verify_timestamp=False)
    envelope = launch_envelope(NOW - timedelta(days=1))
    verifier.verify({}, json.dumps(envelope).encode(), envelope)
    assert fetcher.calls == []
    assert not verifier.verifies_signature and not verifier.verifies_timestamp


def test_the_skill_id_is_still_checked_when_signatures_are_off():
    verifier, _ = make_verifier(verify_signature=False, verify_timestamp=False)
    envelope = launch_envelope(NOW, skill_id="amzn1.ask.skill.someone-else")
    assert reason_of(verifier, {}, b"{}", envelope) == "request is for another skill id"


def test_a_cached_chain_is_refetched_once_it_expires():
    moment = [NOW]
    fetcher = RecordingFetcher({CERT_URL: pki().chain_pem})
    verifier = RequestVerifier(trust_roots=pki().root_pem, fetcher=fetcher, clock=lambda: moment[0])
    verifier.verify(*signed_request())
    moment[0] = pki().leaf_not_after + timedelta(seconds=1)
    late = signed_request(launch_envelope(moment[0]))
    assert reason_of(verifier, *late) == "signing certificate is expired or not yet valid"
    assert fetcher.calls == [CERT_URL, CERT_URL]


def test_the_chain_cache_is_bounded_and_least_recently_used():
    urls = [f"https://s3.amazonaws.com/echo.api/cert-{n}.pem" for n in range(3)]
    fetcher = RecordingFetcher({url: pki().chain_pem for url in urls})
    keys = SigningKeys(load_trust_roots(pki().root_pem), fetcher, cache_size=2)
    for url in [urls[0], urls[1], urls[0], urls[2], urls[0], urls[1]]:
        keys.key_for(url, NOW)
    assert fetcher.calls == [urls[0], urls[1], urls[2], urls[1]]


def test_trust_roots_load_from_bytes_text_path_or_certifi(tmp_path):
    bundle = tmp_path / "roots.pem"
    bundle.write_bytes(pki().root_pem)
    expected = load_trust_roots(pki().root_pem)
    assert len(expected) == 1
    assert load_trust_roots(pki().root_pem.decode()) == expected
    assert load_trust_roots(str(bundle)) == expected
    assert load_trust_roots(bundle) == expected
    assert len(load_trust_roots()) == len(load_trust_roots(certifi.where())) > 50


class _TrickleHandler(BaseHTTPRequestHandler):
    """Promises a chain of `total` bytes and sends them one at a time, `pause` apart."""

    total = 400
    pause: float | None = 0.02

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(self.total))
        self.end_headers()
        pause = threading.Event()
        try:
            for _ in range(self.total):
                self.wfile.write(b"x")
                self.wfile.flush()
                if self.pause is not None:
                    pause.wait(self.pause)
        except OSError:  # the client gave up: that is the point
            return

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture()
def chain_host(request) -> Iterator[str]:
    """A local HTTP host serving a fake chain of `total` bytes, `pause` s between bytes."""
    total, pause = request.param
    handler = type("Handler", (_TrickleHandler,), {"total": total, "pause": pause})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/echo.api/chain.pem"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.mark.parametrize("chain_host", [(400, 0.02)], indirect=True)
def test_a_host_that_trickles_the_chain_is_cut_off_at_the_deadline(chain_host):
    with pytest.raises(TimeoutError, match="took over"):
        read_chain(LOCAL, chain_host, deadline_seconds=0.1)


@pytest.mark.parametrize("chain_host", [(300, None)], indirect=True)
def test_a_chain_within_the_deadline_and_size_is_read_whole(chain_host):
    assert read_chain(LOCAL, chain_host) == b"x" * 300


@pytest.mark.parametrize("chain_host", [(MAX_CHAIN_BYTES + 1, None)], indirect=True)
def test_a_chain_over_the_size_cap_is_refused(chain_host):
    with pytest.raises(ValueError, match="larger than"):
        read_chain(LOCAL, chain_host)
