"""The exercise content, loaded from YAML into frozen values and checked on load.

Content is data so that rewording an instruction never touches Python; checking it on
load means a typo in the YAML fails the first test (with the file, exercise and field
named) instead of a user's session.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from skill.yamlfile import ContentError, load_yaml

CONTENT_DIR = Path(__file__).parent / "content"
ROUTINE_FILE = CONTENT_DIR / "routine.yaml"
SIDES = ("left", "right")


@dataclass(frozen=True)
class ExerciseSet:
    """One block of repetitions: either timed holds or counted movements."""

    reps: int
    instruction: str
    side: str | None = None
    rep_cue: str | None = None
    hold: float = 0.0
    count_hold: bool = False
    release: str | None = None
    rest: float = 0.0
    pace: float = 0.0

    @property
    def counted(self) -> bool:
        """Counted sets speak one number per rep instead of cue, hold and release."""
        return self.pace > 0


@dataclass(frozen=True)
class Exercise:
    id: str
    name: str
    synonyms: tuple[str, ...]
    benefit: str
    equipment: tuple[str, ...]
    setup: str
    cautions: tuple[str, ...]
    sets: tuple[ExerciseSet, ...]
    advice: str | None = None


@dataclass(frozen=True)
class Routine:
    exercises: tuple[Exercise, ...]
    max_turn_seconds: float
    cue_seconds: float
    minutes: int

    def index_of(self, exercise_id: str) -> int | None:
        """Position of an exercise by id, or None when we have no such exercise."""
        for index, exercise in enumerate(self.exercises):
            if exercise.id == exercise_id:
                return index
        return None

    def find(self, words: str) -> int | None:
        """Position of the exercise whose id, name or synonym matches the words."""
        wanted = _normalise(words)
        for index, exercise in enumerate(self.exercises):
            names = (exercise.id.replace("_", " "), exercise.name, *exercise.synonyms)
            if wanted in {_normalise(name) for name in names}:
                return index
        return None


def _normalise(words: str) -> str:
    return " ".join(words.lower().replace("-", " ").split())


_REQUIRED = object()


class _Fields:
    """Reads typed fields from one YAML mapping, naming the place on any error."""

    def __init__(self, raw: Any, where: str) -> None:
        if not isinstance(raw, dict):
            raise ContentError(f"{where}: expected a mapping, got {type(raw).__name__}")
        self.raw = raw
        self.where = where

    def _get(self, key: str, kinds: tuple[type, ...], default: Any) -> Any:
        if key not in self.raw:
            if default is _REQUIRED:
                raise ContentError(f"{self.where}: missing field '{key}'")
            return default
        value = self.raw[key]
        if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
            names = " or ".join(kind.__name__ for kind in kinds)
            raise ContentError(f"{self.where}: field '{key}' must be {names}, got {value!r}")
        return value

    def text(self, key: str, default: Any = None) -> str | None:
        value = self._get(key, (str,), _REQUIRED if default is _REQUIRED else default)
        if isinstance(value, str) and not value.strip():
            raise ContentError(f"{self.where}: field '{key}' is empty")
        return value

    def number(self, key: str, default: Any = _REQUIRED, minimum: float = 0) -> float:
        value = self._get(key, (int, float), default)
        if value < minimum:
            raise ContentError(f"{self.where}: field '{key}' must be at least {minimum}")
        return value

    def flag(self, key: str) -> bool:
        return self._get(key, (bool,), False)

    def texts(self, key: str) -> tuple[str, ...]:
        values = self._get(key, (list,), [])
        if not all(isinstance(value, str) and value.strip() for value in values):
            raise ContentError(f"{self.where}: field '{key}' must be a list of text")
        return tuple(values)

    def items(self, key: str) -> list[Any]:
        values = self._get(key, (list,), _REQUIRED)
        if not values:
            raise ContentError(f"{self.where}: field '{key}' must not be empty")
        return values


def _parse_set(raw: Any, where: str) -> ExerciseSet:
    fields = _Fields(raw, where)
    side = fields.text("side")
    if side is not None and side not in SIDES:
        raise ContentError(f"{where}: field 'side' must be one of {SIDES}, got {side!r}")
    parsed = ExerciseSet(
        reps=int(fields.number("reps", minimum=1)),
        instruction=fields.text("instruction", _REQUIRED),
        side=side,
        rep_cue=fields.text("rep_cue"),
        hold=fields.number("hold", 0),
        count_hold=fields.flag("count_hold"),
        release=fields.text("release"),
        rest=fields.number("rest", 0),
        pace=fields.number("pace", 0),
    )
    if not parsed.counted and not (parsed.hold and parsed.rep_cue):
        raise ContentError(f"{where}: a set needs 'pace' (counted) or 'hold' and 'rep_cue'")
    if parsed.count_hold and parsed.hold > 20:
        raise ContentError(f"{where}: 'count_hold' is for holds of 20 seconds or less")
    return parsed


def _parse_exercise(raw: Any, where: str) -> Exercise:
    fields = _Fields(raw, where)
    exercise_id = fields.text("id", _REQUIRED)
    where = f"{where} ({exercise_id})"
    fields.where = where
    return Exercise(
        id=exercise_id,
        name=fields.text("name", _REQUIRED),
        synonyms=fields.texts("synonyms"),
        benefit=fields.text("benefit", _REQUIRED),
        equipment=fields.texts("equipment"),
        setup=fields.text("setup", _REQUIRED),
        cautions=fields.texts("cautions"),
        sets=tuple(
            _parse_set(raw_set, f"{where} set {number}")
            for number, raw_set in enumerate(fields.items("sets"), start=1)
        ),
        advice=fields.text("advice"),
    )


def parse_routine(raw: Any, source: str) -> Routine:
    """Build a Routine from parsed YAML; `source` names the file in error messages."""
    fields = _Fields(raw, source)
    exercises = tuple(
        _parse_exercise(item, f"{source}: exercise {number}")
        for number, item in enumerate(fields.items("exercises"), start=1)
    )
    seen: set[str] = set()
    for exercise in exercises:
        if exercise.id in seen:
            raise ContentError(f"{source}: exercise id '{exercise.id}' appears twice")
        seen.add(exercise.id)
    return Routine(
        exercises=exercises,
        max_turn_seconds=fields.number("max_turn_seconds", minimum=10),
        cue_seconds=fields.number("cue_seconds", minimum=0),
        minutes=int(fields.number("minutes", minimum=1)),
    )


@cache
def load_routine(path: Path = ROUTINE_FILE) -> Routine:
    """Parse the routine once per process: Lambda keeps it warm between turns."""
    return parse_routine(load_yaml(path), str(path))
