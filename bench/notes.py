"""The closing note: for every missed target, why (from this run's own figures) and what
would close it; plus the caveats a reader of the table needs (skips, errors, estimates).

The "what would close it" parts name the places in skill/ that the figures point at; the
reasoning behind them is in the README's "Performance" section.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench import cold, cost, dynamo, endpoint, memory, warm
from bench.cpu_share import FULL_VCPU_MB
from bench.report import Row

Explain = Callable[[dict[str, Any]], str]


def _packages(sizes: dict[str, float], limit: int = 4) -> str:
    return ", ".join(f"{name} {ms:.0f} ms" for name, ms in list(sizes.items())[:limit]) or "none"


def explain_cold(detail: dict[str, Any]) -> str:
    ours, hello = detail["medians"]["ours"], detail["medians"]["hello"]
    throttled = detail["throttled"]
    slow_ours, slow_hello = throttled["medians"]["ours"], throttled["medians"]["hello"]
    own_ms = sum(detail["only_ours_ms"].values())
    adapter_ms = detail["only_hello_ms"].get("ask_sdk_dynamodb", 0.0)
    client_ms = detail["botocore_client_s"] * 1000
    needed = ours["total_s"] - cold.TARGET * hello["total_s"]
    return (
        f"free: ours {ours['total_s']:.3f} s wall / {ours['cpu_s']:.3f} s CPU vs the sample's "
        f"{hello['total_s']:.3f} s / {hello['cpu_s']:.3f} s; at {throttled['memory_mb']} MB's "
        f"CPU share ({throttled['limiter']}): ours {slow_ours['total_s']:.3f} s / "
        f"{slow_ours['cpu_s']:.3f} s vs {slow_hello['total_s']:.3f} s / "
        f"{slow_hello['cpu_s']:.3f} s. The sample pays botocore inside its import "
        f"({hello['import_s']:.3f} s import + build; ask_sdk_dynamodb alone {adapter_ms:.0f} ms; "
        f"botocore and a DynamoDB client cost {client_ms:.0f} ms here); ours reads through "
        f"skill/storage/dynamo_http.py and imports {own_ms:.0f} ms of modules the sample never loads "
        f"({_packages(detail['only_ours_ms'])}). Reaching {cold.TARGET}x wall needs "
        f"{max(needed, 0) * 1000:.0f} ms less. What would close it: the largest of those "
        f"imports first (the import-time list above names them), then content building."
    )


def explain_warm(detail: dict[str, Any]) -> str:
    ours, hello = detail["stats_ms"]["ours"]["median"], detail["stats_ms"]["hello"]["median"]
    return (
        f"ours {ours:.3f} ms vs hello-world {hello:.3f} ms a turn, both with telemetry as on "
        f"Lambda. The sample's turn is little more than the SDK decoding its envelope; ours "
        f"also copies the session, reads and fingerprints the progress, runs the coach, "
        f"measures the response against Alexa's 24 KB (one json.dumps of it, the set's APL for "
        f"Audio counted by its known length) and writes its turn line and EMF line (about a "
        f"fifth of the turn, much of it the runtime's JSON formatter): the 1.5x budget leaves "
        f"{(1.5 * hello - hello):.3f} ms for all of that. On this machine the two medians move "
        f"by up to a third between runs, so a single run's ratio moves by a tenth or more. "
        f"What would close it: session attributes without the progress fields that hold their "
        f"defaults (a smaller copy, decode and size check every turn), a response built as JSON "
        f"rather than as SDK models walked by the serializer, and the 24 KB check skipped when "
        f"the parts' known lengths bound the response well under it."
    )


def explain_endpoint(detail: dict[str, Any]) -> str:
    cpu = ", ".join(f"{run['mode']} {run['cpu_ms_per_request']:.2f}" for run in detail["runs"]
                    if run["cpu_ms_per_request"] is not None)
    return (
        f"server CPU per request by run (ms): {cpu}. Verification itself is one RSA-2048 "
        f"verify and a few header checks per request (the chain is verified once and cached; "
        f"see the in-process row), so a large gap here is more likely the machine than the "
        f"code: rerun on a quiet machine before acting. If it holds: skill/web/verify.py's _header "
        f"walks every request header (werkzeug builds each from the WSGI environ) twice a "
        f"request, where Werkzeug's headers.get() is already case-insensitive; what is left "
        f"then is the RSA verify itself, which no implementation avoids."
    )


def explain_dynamo(detail: dict[str, Any]) -> str:
    by_kind = detail["ours"]["by_kind"]
    writers = ", ".join(f"{kind} {usage['writes']}" for kind, usage in by_kind.items()
                        if usage["writes"])
    what_if = detail["what_if_exercise_level_writes"]
    baseline = detail["baseline"]["total"]["writes"]
    estimate = (
        f" Stored that way, this routine would take about {what_if} writes "
        f"({what_if / baseline:.2f}x the baseline; a what-if on this run's answers, not measured)."
        if what_if is not None and baseline else ""
    )
    return (
        f"ours writes when an exercise, the history, a reminder or the disclaimer changes, and "
        f"the exact step when the session ends ({writers}); the quiet turns write nothing. What "
        f"would close it: write the new exercise only at the session's end too (the place would "
        f"then depend on SessionEndedRequest alone)."
        f"{estimate}"
    )


def explain_memory(detail: dict[str, Any]) -> str:
    samples = detail["samples_mib"]
    return (
        f"peak RSS samples ours {samples['ours']} MiB, hello {samples['hello']} MiB. The "
        f"sample holds botocore, boto3 and the DynamoDB model; ours holds our code, the "
        f"content and (on Lambda with environment credentials) no botocore. What would close "
        f"it: content loaded per locale on first use, and fewer ask-sdk-model classes imported."
    )


EXPLAIN: dict[str, Explain] = {
    cold.SECTION: explain_cold,
    warm.SECTION: explain_warm,
    endpoint.SECTION: explain_endpoint,
    dynamo.SECTION: explain_dynamo,
    memory.SECTION: explain_memory,
}


def caveats(details: dict[str, Any]) -> list[str]:
    """What a reader must know to trust the table, whatever the results."""
    notes = []
    units = details.get(dynamo.SECTION)
    if units:
        notes.append(f"Capacity units: {units['capacity_source']}.")
        if not units["baseline_wrote_every_turn"]:
            notes.append("WARNING: the save-every-turn baseline did not write on every turn; "
                         "bench/baselines.py no longer matches skill/storage/session.py.")
    load = details.get(endpoint.SECTION)
    if load:
        ranges = "; ".join(f"{mode} {low:.0f}-{high:.0f}"
                           for mode, (low, high) in load["rps_range"].items())
        notes.append(
            f"Endpoint throughput of single runs ranged ({ranges} req/s) on this shared machine, "
            f"wider than the effect measured, so its target is judged on server CPU per request."
        )
    if load and any(run["exhausted"] for run in load["runs"]):
        notes.append("WARNING: a load run used up its request corpus before its deadline; "
                     "raise MAX_EXPECTED_RPS in bench/endpoint.py.")
    if load and any(set(run["statuses"]) - {200} for run in load["runs"]):
        notes.append("WARNING: some endpoint requests were not answered 200 (see results.json).")
    if details.get(cold.SECTION):
        notes.append("Cold starts run with ALEXA_API_CALLS=0 (no Alexa API here): on Lambda "
                     "a launch may also wait for the time-zone lookup.")
        throttled = details[cold.SECTION]["throttled"]
        notes.append(f"CPU share rows: {throttled['share']:.0%} of one vCPU "
                     f"({throttled['memory_mb']} MB / {FULL_VCPU_MB} MB), applied with a "
                     f"{throttled['limiter']}.")
    spend = details.get(cost.SECTION)
    if spend:
        extra = spend["snapstart_would_add_usd"]
        dates = sorted({price["since"] for price in spend["prices"].values()})
        notes.append(
            f"Cost: {spend['assumptions']}; prices effective since {', '.join(dates)} "
            f"(bench/prices.py has each with its source). SnapStart would add "
            f"{extra['restore_per_1000_routines']:.4f} USD per 1,000 routines in restores and "
            f"{extra['cache_per_version_per_30_days']:.2f} USD per 30 days per cached version."
        )
    return notes


def closing_notes(
    rows: list[Row], details: dict[str, Any], skipped: dict[str, str], errors: dict[str, str]
) -> list[str]:
    missed = sorted({row.section for row in rows if row.result == "MISS"})
    notes = ["Closing notes:"]
    notes += [f"- {section}: MISS. {EXPLAIN[section](details[section])}" for section in missed]
    if not missed and not skipped and not errors:
        notes.append("- Every target met.")
    notes += [f"- {section}: SKIPPED: {reason}" for section, reason in skipped.items()]
    notes += [f"- {section}: ERROR: {error.strip().splitlines()[-1]}"
              for section, error in errors.items()]
    notes += [f"- {note}" for note in caveats(details)]
    return notes
