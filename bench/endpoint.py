"""3. Endpoint: `POST /` throughput and p99 with Alexa request verification on and off.

The production server (`skill.serve.serve`: waitress, 2 threads, SQLite store) runs in a
child process on 127.0.0.1; a bounded Python load generator (fixed duration, fixed number
of keep-alive connections, loopback only) sends real dialogue turns. "On" trusts the test
CA from tests/alexa_test_ca.py and checks signature, chain and timestamp; "off" is `--dev`.

This machine is shared and noisy, so the two servers run side by side (the idle one costs
nothing) and take turns in many short runs: each round, both get the same freshly signed
requests, in alternating order, and the table reports medians over rounds.

Each round's requests are new users' full routines, interleaved so that a user's turns
arrive in order and far apart: on the server's database they hit the same store paths they
hit when recorded (no version conflicts from replays). Signing happens just before the
round, well inside the 150 s the timestamp check allows.
"""

from __future__ import annotations

import http.client
import itertools
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.dialogue import full_routine, lambda_handler_on, new_device
from bench.report import Row, Target
from bench.spawn import REPO_ROOT, child
from bench.stats import alternating, summary
from skill.app import build_skill
from skill.store import MemoryStore
from tests.alexa_test_ca import iso, pki, signed_headers

SECTION = "3 endpoint"
HOST = "127.0.0.1"
MODES = ("on", "off")
START_TIMEOUT_S = 20.0
REQUEST_TIMEOUT_S = 10.0
MAX_EXPECTED_RPS = 800  # sizes each round's requests; seen here: 200-650

Request = tuple[bytes, dict[str, str]]


@dataclass(frozen=True)
class LoadPlan:
    """How hard and how long: fixed duration and concurrency, so runs are comparable."""

    seconds: float
    warmup_seconds: float
    concurrency: int
    rounds: int


@dataclass
class LoadResult:
    """What one bounded run saw inside its measuring window."""

    mode: str
    window_s: float
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    exhausted: bool = False

    @property
    def ok(self) -> int:
        return self.statuses[200]

    @property
    def rps(self) -> float:
        return self.ok / self.window_s if self.window_s > 0 else 0.0


def routine_envelopes() -> list[dict[str, Any]]:
    """One new user's full routine on an in-memory skill, as the device sent it."""
    with lambda_handler_on(build_skill(MemoryStore())) as handler:
        return [turn.envelope for turn in full_routine(handler, new_device("endpoint"))]


def as_users(routine: list[dict[str, Any]], users: int) -> list[str]:
    """The routine as `users` different users (new user and session ids), as JSON texts
    interleaved turn by turn across users."""
    first = routine[0]
    user_id, session_id = first["session"]["user"]["userId"], first["session"]["sessionId"]
    texts = [json.dumps(envelope) for envelope in routine]
    copies = []
    for _ in range(users):
        tag = uuid.uuid4().hex
        copies.append([text.replace(user_id, f"{user_id}-{tag}").replace(session_id, tag)
                       for text in texts])
    return [text for turn in zip(*copies, strict=True) for text in turn]


def signed_corpus(texts: list[str]) -> list[Request]:
    """Each envelope stamped now and signed by the test CA's leaf, as Alexa would send it."""
    stamp = iso(datetime.now(UTC))
    corpus = []
    for text in texts:
        envelope = json.loads(text)
        envelope["request"]["timestamp"] = stamp
        body = json.dumps(envelope).encode()
        corpus.append((body, signed_headers(body)))
    return corpus


