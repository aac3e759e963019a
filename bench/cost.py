"""6. Cost: what 1,000 full routines cost on Lambda + DynamoDB on-demand, ours and the sample's.

A routine is the dialogue of section 4, one session. A daily user meets a cold Lambda on
nearly every first launch of the day, so each routine is billed as one cold start (Lambda
bills the init phase since 2025-08-01) plus every turn. Both are measured, not estimated:
a fresh process under Lambda's CPU share for the template's MemorySize (bench.cpu_share)
answers the whole routine on the local DynamoDB server, timing its init (spawn to handler
ready) and each turn; Lambda rounds each up to the millisecond. Ours is our Lambda module;
the baseline is the ASK sample saving on every turn (bench.baselines), sent the same request
kinds. DynamoDB units come from section 4: ours, and the same skill saving on every turn
(so both store the same item and only the write rule differs).
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

from bench import prices
from bench.child import SPAWNED_AT_ENV
from bench.cpu_share import Limiter, configured_memory_mb, cpu_limiter, share_for
from bench.localdb import LocalDynamo
from bench.report import Row
from bench.spawn import child, spawn, with_bytecode_cache
from bench.stats import alternating, summary

SECTION = "6 cost"
KINDS = ("ours", "sample")
ROUTINES = 1000


def billed_ms(report: dict[str, Any]) -> int:
    """Lambda's billed milliseconds for one routine: init and each turn, rounded up."""
    return math.ceil(report["init_s"] * 1000) + sum(math.ceil(s * 1000) for s in report["turn_s"])


def run_routine(kind: str, kinds_path: Path, env: dict[str, str],
                limiter: Limiter) -> dict[str, Any]:
    report = spawn(child("routine", kind, str(kinds_path)),
                   {**env, SPAWNED_AT_ENV: repr(time.time())}, limiter)
    report.pop("stderr")
    report["billed_ms"] = billed_ms(report)
    return report


def lambda_usd(billed: float, turns: int, memory_mb: int) -> float:
    """Duration (GB-seconds) and requests of one routine, in dollars."""
    gb_seconds = memory_mb / 1024 * billed / 1000
    return gb_seconds * prices.LAMBDA_ARM_GB_SECOND.usd + turns * prices.LAMBDA_REQUEST.usd


def dynamodb_usd(usage: dict[str, float]) -> float:
    """Read and write request units of one routine, in dollars (on-demand)."""
    return (usage["read_units"] * prices.DYNAMODB_READ_UNIT.usd
            + usage["write_units"] * prices.DYNAMODB_WRITE_UNIT.usd)


def snapstart_extra_usd(memory_mb: int) -> dict[str, float]:
    """What SnapStart would add: a restore per cold start, and a cached snapshot a month."""
    gigabytes = memory_mb / 1024
    return {
        "restore_per_1000_routines": ROUTINES * gigabytes * prices.SNAPSTART_RESTORE_GB.usd,
        "cache_per_version_per_30_days": gigabytes * 30 * 86400
        * prices.SNAPSTART_CACHE_GB_SECOND.usd,
    }


def measure(local: LocalDynamo, runs: int, workdir: Path,
            dynamo_detail: dict[str, Any]) -> tuple[list[Row], dict[str, Any]]:
    kinds = dynamo_detail["kinds"]
    kinds_path = workdir / "cost-kinds.json"
    kinds_path.write_text(json.dumps(kinds), encoding="utf-8")
    env = with_bytecode_cache(local.child_env(), workdir)
    memory_mb = configured_memory_mb()
    samples: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    with cpu_limiter(share_for(memory_mb)) as limiter:
        for index in range(runs):
            for kind in alternating(KINDS, index):
                samples[kind].append(run_routine(kind, kinds_path, env, limiter))
    billed = {kind: summary([s["billed_ms"] for s in samples[kind]])["median"] for kind in KINDS}
    turns = len(kinds)
    lambda_cost = {kind: ROUTINES * lambda_usd(billed[kind], turns, memory_mb) for kind in KINDS}
    dynamo_cost = {
        "ours": ROUTINES * dynamodb_usd(dynamo_detail["ours"]["total"]),
        "sample": ROUTINES * dynamodb_usd(dynamo_detail["baseline"]["total"]),
    }
    per_thousand = f"per {ROUTINES:,} routines"
    rows = [
        Row(SECTION, f"billed Lambda ms per routine (init + {turns} turns), median",
            billed["ours"], billed["sample"], "ms", digits=0),
        Row(SECTION, f"Lambda {per_thousand} ({memory_mb} MB, arm64)", lambda_cost["ours"],
            lambda_cost["sample"], "USD", digits=4),
        Row(SECTION, f"DynamoDB on-demand {per_thousand}", dynamo_cost["ours"],
            dynamo_cost["sample"], "USD", digits=4),
        Row(SECTION, f"total {per_thousand}", lambda_cost["ours"] + dynamo_cost["ours"],
            lambda_cost["sample"] + dynamo_cost["sample"], "USD", digits=4),
    ]
    detail = {
        "memory_mb": memory_mb,
        "limiter": limiter.method,
        "runs_per_skill": runs,
        "turns_per_routine": turns,
        "samples": samples,
        "billed_ms_median": billed,
        "lambda_usd": lambda_cost,
        "dynamodb_usd": dynamo_cost,
        "snapstart_would_add_usd": snapstart_extra_usd(memory_mb),
        "prices": prices.as_json(),
        "assumptions": "one cold start per routine (the day's first launch); us-east-1 prices",
    }
    return rows, detail
