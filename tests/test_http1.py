"""skill/storage/http1.py against a scripted server on 127.0.0.1 that sends exact bytes.

The DynamoDB client's own tests (tests/test_dynamo_http.py, the fault proxy) drive this
connection through every failure a real server causes; these pin the HTTP framing itself:
each way an answer's body can end, keep-alive and close, and every malformed answer.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator

import pytest

from skill.storage import http1
from skill.storage.http1 import (
    MAX_HEADERS,
    MAX_LINE_BYTES,
    BadAnswer,
    ClosedBeforeAnswer,
    Connection,
)
from tests.fake_alexa_api import loopback_certificate

IO_TIMEOUT_S = 5.0
MAX_CONNECTIONS = 10


class Scripted:
    """Accepts connections (over TLS with `tls`) and answers the n-th request with the n-th
    script entry (raw bytes), closing the connection after an entry when asked; records what
    it received."""

    def __init__(self, answers: list[tuple[bytes, bool]],
                 tls: ssl.SSLContext | None = None) -> None:
        self.answers = answers
        self.tls = tls
        self.received: list[bytes] = []
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(IO_TIMEOUT_S)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        pending = list(self.answers)
        for _ in range(MAX_CONNECTIONS):
            if not pending:
                return
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            if self.tls is not None:
                try:
                    conn = self.tls.wrap_socket(conn, server_side=True)
                except OSError:  # the client refused the handshake
                    conn.close()
                    continue
            self.connections += 1
            with conn:
                conn.settimeout(IO_TIMEOUT_S)
                while pending:
                    request = _read_request(conn)
                    if request is None:
                        break
                    self.received.append(request)
                    answer, close = pending.pop(0)
                    conn.sendall(answer)
                    if close:
                        break

    def stop(self) -> None:
        self.listener.close()
        self.thread.join(IO_TIMEOUT_S)


def _read_request(conn: socket.socket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length:
        body += conn.recv(length - len(body))
    return head + b"\r\n\r\n" + body


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[Scripted]:
    scripted = Scripted(request.param)
    yield scripted
    scripted.stop()


def _connect(server: Scripted) -> Connection:
    return Connection("127.0.0.1", server.port, False, IO_TIMEOUT_S)


def _send(connection: Connection, body: bytes = b'{"a":1}'):
    return connection.exchange("POST", "/", {"Host": "example", "X-Amz-Target": "T.Op"}, body,
                               IO_TIMEOUT_S)


OK = ((b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\n"
      b"x-amzn-RequestId: R1\r\nContent-Length: 2\r\n\r\n{}"), False)


@pytest.mark.parametrize("server", [[OK, OK]], indirect=True)
def test_the_request_is_sent_as_given_and_the_connection_kept(server):
    connection = _connect(server)
    first, second = _send(connection), _send(connection, b"")
    assert (first.status, first.reason, first.body, first.will_close) == (200, "OK", b"{}", False)
    assert first.headers["x-amzn-requestid"] == "R1", "header names are lower-cased"
    assert second.body == b"{}" and server.connections == 1
    assert server.received[0] == (b"POST / HTTP/1.1\r\nHost: example\r\nX-Amz-Target: T.Op\r\n"
                                  b"Content-Length: 7\r\n\r\n" + b'{"a":1}')
    assert server.received[1].endswith(b"Content-Length: 0\r\n\r\n")
    connection.close()


CHUNKED = ((b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"4;ext=1\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\nX-Trailer: t\r\n\r\n"), False)


@pytest.mark.parametrize("server", [[CHUNKED, OK]], indirect=True)
def test_a_chunked_body_is_joined_and_the_connection_reused(server):
    connection = _connect(server)
    assert _send(connection).body == b'{"a":1}'
    assert _send(connection).body == b"{}" and server.connections == 1


@pytest.mark.parametrize("server", [
    [(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}", True)],
    [(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}", True)],
    [(b"HTTP/1.1 200 OK\r\n\r\n{\"to\":\"the end\"}", True)],
], indirect=True)
def test_an_answer_that_ends_the_connection_says_so(server):
    answer = _send(_connect(server))
    assert answer.will_close and answer.body in (b"{}", b'{"to":"the end"}')


@pytest.mark.parametrize("server", [[
    (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", False),
]], indirect=True)
def test_an_interim_answer_is_skipped(server):
    answer = _send(_connect(server))
    assert (answer.status, answer.reason, answer.body) == (400, "Bad Request", b"")


@pytest.mark.parametrize("server", [[(b"", True)]], indirect=True)
def test_a_close_without_an_answer_is_its_own_error(server):
    with pytest.raises(ClosedBeforeAnswer):
        _send(_connect(server))


@pytest.mark.parametrize("server", [
    [(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}", True)],
    [(b"SMTP 220 hello\r\n\r\n", True)],
    [(b"HTTP/1.1 2000 OK\r\n\r\n", True)],
    [(b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", True)],
    [(b"HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\n{}", True)],
    [(b"HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\n{}", True)],
    [(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", True)],
    [(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}xx0\r\n\r\n", True)],
    [(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n", True)],
    [(b"HTTP/1.1 200 OK\r\n" + b"X: " + b"y" * MAX_LINE_BYTES + b"\r\n\r\n", True)],
    [(b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * (MAX_HEADERS + 1) + b"\r\n", True)],
], indirect=True)
def test_a_malformed_or_cut_short_answer_is_a_bad_answer(server):
    with pytest.raises(BadAnswer):
        _send(_connect(server))


def test_a_server_that_does_not_answer_times_out():
    with socket.create_server(("127.0.0.1", 0)) as listener:
        connection = Connection("127.0.0.1", listener.getsockname()[1], False, IO_TIMEOUT_S)
        with pytest.raises(TimeoutError):
            connection.exchange("POST", "/", {}, b"", 0.05)
        connection.close()
        with pytest.raises(ClosedBeforeAnswer):
            connection.exchange("POST", "/", {}, b"", 0.05)


def test_equal_repeated_lengths_count_once():
    scripted = Scripted([(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}",
                          True)])
    try:
        assert _send(_connect(scripted)).body == b"{}"
    finally:
        scripted.stop()


def test_tls_checks_the_server_and_carries_the_same_exchange(tmp_path, monkeypatch):
    cert_file, key_file = loopback_certificate(tmp_path)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert_file, key_file)
    scripted = Scripted([OK, OK], tls=server_context)
    try:
        # The system trust store does not know this certificate: the handshake is refused.
        with pytest.raises(ssl.SSLCertVerificationError):
            Connection("127.0.0.1", scripted.port, True, IO_TIMEOUT_S)
        trusting = ssl.create_default_context(cafile=str(cert_file))
        monkeypatch.setattr(http1, "_tls_context", lambda: trusting)
        connection = Connection("127.0.0.1", scripted.port, True, IO_TIMEOUT_S)
        assert _send(connection).body == b"{}"
        assert _send(connection).body == b"{}"
        connection.close()
    finally:
        scripted.stop()
