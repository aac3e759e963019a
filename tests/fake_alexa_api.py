"""A small fake of Alexa's APIs (settings, reminders) served over HTTPS on 127.0.0.1.

ask-sdk-core's DefaultApiClient refuses plain HTTP, so the fake has its own certificate,
trusted through REQUESTS_CA_BUNDLE; requests from the skill then travel the real client,
serializer and HTTP stack, and the test sees the exact JSON the skill sent.
"""

from __future__ import annotations

import json
import ssl
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

TIME_ZONE_PATH = "/v2/devices/{device}/settings/System.timeZone"
HANG_LIMIT_S = 30.0
REMINDERS_PATH = "/v1/alerts/reminders"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeAlexaApi:
    url: str = ""
    time_zone: str = "Europe/London"
    requests: list[Recorded] = field(default_factory=list)
    reminders: dict[str, Any] = field(default_factory=dict)
    fail_with: int | None = None  # answer every reminders call with this status
    time_zone_fails_with: int | None = None  # answer every time zone lookup with this status
    hang: bool = False  # answer nothing (settings and reminders) until the fixture ends
    released: threading.Event = field(default_factory=threading.Event)

    def reminder_calls(self) -> list[Recorded]:
        return [call for call in self.requests if call.path.startswith(REMINDERS_PATH)]

    def answer(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if path.endswith("/settings/System.timeZone"):
            if self.time_zone_fails_with:
                return self.time_zone_fails_with, {"code": "ERROR", "message": "fake failure"}
            return 200, self.time_zone
        if not path.startswith(REMINDERS_PATH):
            return 404, {"code": "NOT_FOUND", "message": path}
        if self.fail_with:
            return self.fail_with, {"code": "ERROR", "message": "fake failure"}
        token = path.removeprefix(REMINDERS_PATH).strip("/")
        now = datetime.now(UTC).isoformat()
        if method == "POST":
            token = str(uuid.uuid4())
            self.reminders[token] = body
        elif token not in self.reminders:
            return 404, {"code": "NOT_FOUND", "message": "no such reminder"}
        elif method == "PUT":
            self.reminders[token] = body
        elif method == "DELETE":
            del self.reminders[token]
            return 200, {}
        return 200, {"alertToken": token, "createdTime": now, "updatedTime": now,
                     "status": "ON", "version": "1", "href": f"{REMINDERS_PATH}/{token}"}


def loopback_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, as files in `directory`: a TLS
    server on loopback that a client trusting only this certificate can verify."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "api.pem", directory / "api.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def _handler(api: FakeAlexaApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            api.requests.append(Recorded(self.command, self.path, dict(self.headers), body))
            if api.hang:
                # Bounded: the fixture releases every hung request when the test ends.
                api.released.wait(HANG_LIMIT_S)
                return
            status, answer = api.answer(self.command, self.path, body)
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, *args: Any) -> None:
            """Quiet: the test asserts on recorded requests instead."""

    return Handler


@pytest.fixture
def alexa_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAlexaApi]:
    cert_path, key_path = loopback_certificate(tmp_path)
    api = FakeAlexaApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    api.url = f"https://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert_path))
    for proxy in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        api.released.set()
        server.shutdown()
        server.server_close()
