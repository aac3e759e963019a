"""One kept-alive HTTP/1.1 client connection, on `socket` and `ssl` alone.

Why not `http.client`: importing it pulls in the `email` package (it parses headers with
email's parser) and `calendar`, ~12 ms of every Lambda cold start here and more at the CPU
share Lambda gives the invoke phase, for a client that sends one kind of request. The
DynamoDB client (skill/storage/dynamo_http.py) needs only this: a request with a body it
has already made, and an answer whose body has a Content-Length, is chunked, or runs to the
end of the connection. Anything else an answer does (a line or header block beyond the
limits below, a status line that is not HTTP, a body cut short) is a `BadAnswer`, an
OSError like every socket failure, so the caller treats both as a lost attempt.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Mapping
from functools import cache
from typing import NamedTuple

# http.client's own limits: a longer line or more headers is not a server we talk to.
MAX_LINE_BYTES = 65536
MAX_HEADERS = 100
# Interim (1xx) answers skipped before the real one; we never send Expect, so this is slack.
MAX_INTERIM_ANSWERS = 5


class BadAnswer(OSError):
    """An answer that is not well-formed HTTP/1.x, or that ended before it was whole."""


class ClosedBeforeAnswer(BadAnswer):
    """The server closed the connection without answering (as it may close an idle one)."""


class Answer(NamedTuple):
    """A whole answer. `headers` has lower-case names; `will_close` says the server ends
    the connection after it, so the next request needs a new one."""

    status: int
    reason: str
    headers: Mapping[str, str]
    body: bytes
    will_close: bool


@cache
def _tls_context() -> ssl.SSLContext:
    """The system's trust store and hostname checks, made once per process: loading the CA
    bundle is the costly part of a TLS connection."""
    return ssl.create_default_context()


class Connection:
    """A connection to one server; `exchange` sends a request and reads its whole answer."""

    def __init__(self, host: str, port: int | None, tls: bool, connect_timeout: float) -> None:
        sock = socket.create_connection((host, port or (443 if tls else 80)), connect_timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if tls:
                sock = _tls_context().wrap_socket(sock, server_hostname=host)
        except BaseException:
            sock.close()
            raise
        self.sock: socket.socket | None = sock
        self._reader = sock.makefile("rb")

    def exchange(self, method: str, path: str, headers: Mapping[str, str], body: bytes,
                 timeout: float) -> Answer:
        """Send one request (Content-Length added) and read its answer, each socket
        operation bounded by `timeout` seconds."""
        if self.sock is None:
            raise ClosedBeforeAnswer("the connection is closed")
        lines = [f"{method} {path} HTTP/1.1", *(f"{name}: {value}" for name, value in
                                                headers.items()),
                 f"Content-Length: {len(body)}", "", ""]
        self.sock.settimeout(timeout)
        self.sock.sendall("\r\n".join(lines).encode("latin-1") + body)
        return self._answer()

    def close(self) -> None:
        if self.sock is not None:
            self._reader.close()
            self.sock.close()
            self.sock = None

    def _answer(self) -> Answer:
        for _ in range(MAX_INTERIM_ANSWERS + 1):
            version, status, reason = self._status_line()
            headers = self._headers()
            if status >= 200:
                break
        else:
            raise BadAnswer(f"more than {MAX_INTERIM_ANSWERS} interim answers")
        tokens = {token.strip().lower() for token in headers.get("connection", "").split(",")}
        keeps_alive = "close" not in tokens and (version == "HTTP/1.1" or "keep-alive" in tokens)
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = self._chunked()
        elif "content-length" in headers:
            body = self._exactly(_length(headers["content-length"]))
        else:
            body, keeps_alive = self._reader.read(), False  # the body runs to the close
        return Answer(status, reason, headers, body, not keeps_alive)

    def _line(self) -> bytes:
        line = self._reader.readline(MAX_LINE_BYTES + 1)
        if len(line) > MAX_LINE_BYTES:
            raise BadAnswer("a line longer than the limit")
        return line

    def _status_line(self) -> tuple[str, int, str]:
        line = self._line()
        if not line:
            raise ClosedBeforeAnswer("the server closed the connection without answering")
        version, _, rest = line.decode("latin-1").rstrip("\r\n").partition(" ")
        code, _, reason = rest.partition(" ")
        if not version.startswith("HTTP/1.") or len(code) != 3 or not code.isdigit():
            raise BadAnswer(f"not an HTTP/1.x status line: {line[:80]!r}")
        return version, int(code), reason.strip()

    def _headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        for _ in range(MAX_HEADERS + 1):
            line = self._line()
            if line in (b"\r\n", b"\n"):
                return headers
            name, colon, value = line.decode("latin-1").partition(":")
            if not colon or not name.strip():
                raise BadAnswer(f"not a header line: {line[:80]!r}")
            key = name.strip().lower()
            value = value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        raise BadAnswer(f"more than {MAX_HEADERS} headers, or the answer ended in them")

    def _exactly(self, size: int) -> bytes:
        data = self._reader.read(size)
        if len(data) != size:
            raise BadAnswer(f"the body ended after {len(data)} of {size} bytes")
        return data

    def _chunked(self) -> bytes:
        parts = []
        while True:
            size_text = self._line().split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise BadAnswer(f"not a chunk size: {size_text[:80]!r}") from None
            if size == 0:
                break
            parts.append(self._exactly(size))
            if self._line() not in (b"\r\n", b"\n"):
                raise BadAnswer("a chunk that does not end where its size says")
        self._headers()  # trailers, read so the connection can be reused; not needed here
        return b"".join(parts)


def _length(text: str) -> int:
    """A Content-Length; repeated equal values (joined above) count once, as RFC 9110 allows."""
    values = {value.strip() for value in text.split(",")}
    if len(values) != 1 or not (value := values.pop()).isdigit():
        raise BadAnswer(f"not a Content-Length: {text[:80]!r}")
    return int(value)
