"""A fault-injecting TCP proxy on 127.0.0.1, in front of a real local DynamoDB (dynalite).

Why a proxy and not a mocked client: a hang, a refused answer or a reset connection has to
reach the skill through botocore's real HTTP stack (its sockets, timeouts and error types),
or a test proves nothing about how long a turn takes when DynamoDB misbehaves.

Modes, switched at any time; a switch closes open connections so the next request meets the
new mode:
- PASS: bytes relayed both ways to the upstream server.
- HANG: the request is read and never answered (until the proxy stops).
- THROTTLE: every request answered 400 ProvisionedThroughputExceededException.
- ERROR_500: every request answered 500 InternalServerError.
- RESET: the request is read, then the connection is reset (TCP RST).
"""

from __future__ import annotations

import contextlib
import json
import selectors
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

# Bounds, so no thread of a test outlives it by long even if a client never goes away.
IO_TIMEOUT_S = 10.0
HANG_LIMIT_S = 30.0
RELAY_LIMIT_S = 60.0
MAX_HEADER_BYTES = 64 * 1024


class Mode(StrEnum):
    PASS = "pass"
    HANG = "hang"
    THROTTLE = "throttle"
    ERROR_500 = "500"
    RESET = "reset"


# DynamoDB's JSON error bodies, as the service sends them.
_ERRORS = {
    Mode.THROTTLE: (400, "Bad Request",
                    "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                    "The level of configured provisioned throughput for the table was exceeded."),
    Mode.ERROR_500: (500, "Internal Server Error",
                     "com.amazonaws.dynamodb.v20120810#InternalServerError",
                     "Internal server error"),
}


def _read_request(conn: socket.socket) -> bool:
    """Read one HTTP request (headers and a Content-Length body); False when the client left."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk or len(data) > MAX_HEADER_BYTES:
            return False
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(min(65536, length - len(body)))
        if not chunk:
            return False
        body += chunk
    return True


def _error_answer(mode: Mode) -> bytes:
    status, reason, kind, message = _ERRORS[mode]
    body = json.dumps({"__type": kind, "message": message}).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\n"
            "Content-Type: application/x-amz-json-1.0\r\n"
            "x-amzn-RequestId: FAULTPROXY\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


@dataclass
class FaultProxy:
    """Listens on 127.0.0.1 and forwards to `upstream_port` as the current mode says."""

    upstream_port: int
    mode: Mode = Mode.PASS
    requests: int = 0  # requests that met a fault (PASS relays bytes and does not count them)
    port: int = 0
    _listener: socket.socket | None = None
    _stopped: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _open: set[socket.socket] = field(default_factory=set)
    _threads: list[threading.Thread] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(0.1)
        self._listener, self.port = listener, listener.getsockname()[1]
        self._spawn(self._accept_loop)
        return self

    def set_mode(self, mode: Mode) -> None:
        with self._lock:
            self.mode = mode
            self.requests = 0
            for conn in list(self._open):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        self._stopped.set()
        self.set_mode(Mode.PASS)
        for thread in self._threads:
            thread.join(timeout=IO_TIMEOUT_S)
        if self._listener is not None:
            self._listener.close()

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            conn.settimeout(IO_TIMEOUT_S)
            with self._lock:
                self._open.add(conn)
                mode = self.mode
            self._spawn(self._serve, conn, mode)

    def _serve(self, conn: socket.socket, mode: Mode) -> None:
        try:
            if mode is Mode.PASS:
                self._relay(conn)
            else:
                self._fault(conn, mode)
        except OSError:
            pass  # the client or a mode switch closed the connection: nothing to answer
        finally:
            with self._lock:
                self._open.discard(conn)
            conn.close()

    def _fault(self, conn: socket.socket, mode: Mode) -> None:
        while _read_request(conn):  # keep-alive: every request on the connection meets the mode
            with self._lock:
                self.requests += 1
            if mode is Mode.HANG:
                self._stopped.wait(HANG_LIMIT_S)
                return
            if mode is Mode.RESET:
                # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            conn.sendall(_error_answer(mode))

    def _relay(self, conn: socket.socket) -> None:
        upstream = socket.create_connection(("127.0.0.1", self.upstream_port), IO_TIMEOUT_S)
        with upstream, selectors.DefaultSelector() as selector:
            selector.register(conn, selectors.EVENT_READ, upstream)
            selector.register(upstream, selectors.EVENT_READ, conn)
            for _ in range(int(RELAY_LIMIT_S / 0.1)):
                if self._stopped.is_set():
                    return
                for key, _ in selector.select(timeout=0.1):
                    data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                    if not data:
                        return
                    key.data.sendall(data)
