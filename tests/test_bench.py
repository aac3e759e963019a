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
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench import cost, prices
from bench.cpu_share import CgroupQuota, DutyCycle, cpu_limiter, share_for
from bench.report import Row, Target
from bench.spawn import spawn
from bench.stats import percentile
from tests.child_process import in_ci

REPO_ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("1 cold start", "2 warm turn", "3 endpoint", "4 dynamodb cost", "5 memory",
            "6 cost")
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


def test_cold_start_is_judged_on_wall_and_cpu_free_and_under_the_cpu_share(quick_run):
    _, results = quick_run
    if "1 cold start" in results["skipped"]:
        pytest.skip(results["skipped"]["1 cold start"])
    targets = {row["metric"]: row["target"] for row in results["rows"]
               if row["section"] == "1 cold start" and row["target"]}
    assert "process start -> response, median" in targets
    assert "CPU to response (user+sys), median" in targets
    assert any(metric.endswith("CPU share: CPU to response, median") for metric in targets)
    assert set(targets.values()) == {"ratio <= 0.5"}
    throttled = results["details"]["1 cold start"]["throttled"]
    assert throttled["share"] == pytest.approx(share_for(throttled["memory_mb"]))


def test_cost_rows_price_both_skills_with_dated_sources(quick_run):
    _, results = quick_run
    if "6 cost" in results["skipped"]:
        pytest.skip(results["skipped"]["6 cost"])
    rows = [row for row in results["rows"] if row["section"] == "6 cost"]
    assert any(row["metric"].startswith("total per 1,000 routines") for row in rows)
    assert all(row["ours"] > 0 and row["baseline"] > 0 for row in rows)
    for price in results["details"]["6 cost"]["prices"].values():
        assert price["source"].startswith("https://aws.amazon.com/") and price["since"]


def test_a_routine_is_billed_per_rounded_millisecond_and_gigabyte_second():
    assert cost.billed_ms({"init_s": 0.2501, "turn_s": [0.0004, 0.001, 0.0021]}) == 251 + 1 + 1 + 3
    one_gb_second = cost.lambda_usd(1000, turns=0, memory_mb=1024)
    assert one_gb_second == pytest.approx(prices.LAMBDA_ARM_GB_SECOND.usd)
    assert cost.lambda_usd(0, turns=5, memory_mb=512) == pytest.approx(5 * 0.20 / 1e6)
    units = {"read_units": 2.0, "write_units": 4.0}
    assert cost.dynamodb_usd(units) == pytest.approx((2 * 0.125 + 4 * 0.625) / 1e6)


def test_lambda_gives_a_full_vcpu_at_1769_mb():
    assert share_for(1769) == 1.0 and share_for(3008) == 1.0
    assert share_for(512) == pytest.approx(0.2894, abs=1e-4)


_REPORT_CGROUP = (
    "import json; print(json.dumps({'cgroups': open('/proc/self/cgroup').read()}))"
)


def test_cgroup_limiter_puts_the_child_under_the_quota():
    with cpu_limiter(share_for(512)) as limiter:
        if not isinstance(limiter, CgroupQuota):
            pytest.skip(f"cgroups are not writable here ({limiter.method} would be used)")
        quota_files = {path.name: path.read_text().strip()
                       for path in limiter.directory.iterdir() if path.name.startswith("cpu.")}
        report = spawn(["-c", _REPORT_CGROUP], dict(os.environ), limiter)
    assert limiter.directory.name in report["cgroups"]
    assert quota_files.get("cpu.max", "").startswith("2894 ") or \
        quota_files.get("cpu.cfs_quota_us") == "2894"
    assert not limiter.directory.exists(), "the cgroup is removed afterwards"


def test_duty_cycle_limiter_lets_the_child_answer_and_exit():
    with cpu_limiter(share_for(512), prefer_cgroup=False) as limiter:
        assert isinstance(limiter, DutyCycle)
        code = ("import json, time\nstart = time.process_time()\n"
                "while time.process_time() - start < 0.05: pass\n"
                "print(json.dumps({'done': True}))")
        report = spawn(["-c", code], dict(os.environ), limiter)
    assert report["done"] is True


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
