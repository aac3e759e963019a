"""1. Cold start: a fresh Python process answers one LaunchRequest for a returning user.

Each run is a new interpreter (`python -m bench.child cold ...`) reading one item from the
local DynamoDB server; ours and the hello-world sample alternate so drift on a busy machine
hits both alike. The figures that count are the parent's wall clock from spawning the process
to reading the response line (interpreter start-up included, exit excluded) and the child's
CPU seconds (user + system) up to its answer; the child's own split into import+build and
first turn is kept to explain them. Then the same runs again with the child held to the CPU
share Lambda gives the template's MemorySize (bench.cpu_share), as the invoke phase there is.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.cpu_share import Limiter, configured_memory_mb, cpu_limiter, share_for
from bench.dialogue import LAUNCH, NEXT, START, envelope_for, lambda_handler_on, replay
from bench.localdb import LocalDynamo, seed_hello_user
from bench.report import Row, Target, percentile_rows
from bench.spawn import child, spawn, with_bytecode_cache
from bench.stats import alternating, summary
from skill.tools.envelopes import Device

SECTION = "1 cold start"
RETURNING_USER = "amzn1.ask.account.BENCH-RETURNING-USER"
KINDS = ("ours", "hello")
TOP_IMPORTS = 10
TARGET = 0.5  # the cold-start target, wall and CPU, free and under the CPU share


def seed_returning_user(local: LocalDynamo) -> None:
    """Give both skills a stored item for the user, ours written by our own skill."""
    from skill.alexa.app import build_skill
    from skill.storage.store_dynamodb import DynamoDbStore

    store = DynamoDbStore(local.ours_table, client=local.client)
    with lambda_handler_on(build_skill(store)) as handler:
        replay(handler, Device(user_id=RETURNING_USER), [LAUNCH, START, NEXT, "AMAZON.StopIntent"])
    seed_hello_user(local, RETURNING_USER)


def run_child(kind: str, event_path: Path, env: dict[str, str], *flags: str,
              limiter: Limiter | None = None) -> dict[str, Any]:
    """One cold process answering the launch event."""
    return spawn([*flags, *child("cold", kind, str(event_path))], env, limiter)


def parse_importtime(text: str) -> list[dict[str, Any]]:
    """`-X importtime` lines as {module, self_ms, cumulative_ms}, header skipped."""
    entries = []
    for line in text.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, name = line.removeprefix("import time:").split("|", 2)
        entries.append(
            {
                "module": name.strip(),
                "self_ms": int(self_us) / 1000,
                "cumulative_ms": int(cumulative_us) / 1000,
            }
        )
    return entries


def by_package(entries: list[dict[str, Any]], leave_out: set[str]) -> dict[str, float]:
    """Self import time per top-level package, for modules not in `leave_out`, largest first."""
    totals: dict[str, float] = {}
    for entry in entries:
        if entry["module"] not in leave_out:
            package = entry["module"].split(".")[0]
            totals[package] = totals.get(package, 0.0) + entry["self_ms"]
    return dict(sorted(totals.items(), key=lambda item: item[1], reverse=True))


def import_profile(event: Path, env: dict[str, str]) -> dict[str, Any]:
    """Both skills under `-X importtime`: our top list, and what each loads that the other
    does not (the sample's boto3 resource is built inside its import, so it shows there)."""
    runs = {kind: parse_importtime(run_child(kind, event, env, "-X", "importtime")["stderr"])
            for kind in KINDS}
    modules = {kind: {entry["module"] for entry in entries} for kind, entries in runs.items()}
    ours = runs["ours"]
    return {
        "importtime_top_self": sorted(ours, key=lambda e: e["self_ms"], reverse=True)[:TOP_IMPORTS],
        "importtime_total_ms": sum(entry["self_ms"] for entry in ours),
        "only_ours_ms": by_package(ours, modules["hello"]),
        "only_hello_ms": by_package(runs["hello"], modules["ours"]),
    }


def botocore_client_s(env: dict[str, str], probes: int = 3) -> float:
    """Median cost of importing botocore and building a DynamoDB client in a fresh process."""
    return summary([spawn(child("botocore"), env)["seconds"] for _ in range(probes)])["median"]


def alternated_runs(event: Path, env: dict[str, str], runs: int,
                    limiter: Limiter | None = None) -> dict[str, list[dict]]:
    """`runs` per skill, alternating which goes first, after one untimed warm-up each."""
    for kind in KINDS:
        run_child(kind, event, env)  # page cache and .pyc files, as a warm Lambda host has
    samples: dict[str, list[dict]] = {kind: [] for kind in KINDS}
    for index in range(runs):
        for kind in alternating(KINDS, index):
            report = run_child(kind, event, env, limiter=limiter)
            report.pop("stderr")
            samples[kind].append(report)
    return samples


def medians(samples: dict[str, list[dict]], field: str) -> dict[str, float]:
    return {kind: summary([s[field] for s in samples[kind]])["median"] for kind in KINDS}


def rows_for(samples: dict[str, list[dict]]) -> list[Row]:
    totals = {kind: summary([s["total_s"] for s in samples[kind]]) for kind in KINDS}
    rows = percentile_rows(SECTION, "process start -> response", totals["ours"],
                           totals["hello"], "s", TARGET)
    cpu = medians(samples, "cpu_s")
    rows.append(Row(SECTION, "CPU to response (user+sys), median", cpu["ours"], cpu["hello"],
                    "s", target=Target(TARGET)))
    for field, label in (("import_s", "import + build"), ("turn_s", "first turn (1 read)")):
        figures = medians(samples, field)
        metric = f"in child: {label}, median"
        rows.append(Row(SECTION, metric, figures["ours"], figures["hello"], "s"))
    return rows


def throttled_rows(samples: dict[str, list[dict]], memory_mb: int) -> list[Row]:
    """Wall and CPU medians of the runs under Lambda's CPU share for `memory_mb`."""
    label = f"at {memory_mb} MB's CPU share"
    wall, cpu = medians(samples, "total_s"), medians(samples, "cpu_s")
    return [
        Row(SECTION, f"{label}: process start -> response, median", wall["ours"],
            wall["hello"], "s", target=Target(TARGET)),
        Row(SECTION, f"{label}: CPU to response, median", cpu["ours"], cpu["hello"], "s",
            target=Target(TARGET)),
    ]


def measure(local: LocalDynamo, runs: int, throttled_runs: int,
            workdir: Path) -> tuple[list[Row], dict[str, Any]]:
    """Rows for the table and the detail for results.json (samples, import-time top list)."""
    seed_returning_user(local)
    event = workdir / "launch.json"
    launch = envelope_for(Device(user_id=RETURNING_USER), LAUNCH)
    event.write_text(json.dumps(launch), encoding="utf-8")
    env = with_bytecode_cache(local.child_env(), workdir)
    samples = alternated_runs(event, env, runs)
    memory_mb = configured_memory_mb()
    with cpu_limiter(share_for(memory_mb)) as limiter:
        throttled = alternated_runs(event, env, throttled_runs, limiter)
    fields = ("total_s", "cpu_s", "import_s", "turn_s")
    detail = {
        "runs_per_skill": runs,
        "samples": samples,
        "medians": {kind: {key: medians(samples, key)[kind] for key in fields} for kind in KINDS},
        "throttled": {
            "memory_mb": memory_mb,
            "share": share_for(memory_mb),
            "limiter": limiter.method,
            "runs_per_skill": throttled_runs,
            "samples": throttled,
            "medians": {kind: {key: medians(throttled, key)[kind] for key in fields}
                        for kind in KINDS},
        },
        **import_profile(event, env),
        "botocore_client_s": botocore_client_s(env),
        "first_speech": {kind: samples[kind][0]["speech"] for kind in KINDS},
    }
    return rows_for(samples) + throttled_rows(throttled, memory_mb), detail
