"""Attacks on the real `foot-routine serve` process, over real sockets on 127.0.0.1.

Why against the process: the defences live in several layers (waitress' limits, the Flask
endpoint, the verifier's caches, logging set-up) and only the running server shows whether
they hold together. Each test is one attack from the hardening review: certificate-URL
games that make the server fetch, a slow certificate host, oversized bodies, slow-loris
sockets, bodies that would end up in the log, and weak signing certificates. Every loop is
bounded; waits end at a timeout and fail, rather than measuring how fast anything was.
"""

from __future__ import annotations

import base64
import json
import socket
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import ExitStack
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.alexa_test_ca import CERT_URL, SKILL_ID, launch_envelope, pki, signed_headers
from tests.serve_process import CERT_HOST_ENV, HELD_PREFIX, CertHost, ServeProcess, start_serve

CERT_PATH = urlsplit(CERT_URL).path
S3 = "https://s3.amazonaws.com"
WEAK_PATH = "/echo.api/weak.pem"
NO_SIGNING_USAGE_PATH = "/echo.api/no-signing-usage.pem"
SOCKET_TIMEOUT_S = 15.0


@pytest.fixture(scope="module")
def cert_host() -> Iterator[CertHost]:
    host = CertHost(
        {
            CERT_PATH: pki().chain_pem,
            WEAK_PATH: pki().weak_chain_pem,
            NO_SIGNING_USAGE_PATH: pki().no_signing_usage_chain_pem,
        }
    )
    try:
        yield host
    finally:
        host.close()


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="foot-routine-attacks-") as path:
        root = Path(path) / "root.pem"
        root.write_bytes(pki().root_pem)
        yield Path(path)


def verifying_env(cert_host: CertHost, workdir: Path, **extra: str) -> dict[str, str]:
    """Full verification against the test CA, chains from the local certificate host."""
    return {
        "ALEXA_SKILL_ID": SKILL_ID,
        "ALEXA_TRUST_ROOTS": str(workdir / "root.pem"),
        CERT_HOST_ENV: cert_host.url,
        **extra,
    }


@pytest.fixture(scope="module")
def server(cert_host: CertHost, workdir: Path) -> Iterator[ServeProcess]:
    """The server as shipped: default limits, every check on."""
    (workdir / "default").mkdir()
    running = start_serve(workdir / "default", [], verifying_env(cert_host, workdir))
    try:
        yield running
    finally:
        running.terminate()


@pytest.fixture(scope="module")
def tight_server(cert_host: CertHost, workdir: Path) -> Iterator[ServeProcess]:
    """The same server with its limits turned down through the documented settings."""
    env = verifying_env(
        cert_host,
        workdir,
        SERVE_MAX_BODY_BYTES="2000",
        SERVE_CHANNEL_TIMEOUT="1",
        SERVE_CONNECTION_LIMIT="30",
    )
    (workdir / "tight").mkdir()
    running = start_serve(workdir / "tight", [], env)
    try:
        yield running
    finally:
        running.terminate()


def launch_body() -> bytes:
    return json.dumps(launch_envelope(datetime.now(UTC))).encode()


def unsigned_headers(cert_url: str) -> dict[str, str]:
    """What an attacker can send: any certificate URL and 256 random-looking signature bytes."""
    return {
        "Content-Type": "application/json",
        "SignatureCertChainUrl": cert_url,
        "Signature-256": base64.b64encode(bytes(range(256))).decode(),
    }


def post_genuine(server: ServeProcess, timeout: float = 10.0) -> tuple[int, dict[str, Any]]:
    body = launch_body()
    return server.post(body, signed_headers(body), timeout=timeout)


def test_the_server_says_where_it_listens_and_which_checks_are_on(server):
    assert (
        f"Foot Routine endpoint listening on http://127.0.0.1:{server.port}/ (signature check "
        "on, timestamp check on, skill id check on)"
    ) in server.log_text()


def test_certificate_urls_with_a_query_are_refused_without_any_fetch(server, cert_host):
    for n in range(1, 21):
        body = launch_body()
        status, answer = server.post(body, unsigned_headers(f"{S3}{CERT_PATH}?n={n}"))
        assert (status, answer) == (400, {"error": "SignatureCertChainUrl has a query or fragment"})
    assert [path for path in cert_host.requests if "?" in path] == []


def test_a_certificate_url_that_fails_is_fetched_once_not_per_request(server, cert_host):
    missing = "/echo.api/missing.pem"
    for _ in range(10):
        status, answer = server.post(launch_body(), unsigned_headers(f"{S3}{missing}"))
        assert (status, answer) == (400, {"error": "could not fetch the signing certificate chain"})
    assert cert_host.asked_for(missing) == 1


