"""Entry points of the benchmark's child processes (`python -m bench.child ...`).

Why a separate process per measurement: a cold start, a peak RSS and a server under load
are only honest in a process that loaded nothing else. So this module imports only the
standard library at the top; each command imports what it measures, and nothing more.

    cold   ours|hello EVENT.json       import the Lambda module, answer one event, print timings
    memory ours|hello KINDS.json       answer a whole dialogue, print the peak RSS
    routine ours|sample KINDS.json     answer a whole dialogue, print init and turn durations
    botocore                           import botocore and build a DynamoDB client, print the time
    serve  on|off PORT PKI_DIR DB      the production server (waitress, 2 threads)
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

HELLO_TABLE_ENV = "BENCH_HELLO_TABLE"
# The parent's time.time() just before it spawned this process: the routine child's init
# duration then includes interpreter start-up, as Lambda's Init Duration does.
SPAWNED_AT_ENV = "BENCH_SPAWNED_AT"
SERVER_THREADS = 2


def lambda_handler(kind: str) -> Any:
    """Import and build the skill under test the way Lambda would load it, with logging as
    Lambda's runtime sets it up first (bench/lambda_logging.py): its JSON handler at INFO and
    the function's name, so our skill also prints its EMF lines. Both go to /dev/null; the
    child's report goes to the real stdout (`report`)."""
    from bench.lambda_logging import runtime_logging

    sink = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - open for the process's life
    runtime_logging(sink)
    sys.stdout = sink
    if kind == "ours":
        from skill.lambda_function import handler

        return handler
    if kind in ("hello", "sample"):
        from bench.baselines import sample_lambda_handler

        return sample_lambda_handler(os.environ[HELLO_TABLE_ENV], save_every_turn=kind == "sample")
    raise SystemExit(f"unknown skill {kind!r}: expected ours, hello or sample")


def cpu_seconds() -> float:
    """User + system CPU this process has used so far (what Lambda's CPU share rations)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cold(kind: str, event_path: str) -> None:
    """Time import+build and the first turn; the parent also times the whole process."""
    event = json.loads(Path(event_path).read_text(encoding="utf-8"))
    started = time.perf_counter()
    handler = lambda_handler(kind)
    loaded = time.perf_counter()
    response = handler(event, None)
    answered = time.perf_counter()
    cpu_s = cpu_seconds()
    speech = response.get("response", {}).get("outputSpeech", {}).get("ssml", "")
    report = {"import_s": loaded - started, "turn_s": answered - loaded, "cpu_s": cpu_s,
              "speech": speech[:120]}
    report_line(report)


def report_line(report: dict[str, Any]) -> None:
    """The child's one answer to the parent: the first line of its real stdout."""
    print(json.dumps(report), file=sys.__stdout__, flush=True)


def peak_rss_kib() -> int:
    """This process's own peak RSS in KiB.

    Linux keeps ru_maxrss across exec, so a child spawned by a big parent would report the
    parent's peak; VmHWM in /proc/self/status belongs to the new program alone.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS


def memory(kind: str, kinds_path: str) -> None:
    """Peak RSS after the whole dialogue through the handler."""
    kinds = json.loads(Path(kinds_path).read_text(encoding="utf-8"))
    handler = lambda_handler(kind)
    from bench.dialogue import new_device, replay

    turns = replay(handler, new_device(kind), kinds)
    report_line({"peak_rss_kib": peak_rss_kib(), "turns": len(turns)})


def routine(kind: str, kinds_path: str) -> None:
    """A cold process answering a whole dialogue: what Lambda bills for one routine."""
    kinds = json.loads(Path(kinds_path).read_text(encoding="utf-8"))
    handler = lambda_handler(kind)
    init_s = time.time() - float(os.environ[SPAWNED_AT_ENV])
    from bench.dialogue import new_device, replay

    turns = replay(handler, new_device(kind), kinds)
    report_line({"init_s": init_s, "turn_s": [turn.seconds for turn in turns],
                 "cpu_s": cpu_seconds()})


def verifier_config(mode: str, root_pem: bytes, chain_pem: bytes) -> dict[str, Any]:
    """Verification settings: "on" trusts the test CA and serves its chain without a fetch,
    "off" is `--dev`'s overrides. The skill id check stays on in both."""
    from skill.web.serve import DEV_OVERRIDES
    from tests.alexa_test_ca import SKILL_ID

    config: dict[str, Any] = {"ALEXA_SKILL_ID": SKILL_ID}
    if mode == "on":
        config.update({"ALEXA_TRUST_ROOTS": root_pem, "ALEXA_CERT_FETCHER": lambda _: chain_pem})
    else:
        config.update(DEV_OVERRIDES)
    return config


def serve(mode: str, port: str, pki_dir: str, db_path: str) -> None:
    """`skill.web.serve.serve` (waitress, 2 threads) in one of the two verification modes."""
    import logging

    from skill.web.serve import serve as run_server

    logging.basicConfig(level=logging.WARNING)
    pems = [(Path(pki_dir) / name).read_bytes() for name in ("root.pem", "chain.pem")]
    config = {**verifier_config(mode, *pems), "FOOT_ROUTINE_DB": db_path}
    run_server("127.0.0.1", int(port), dev=(mode == "off"), config=config, threads=SERVER_THREADS)


def botocore() -> None:
    """What a DynamoDB read costs before any request is sent: botocore and its client."""
    started = time.perf_counter()
    import botocore.session

    botocore.session.get_session().create_client(
        "dynamodb",
        region_name=os.environ["AWS_REGION"],
        endpoint_url=os.environ["DYNAMODB_ENDPOINT_URL"],
    )
    print(json.dumps({"seconds": time.perf_counter() - started}), flush=True)


COMMANDS = {"cold": cold, "memory": memory, "routine": routine, "serve": serve,
            "botocore": botocore}


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in COMMANDS:
        raise SystemExit(f"usage: python -m bench.child {{{','.join(COMMANDS)}}} ...")
    COMMANDS[argv[0]](*argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
