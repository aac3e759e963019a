"""Order statistics for the benchmark table: median, p90 and p99 of a sample.

Why our own: `statistics.quantiles` needs at least two points and picks cut points, while
the table wants "the value below which q of the runs fall" even for the 2-run quick mode.
"""

from __future__ import annotations

from collections.abc import Sequence

QUANTILES = {"median": 0.5, "p90": 0.9, "p99": 0.99}


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), q in [0, 1]."""
    if not values:
        raise ValueError("percentile of an empty sample")
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values: Sequence[float]) -> dict[str, float]:
    """Median, p90, p99 and the sample size, as the table and the JSON report them."""
    result = {name: percentile(values, q) for name, q in QUANTILES.items()}
    result["n"] = float(len(values))
    return result


def alternating(kinds: tuple[str, ...], index: int) -> tuple[str, ...]:
    """The order for run `index`: reversed every other run, so slow drift of a busy machine
    (and whichever goes first) weighs on every kind alike."""
    return kinds if index % 2 == 0 else tuple(reversed(kinds))