def test_a_slow_certificate_host_does_not_starve_genuine_requests(server, cert_host):
    assert post_genuine(server)[0] == 200  # Alexa's chain is verified and cached
    attacks = [f"{S3}{HELD_PREFIX}{n}.pem" for n in range(16)]
    held = 2  # the server's cap on threads busy with certificate fetches
    with ThreadPoolExecutor(max_workers=len(attacks)) as pool:
        try:
            pending = [
                pool.submit(server.post, launch_body(), unsigned_headers(url), 60.0)
                for url in attacks
            ]
            for _ in range(held):  # the server is now stuck on fetches the host is holding
                assert cert_host.held.acquire(timeout=SOCKET_TIMEOUT_S)
            finished = as_completed(pending, timeout=SOCKET_TIMEOUT_S)
            refused = [future.result() for future in islice(finished, len(attacks) - held)]
            status, answer = post_genuine(server)
            fetched = sum(path.startswith(HELD_PREFIX) for path in cert_host.requests)
        finally:
            cert_host.release.set()
    too_many = (400, {"error": "too many signing certificate chains being fetched"})
    assert refused == [too_many] * (len(attacks) - held)
    assert status == 200 and answer["response"]["outputSpeech"]
    assert fetched == held


def test_leaves_with_a_weak_key_or_without_digital_signature_are_refused(server):
    body = launch_body()
    weak = signed_headers(body, url=f"{S3}{WEAK_PATH}", key=pki().weak_leaf_key)
    assert server.post(body, weak) == (
        400, {"error": "signing certificate key is shorter than 2048 bits"}
    )
    no_signing = signed_headers(body, url=f"{S3}{NO_SIGNING_USAGE_PATH}")
    assert server.post(body, no_signing) == (
        400, {"error": "signing certificate may not sign (no digitalSignature)"}
    )


def test_a_body_that_is_not_utf8_is_refused_and_none_of_it_is_logged(server):
    secrets = ("amzn1.ask.account.SECRET-USER-7f3a", "SECRET-TOKEN-91c2")
    envelope = launch_envelope(datetime.now(UTC))
    envelope["context"]["System"]["user"]["userId"] = secrets[0]
    envelope["context"]["System"]["apiAccessToken"] = secrets[1]
    body = json.dumps(envelope).encode() + b"\xff" * 4000
    logged_before = len(server.log_text())
    status, answer = server.post(body, signed_headers(body))
    assert (status, answer) == (400, {"error": "body is not valid UTF-8 JSON"})
    new_log = server.log_text()[logged_before:]
    assert f"rejected Alexa request of {len(body)} bytes: body is not valid UTF-8 JSON" in new_log
    assert not any(secret in new_log for secret in secrets)
    assert len(new_log) < 300  # one line, not a copy of the body


def raw_exchange(server: ServeProcess, request: bytes) -> bytes:
    """Send raw bytes on a fresh connection and read the status line and headers back."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=SOCKET_TIMEOUT_S) as sock:
        sock.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer and len(answer) < 65536:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
        return answer


def post_head(content_length: int) -> bytes:
    return (
        f"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {content_length}\r\n\r\n"
    ).encode()


def test_an_oversized_body_is_refused_with_413_before_it_is_sent(server):
    # 300 MB announced, 1 KB sent: the answer must come from the header alone.
    answer = raw_exchange(server, post_head(300_000_000) + b"{" * 1024)
    assert answer.startswith(b"HTTP/1.1 413")
    assert server.healthz() is not None


def test_the_body_limit_is_configurable(tight_server):
    assert raw_exchange(tight_server, post_head(2001) + b"{" * 1024).startswith(b"HTTP/1.1 413")
    within = raw_exchange(tight_server, post_head(2000) + b"{" * 2000)
    assert within.startswith(b"HTTP/1.1 400")  # read, parsed and refused as JSON


def open_slow_clients(stack: ExitStack, server: ServeProcess, count: int) -> list[socket.socket]:
    """Connections that start a request and then say nothing more (slow-loris)."""
    clients = []
    for _ in range(count):
        sock = stack.enter_context(
            socket.create_connection(("127.0.0.1", server.port), timeout=SOCKET_TIMEOUT_S)
        )
        sock.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        clients.append(sock)
    return clients


def test_a_hundred_and_fifty_slow_clients_do_not_lock_out_healthz(server):
    with ExitStack() as stack:
        open_slow_clients(stack, server, 150)
        assert server.healthz(timeout=SOCKET_TIMEOUT_S) is not None
        assert post_genuine(server, timeout=SOCKET_TIMEOUT_S)[0] == 200


def test_idle_clients_are_disconnected_after_the_channel_timeout(tight_server):
    with ExitStack() as stack:
        clients = open_slow_clients(stack, tight_server, 40)  # more than the connection limit
        assert tight_server.healthz(timeout=SOCKET_TIMEOUT_S) is not None
        for sock in clients:
            assert closed_by_server(sock)


def closed_by_server(sock: socket.socket) -> bool:
    """True once the server hangs up (orderly or by reset); a timeout raises instead."""
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True