def write_pki(directory: Path) -> None:
    """The files the server child trusts: the test root and the chain its fetcher serves."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "root.pem").write_bytes(pki().root_pem)
    (directory / "chain.pem").write_bytes(pki().chain_pem)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def healthy(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection(HOST, port, timeout=1)
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False


def server_env() -> dict[str, str]:
    """The SQLite store whatever the shell says, and no Alexa API calls."""
    env = {k: v for k, v in os.environ.items() if k not in ("PROGRESS_TABLE", "FOOT_ROUTINE_DB")}
    env["ALEXA_API_CALLS"] = "0"
    return env


class Server:
    """The server child: started on a free port, stopped by its own process handle."""

    def __init__(self, mode: str, pki_dir: Path, db_path: Path, log_path: Path) -> None:
        self.port = free_port()
        arguments = child("serve", mode, str(self.port), str(pki_dir), str(db_path))
        command = [sys.executable, *arguments]
        self.log_path = log_path
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=REPO_ROOT, env=server_env(),
                stdout=log, stderr=log,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not healthy(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"server ({mode}) did not start:\n{log_path.read_text()}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


class LoadGenerator:
    """`concurrency` threads, each with one keep-alive connection, taking the next request
    from a shared corpus until the deadline (or the corpus ends, which is then reported)."""

    def __init__(self, port: int, corpus: list[Request], plan: LoadPlan, mode: str) -> None:
        self.port = port
        self.corpus = corpus
        self.plan = plan
        self.next_index = itertools.count()
        self.lock = threading.Lock()
        self.result = LoadResult(mode, plan.seconds)

    def run(self) -> LoadResult:
        self.measure_from = time.perf_counter() + self.plan.warmup_seconds
        self.until = self.measure_from + self.plan.seconds
        workers = [threading.Thread(target=self.worker) for _ in range(self.plan.concurrency)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return self.result

    def worker(self) -> None:
        connection = http.client.HTTPConnection(HOST, self.port, timeout=REQUEST_TIMEOUT_S)
        try:
            while time.perf_counter() < self.until:
                index = next(self.next_index)
                if index >= len(self.corpus):
                    self.result.exhausted = True
                    return
                self.send(connection, *self.corpus[index])
        finally:
            connection.close()

    def send(self, connection: http.client.HTTPConnection, body: bytes, headers: dict) -> None:
        started = time.perf_counter()
        connection.request("POST", "/", body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        finished = time.perf_counter()
        if self.measure_from <= started and finished <= self.until:
            with self.lock:
                self.result.latencies_ms.append((finished - started) * 1000)
                self.result.statuses[response.status] += 1


def rows_for(results: list[LoadResult]) -> list[Row]:
    by_mode = {mode: [r for r in results if r.mode == mode] for mode in MODES}
    rps = {mode: summary([r.rps for r in runs])["median"] for mode, runs in by_mode.items()}
    latency = {
        mode: summary([ms for r in runs for ms in r.latencies_ms]) for mode, runs in by_mode.items()
    }
    throughput = "POST / throughput, median run (on vs off)"
    rows = [Row(SECTION, throughput, rps["on"], rps["off"], "req/s",
                target=Target(0.85, at_most=False), digits=1)]
    rows += [
        Row(SECTION, f"POST / latency {stat} (on vs off)", latency["on"][stat],
            latency["off"][stat], "ms", digits=2)
        for stat in ("median", "p99")
    ]
    return rows


def users_per_round(plan: LoadPlan, turns_per_routine: int) -> int:
    """Enough new users that no run runs out of requests before its deadline."""
    requests = (plan.seconds + plan.warmup_seconds) * MAX_EXPECTED_RPS
    return max(2, math.ceil(requests / turns_per_routine))


def scratch_dir(workdir: Path) -> Path:
    """Where the servers' SQLite files go: tmpfs when there is one, so the disk's fsync
    speed does not hide (or add noise to) the CPU cost being compared."""
    shm = Path("/dev/shm")
    parent = shm if shm.is_dir() and os.access(shm, os.W_OK) else workdir
    return Path(tempfile.mkdtemp(prefix="bench-endpoint-", dir=parent))


def start_servers(workdir: Path, scratch: Path) -> dict[str, Server]:
    servers: dict[str, Server] = {}
    try:
        for mode in MODES:
            servers[mode] = Server(mode, workdir / "pki", scratch / f"{mode}.sqlite3",
                                   workdir / f"server-{mode}.log")
    except Exception:
        for server in servers.values():
            server.stop()
        raise
    return servers


def run_rounds(plan: LoadPlan, servers: dict[str, Server]) -> list[LoadResult]:
    routine = routine_envelopes()
    users = users_per_round(plan, len(routine))
    results = []
    for round_index in range(plan.rounds):
        corpus = signed_corpus(as_users(routine, users))
        for mode in alternating(MODES, round_index):
            results.append(LoadGenerator(servers[mode].port, corpus, plan, mode).run())
    return results


def measure(plan: LoadPlan, workdir: Path) -> tuple[list[Row], dict[str, Any]]:
    write_pki(workdir / "pki")
    scratch = scratch_dir(workdir)
    servers = start_servers(workdir, scratch)
    try:
        results = run_rounds(plan, servers)
    finally:
        for server in servers.values():
            server.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    detail = {
        "plan": plan.__dict__,
        "runs": [
            {"mode": r.mode, "rps": r.rps, "statuses": dict(r.statuses), "exhausted": r.exhausted}
            for r in results
        ],
    }
    return rows_for(results), detail
