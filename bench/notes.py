"""Placeholder: closing notes (filled in below)."""

from __future__ import annotations

from typing import Any

from bench.report import Row


def closing_notes(
    rows: list[Row], details: dict[str, Any], skipped: dict[str, str], errors: dict[str, str]
) -> list[str]:
    return [f"{row.section}: {row.result}" for row in rows if row.result == "MISS"]
