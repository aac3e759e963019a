"""`foot-routine serve` as a child process on 127.0.0.1, with a local stand-in for Amazon's
certificate host, for tests that attack the real server over real sockets.

Why a stand-in: the verifier fetches the signing chain from https://s3.amazonaws.com/echo.api/,
and tests never leave 127.0.0.1. `CertHost` serves the test PKI's chains over plain HTTP by the
same paths (recording every request, holding "slow" paths as long as a test wants), and the
child runs `skill.tools.cli.main` with the verifier's default fetcher pointed at it. Everything else
is the shipped code path: argument parsing, settings from the environment, waitress.

Run as `python -m tests.serve_process serve ...`: the child side of this module.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.child_process import ChildProcess, free_port

REPO = Path(__file__).resolve().parents[1]
CERT_HOST_ENV = "FOOT_ROUTINE_TEST_CERT_HOST"
HELD_PREFIX = "/echo.api/slow-"
HOLD_LIMIT_S = 30.0
START_TIMEOUT_S = 15.0
# Settings a developer's shell might hold that would change what the server does.
SCRUBBED_ENV = (
    "PROGRESS_TABLE",
    "DYNAMODB_ENDPOINT_URL",
    "FOOT_ROUTINE_DB",
    "LOG_LEVEL",
    "LOG_LEVEL_LIBRARIES",
    "ALEXA_SKILL_ID",
    "ALEXA_VERIFY_SIGNATURE",
    "ALEXA_VERIFY_TIMESTAMP",
    "ALEXA_TRUST_ROOTS",
    "ALEXA_CERT_FETCHER",
    "SERVE_MAX_BODY_BYTES",
    "SERVE_CHANNEL_TIMEOUT",
    "SERVE_CONNECTION_LIMIT",
)
# No ProxyHandler entries: an HTTP_PROXY in the environment must not see 127.0.0.1 traffic.
LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class CertHost:
    """PEM chains by path over HTTP on 127.0.0.1; paths under HELD_PREFIX wait for `release`."""

    def __init__(self, chains: Mapping[str, bytes]) -> None:
        self.chains = dict(chains)
        self.requests: list[str] = []  # every path (with query) asked for, in order
        self.held = threading.Semaphore(0)  # one release per request that arrived to be held
        self.release = threading.Event()
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                host.requests.append(self.path)
                path = urlsplit(self.path).path
                if path.startswith(HELD_PREFIX):
                    host.held.release()
                    host.release.wait(HOLD_LIMIT_S)
                chain = host.chains.get(path)
                self.send_response(200 if chain else 404)
                self.send_header("Content-Length", str(len(chain or b"")))
                self.end_headers()
                self.wfile.write(chain or b"")

            def log_message(self, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def asked_for(self, path: str) -> int:
        """How many requests named exactly this path (query included)."""
        return self.requests.count(path)

    def close(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


@dataclass
class ServeProcess(ChildProcess):
    """A running `foot-routine serve` child and how to talk to it."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def healthz(self, timeout: float = 0.5) -> dict[str, Any] | None:
        """The /healthz body once it answers 200, else None."""
        try:
            with LOCAL.open(f"{self.url}healthz", timeout=timeout) as answer:
                return json.loads(answer.read()) if answer.status == 200 else None
        except (OSError, ValueError):  # URLError and connection resets are OSErrors
            return None

    def post(
        self, body: bytes, headers: Mapping[str, str], timeout: float = 10.0
    ) -> tuple[int, dict[str, Any]]:
        """POST / and return the status and JSON answer, errors included."""
        call = urllib.request.Request(self.url, data=body, headers=dict(headers), method="POST")
        try:
            with LOCAL.open(call, timeout=timeout) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            with error:
                return error.code, json.loads(error.read())


def child_env(overrides: Mapping[str, str]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in SCRUBBED_ENV}
    env.update(PYTHONUNBUFFERED="1", ALEXA_API_CALLS="0", **overrides)
    return env


def start_serve(
    workdir: Path, arguments: list[str], env: Mapping[str, str], attempts: int = 3
) -> ServeProcess:
    """Start `serve --host 127.0.0.1 --port <free> ARGUMENTS` and wait for /healthz.

    A port taken between probing and binding makes the server exit; that is retried.
    """
    last_error = ""
    for attempt in range(attempts):
        port = free_port()
        log_path = workdir / f"serve-{port}.log"
        command = [sys.executable, "-m", "tests.serve_process", "serve",
                   "--host", "127.0.0.1", "--port", str(port), *arguments]
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=REPO, env=child_env({"FOOT_ROUTINE_DB": str(workdir / "db.sqlite3"), **env}),
            )
        server = ServeProcess(process=process, port=port, log_path=log_path)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and process.poll() is None:
            if server.healthz() is not None:
                return server
            time.sleep(0.05)
        server.terminate()
        last_error = f"serve (attempt {attempt + 1}) did not come up; log:\n{server.log_text()}"
        if "address already in use" not in server.log_text().lower():
            break
    raise RuntimeError(last_error)


def fetch_from_cert_host(url: str) -> bytes:
    """The child's fetcher: the same path and query, asked of the local CertHost."""
    parts = urlsplit(url)
    local = os.environ[CERT_HOST_ENV] + parts.path + (f"?{parts.query}" if parts.query else "")
    with LOCAL.open(local, timeout=HOLD_LIMIT_S + 5) as answer:
        return answer.read()


def main() -> None:
    """The child: `foot-routine` itself, fetching chains from the CertHost when one is set."""
    import skill.web.verify
    from skill.tools.cli import main as foot_routine

    if os.environ.get(CERT_HOST_ENV):
        skill.web.verify.fetch_cert_chain = fetch_from_cert_host
    foot_routine(sys.argv[1:])


if __name__ == "__main__":
    main()
