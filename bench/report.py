"""The one table `make bench` prints, and the same rows as JSON.

Every row pairs our figure with a baseline measured in the same run, so the ratio means
something on whatever machine ran it; a row with a target says PASS or MISS beside it.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

COLUMNS = ("section", "metric", "ours", "baseline", "ratio", "target", "result")


@dataclass(frozen=True)
class Target:
    """A limit on the ratio (ours / baseline) or on our own figure, e.g. `ratio <= 0.9`."""

    limit: float
    at_most: bool = True
    on: str = "ratio"  # "ratio" or "ours"

    def text(self) -> str:
        sign = "<=" if self.at_most else ">="
        return f"{self.on} {sign} {self.limit:g}"

    def passes(self, value: float) -> bool:
        return value <= self.limit if self.at_most else value >= self.limit


@dataclass
class Row:
    """One line of the table; `unit` is printed after both figures."""

    section: str
    metric: str
    ours: float | None
    baseline: float | None
    unit: str = ""
    target: Target | None = None
    digits: int = 3
    # Shown instead of the figures when one number is not enough (the figures still decide).
    ours_text: str | None = None
    baseline_text: str | None = None
    result: str = field(default="", init=False)

    @property
    def ratio(self) -> float | None:
        if self.ours is None or self.baseline is None:
            return None
        if self.baseline == 0:
            return 0.0 if self.ours == 0 else math.inf
        return self.ours / self.baseline

    def judge(self) -> str:
        """PASS/MISS against the target, SKIP when a figure is missing, "" when none is set."""
        if self.target is None:
            self.result = ""
        else:
            value = self.ratio if self.target.on == "ratio" else self.ours
            if value is None:
                self.result = "SKIP"
            else:
                self.result = "PASS" if self.target.passes(value) else "MISS"
        return self.result

    def cells(self) -> tuple[str, ...]:
        return (
            self.section,
            self.metric,
            self.ours_text or _figure(self.ours, self.unit, self.digits),
            self.baseline_text or _figure(self.baseline, self.unit, self.digits),
            "-" if self.ratio is None else f"{self.ratio:.2f}x",
            self.target.text() if self.target else "",
            self.result,
        )

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["target"] = self.target.text() if self.target else None
        data["ratio"] = self.ratio
        return data


def percentile_rows(section: str, label: str, ours: dict[str, float], baseline: dict[str, float],
                    unit: str, median_target: float) -> list[Row]:
    """Median, p90 and p99 rows of one figure; the target is judged on the median."""
    return [
        Row(section, f"{label}, {stat}", ours[stat], baseline[stat], unit,
            target=Target(median_target) if stat == "median" else None)
        for stat in ("median", "p90", "p99")
    ]


def _figure(value: float | None, unit: str, digits: int) -> str:
    if value is None:
        return "n/a"
    text = f"{value:.{digits}f}"
    return f"{text} {unit}" if unit else text


def render(rows: list[Row]) -> str:
    """A GitHub-flavoured Markdown table, readable in a terminal and pasteable in the README."""
    table = [tuple(name.capitalize() for name in COLUMNS)] + [row.cells() for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]

    def line(cells: tuple[str, ...]) -> str:
        padded = (cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
        return "| " + " | ".join(padded) + " |"

    separator = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(table[0]), separator, *(line(cells) for cells in table[1:])])


def write_json(path: Path, rows: list[Row], extra: dict[str, Any]) -> None:
    """Rows plus whatever detail each section kept (samples, per-turn costs, notes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"rows": [row.as_json() for row in rows], **extra}
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
