"""5. Memory: peak RSS of a Lambda handler process after the whole routine.

Each run is a fresh process (`python -m bench.child memory ...`) on the local DynamoDB
server, as on Lambda: ours answers the full routine for a new user, the hello-world sample
with `DynamoDbAdapter` answers the same request kinds. Peak RSS is the kernel's ru_maxrss.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.dialogue import full_routine, lambda_handler_on, new_device
from bench.localdb import LocalDynamo
from bench.report import Row, Target
from bench.spawn import child, spawn, with_bytecode_cache
from bench.stats import alternating, summary
from skill.alexa.app import build_skill
from skill.storage.store import MemoryStore

SECTION = "5 memory"
KINDS = ("ours", "hello")


def routine_kinds() -> list[str]:
    """The request kinds of one full routine, as our skill walks it."""
    with lambda_handler_on(build_skill(MemoryStore())) as handler:
        return [turn.kind for turn in full_routine(handler, new_device("memory"))]


def peak_rss_mib(kind: str, kinds_path: Path, env: dict[str, str]) -> float:
    report = spawn(child("memory", kind, str(kinds_path)), env)
    return float(report["peak_rss_kib"]) / 1024


def measure(local: LocalDynamo, runs: int, workdir: Path) -> tuple[list[Row], dict[str, Any]]:
    kinds_path = workdir / "routine-kinds.json"
    kinds_path.write_text(json.dumps(routine_kinds()), encoding="utf-8")
    env = with_bytecode_cache(local.child_env(), workdir)
    samples: dict[str, list[float]] = {kind: [] for kind in KINDS}
    for index in range(runs):
        for kind in alternating(KINDS, index):
            samples[kind].append(peak_rss_mib(kind, kinds_path, env))
    medians = {kind: summary(values)["median"] for kind, values in samples.items()}
    row = Row(SECTION, "peak RSS after full routine, median", medians["ours"],
              medians["hello"], "MiB", target=Target(1.0), digits=1)
    return [row], {"runs_per_skill": runs, "samples_mib": samples}
