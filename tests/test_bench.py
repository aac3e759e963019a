"""`make bench` must not rot: run it in --quick mode and check the table it produces.

Why a subprocess: the benchmark starts its own children, servers and dynalite, exactly as
`make bench` does; running it as a module here would share this process's imports and
make the cold-start and memory figures meaningless. The figures themselves are not
checked (a test cannot know this machine's speed); that every section ran, that every
target got PASS or MISS against a baseline from the same run, and that the exit status
ignores the verdicts, are.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.report import Row, Target
from bench.stats import percentile
from tests.child_process import in_ci

REPO_ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("1 cold start", "2 warm turn", "3 endpoint", "4 dynamodb cost", "5 memory")
QUICK_TIMEOUT_S = 240


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    """One `python -m bench.run --quick` for the whole module: its stdout and its JSON."""
    output = tmp_path_factory.mktemp("bench") / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--output", str(output)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=QUICK_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, f"bench failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout, json.loads(output.read_text(encoding="utf-8"))


def test_quick_bench_prints_one_table_and_a_closing_note(quick_run):
    stdout, results = quick_run
    assert results["mode"] == "quick"
    assert "| Section" in stdout and "| Ratio" in stdout and "| Result" in stdout
    assert "Closing notes:" in stdout
    assert not results["errors"], results["errors"]


def test_every_section_is_measured_or_skipped_with_a_reason(quick_run):
    _, results = quick_run
    measured = {row["section"] for row in results["rows"]}
    for section in SECTIONS:
        assert section in measured or results["skipped"].get(section), section


def test_every_target_is_judged_against_a_baseline_from_the_same_run(quick_run):
    _, results = quick_run
    judged = [row for row in results["rows"] if row["target"]]
    assert judged
    for row in judged:
        assert row["ours"] is not None and row["baseline"] is not None, row
        assert row["result"] in {"PASS", "MISS"}, row
    missed = {row["section"] for row in judged if row["result"] == "MISS"}
    for section in missed:
        assert any(note.startswith(f"- {section}: MISS.") for note in results["notes"])


def test_ci_measures_every_section(quick_run):
    """CI installs dynalite, so a skipped DynamoDB section there is a broken install step."""
    if not in_ci():
        pytest.skip("only under CI=true: locally a missing dynalite is a skip with a note")
    _, results = quick_run
    assert results["skipped"] == {}
    assert {row["section"] for row in results["rows"]} == set(SECTIONS)


def test_percentile_interpolates_between_ranks():
    assert percentile([1.0], 0.99) == 1.0
    assert percentile([1.0, 2.0], 0.5) == 1.5
    assert percentile([4.0, 1.0, 3.0, 2.0, 5.0], 0.9) == pytest.approx(4.6)


def test_a_row_passes_misses_or_skips_on_its_target():
    def judged(ours: float | None, baseline: float | None, target: Target) -> str:
        return Row("s", "m", ours, baseline, target=target).judge()

    assert judged(0.8, 1.0, Target(0.9)) == "PASS"
    assert judged(1.0, 1.0, Target(0.9)) == "MISS"
    assert judged(0.9, 1.0, Target(0.85, at_most=False)) == "PASS"
    assert judged(0.0, 1.0, Target(0, on="ours")) == "PASS"
    assert judged(None, 1.0, Target(0.9)) == "SKIP"
