"""Amazon's request-verification rules, checked one by one against `skill.verify`.

Why: if any single check silently passes, anyone on the internet can drive the skill as if they
were Alexa (or replay a real request). Each rule gets a test that a violating request is refused
with the right reason, and the happy path proves the rules do not refuse Alexa itself. All
offline: the chain comes from the test CA in `tests.alexa_test_ca` through an injected fetcher.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import certifi
import pytest

from skill.verify import (
    RequestVerifier,
    SigningKeys,
    VerificationError,
    check_cert_url,
    load_trust_roots,
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
    ],
)
def test_bad_chains_are_refused(chain: str, reason: str):
    verifier, _ = make_verifier(getattr(pki(), chain))
    assert reason_of(verifier, *signed_request()) == reason


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


def test_a_chain_that_cannot_be_fetched_is_refused_and_not_cached():
    verifier, fetcher = make_verifier()
    headers, body, envelope = signed_request(url="https://s3.amazonaws.com/echo.api/missing.pem")
    for _ in range(2):
        assert reason_of(verifier, headers, body, envelope) == (
            "could not fetch the signing certificate chain"
        )
    assert len(fetcher.calls) == 2


@pytest.mark.parametrize(
    "url",
    [
        "https://s3.amazonaws.com/echo.api/echo-api-cert.pem",
        "https://s3.amazonaws.com:443/echo.api/echo-api-cert.pem",
        "https://s3.amazonaws.com/echo.api/../echo.api/echo-api-cert.pem",
        "HTTPS://S3.AMAZONAWS.COM/echo.api/echo-api-cert.pem",
    ],
)
def test_amazons_valid_certificate_urls_are_accepted(url: str):
    check_cert_url(url)


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
