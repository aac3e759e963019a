"""The exercise content: loaded once from YAML, then one concrete Routine per way of doing it.

`load_content` parses and validates skill/content/routine.yaml (skill/content/routine_parser.py);
`routine_for` gives the routine a person does (full or short, their level and pace, their
substitutes and seated versions), built once per combination and shared, since Lambda keeps
the process warm between turns. `load_routine` is the full routine as written, which is what
the voice models and the first-time welcome describe.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from skill.content.routine_parser import parse_content
from skill.content.routine_values import (
    SIDES,
    Content,
    Exercise,
    ExerciseSet,
    Item,
    Kind,
    Level,
    Pace,
    Routine,
    Safety,
    Seated,
    StreakRule,
    Substitute,
)
from skill.content.routine_variants import build
from skill.content.yamlfile import load_yaml

__all__ = [
    "ROUTINE_FILE", "SIDES", "Content", "Exercise", "ExerciseSet", "Item", "Kind", "Level",
    "Pace", "Routine", "Safety", "Seated", "StreakRule", "Substitute", "load_content",
    "load_routine", "parse_routine", "routine_for",
]

CONTENT_DIR = Path(__file__).parent
ROUTINE_FILE = CONTENT_DIR / "routine.yaml"


@cache
def load_content(path: Path = ROUTINE_FILE) -> Content:
    """Parse and check the content once per process."""
    return parse_content(load_yaml(path), str(path))


def routine_for(
    kind: str = "full",
    level: str | None = None,
    pace: float | None = None,
    seated: bool = False,
    missing: Iterable[str] = (),
    path: Path = ROUTINE_FILE,
) -> Routine:
    """The routine a person does. `level` and `pace` as stored (None: the defaults; a value
    today's content no longer has: the nearest it offers); `missing` the items they lack."""
    content = load_content(path)
    used = {item.id for exercise in content.exercises for item in exercise.items}
    # Normalised before the cache, so stored oddities cannot grow it: one entry per real
    # combination (2 kinds x 3 levels x 4 paces x seated x subsets of 3 items at most).
    return _built(path, kind, content.level(level).id, content.pace.nearest(pace), seated,
                  frozenset(used & set(missing)))


@cache
def _built(path: Path, kind: str, level: str, pace: float, seated: bool,
           missing: frozenset[str]) -> Routine:
    return build(load_content(path), kind, level, pace, seated, missing)


def load_routine(path: Path = ROUTINE_FILE) -> Routine:
    """The full routine as written: standard level, the source's pace, no substitutes."""
    return routine_for(path=path)


def parse_routine(raw: Any, source: str) -> Routine:
    """The full routine from parsed YAML, checked like the file is; for tests of the checks."""
    return build(parse_content(raw, source))
