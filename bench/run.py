"""`make bench`: measure the skill against baselines run on the same machine, in the same run.

    .venv/bin/python -m bench.run           # full run (a few minutes) -> bench/results.json
    .venv/bin/python -m bench.run --quick   # smoke run, well under a minute (tests use it)

Prints one table: each figure beside its baseline, the ratio, the target and PASS/MISS;
then the `-X importtime` top 10 of our cold start and a closing note on every missed target.
It measures, it does not gate: the exit status is 0 whatever the figures say, and non-zero
only when a section could not be measured because of an error (a missing local DynamoDB
server is a skip with a note, not an error). Everything runs on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import cold, cost, dynamo, endpoint, memory, warm
from bench.endpoint import LoadPlan
from bench.localdb import LocalDynamo, start_local_dynamo
from bench.notes import closing_notes
from bench.report import Row, render, write_json

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results.json"
Section = Callable[[], tuple[list[Row], dict[str, Any]]]


@dataclass(frozen=True)
class Settings:
    """How many samples each section takes."""

    cold_runs: int
    throttled_cold_runs: int
    warm_routines: int
    load: LoadPlan
    memory_runs: int
    cost_runs: int


FULL = Settings(
    cold_runs=20,
    throttled_cold_runs=10,
    warm_routines=40,
    load=LoadPlan(seconds=1.5, warmup_seconds=0.5, concurrency=4, rounds=10),
    memory_runs=3,
    cost_runs=3,
)
QUICK = Settings(
    cold_runs=2,
    throttled_cold_runs=1,
    warm_routines=1,
    load=LoadPlan(seconds=1.0, warmup_seconds=0.3, concurrency=4, rounds=2),
    memory_runs=1,
    cost_runs=1,
)


@dataclass
class Outcome:
    """Everything the run found, section by section."""

    rows: list[Row] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def run(self, name: str, section: Section) -> None:
        """Run one section; an error is recorded (and printed) so the others still run."""
        started = time.perf_counter()
        print(f"... {name}", file=sys.stderr, flush=True)
        try:
            rows, detail = section()
        except Exception:  # noqa: BLE001 - one broken section must not hide the others
            self.errors[name] = traceback.format_exc()
            print(self.errors[name], file=sys.stderr)
        else:
            self.rows += rows
            self.details[name] = detail
        self.seconds[name] = round(time.perf_counter() - started, 2)

    def skip(self, names: tuple[str, ...], reason: str) -> None:
        for name in names:
            self.skipped.setdefault(name, reason)


DYNAMODB_SECTIONS = (cold.SECTION, dynamo.SECTION, memory.SECTION, cost.SECTION)
# They run the ASK sample on DynamoDB.
SAMPLE_SECTIONS = (cold.SECTION, memory.SECTION, cost.SECTION)
SAMPLE_ADAPTER = "ask_sdk_dynamodb"
INSTALL_HINT = "pip install -e '.[bench]' (ask-sdk-dynamodb-persistence-adapter)"


def start_dynamo(outcome: Outcome) -> LocalDynamo | None:
    """dynalite, or None with the sections that need it marked skipped (and why)."""
    try:
        return start_local_dynamo()
    except RuntimeError as error:
        outcome.skip(DYNAMODB_SECTIONS, f"no local DynamoDB server: {error}")
        return None


def sections_for(
    settings: Settings, workdir: Path, local: LocalDynamo | None, outcome: Outcome
) -> dict[str, Section]:
    """Every section that can run here, in table order (cost reads section 4's figures)."""
    sections: dict[str, Section] = {
        warm.SECTION: lambda: warm.measure(settings.warm_routines),
        endpoint.SECTION: lambda: endpoint.measure(settings.load, workdir),
    }
    if local is not None:
        db: LocalDynamo = local
        sections[cold.SECTION] = lambda: cold.measure(
            db, settings.cold_runs, settings.throttled_cold_runs, workdir
        )
        sections[dynamo.SECTION] = lambda: dynamo.measure(db)
        sections[memory.SECTION] = lambda: memory.measure(db, settings.memory_runs, workdir)
        sections[cost.SECTION] = lambda: cost.measure(
            db, settings.cost_runs, workdir, outcome.details[dynamo.SECTION]
        )
    order = (cold.SECTION, warm.SECTION, endpoint.SECTION, dynamo.SECTION, memory.SECTION,
             cost.SECTION)
    return {name: sections[name] for name in order if name in sections}


def measure_all(settings: Settings, workdir: Path) -> Outcome:
    outcome = Outcome()
    if importlib.util.find_spec(SAMPLE_ADAPTER) is None:
        outcome.skip(SAMPLE_SECTIONS, f"the ASK sample's adapter is not installed: {INSTALL_HINT}")
    local = start_dynamo(outcome)
    try:
        for name, section in sections_for(settings, workdir, local, outcome).items():
            if name not in outcome.skipped:
                outcome.run(name, section)
    finally:
        if local is not None:
            local.stop()
    return outcome


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def import_lines(outcome: Outcome) -> list[str]:
    detail = outcome.details.get(cold.SECTION)
    if not detail:
        return []
    total_ms = detail["importtime_total_ms"]
    heading = (
        f"`python -X importtime` of our cold start, top {cold.TOP_IMPORTS} by self time "
        f"({total_ms:.0f} ms self time over all imports, first turn included):"
    )
    lines = [heading]
    lines += [
        f"  {entry['self_ms']:7.1f} ms self  {entry['cumulative_ms']:7.1f} ms cumulative  "
        f"{entry['module']}"
        for entry in detail["importtime_top_self"]
    ]
    return lines


def report(outcome: Outcome, settings: Settings, mode: str, output: Path, total: float) -> None:
    for row in outcome.rows:
        row.judge()
    notes = closing_notes(outcome.rows, outcome.details, outcome.skipped, outcome.errors)
    print(f"\nFoot Routine benchmark ({mode} mode, {machine()['cpus']} CPUs, {total:.0f} s)\n")
    print(render(outcome.rows))
    for line in ["", *import_lines(outcome), "", *notes]:
        print(line)
    write_json(
        output,
        outcome.rows,
        {
            "mode": mode,
            "machine": machine(),
            "settings": asdict(settings),
            "seconds": {**outcome.seconds, "total": round(total, 2)},
            "details": outcome.details,
            "skipped": outcome.skipped,
            "errors": outcome.errors,
            "notes": notes,
        },
    )
    print(f"\nwrote {output}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few samples of everything")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="results JSON")
    args = parser.parse_args(argv)
    settings, mode = (QUICK, "quick") if args.quick else (FULL, "full")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="foot-routine-bench-") as scratch:
        outcome = measure_all(settings, Path(scratch))
    report(outcome, settings, mode, args.output, time.perf_counter() - started)
    return 1 if outcome.errors else 0


if __name__ == "__main__":
    sys.exit(main())
