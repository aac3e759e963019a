"""The exercise content as frozen values: what the parser produces and the coach reads.

Kept apart from the parser (skill/content/routine_parser.py) and the loader (skill/content/routine.py) so a
reader finds the shape of the content in one place. Every value is immutable: one Routine is
shared by every request in a warm Lambda, whoever's level or pace it was built for.

They are NamedTuples rather than frozen dataclasses because this module is on every cold
start: on Python 3.11/3.12 `@dataclass(frozen=True)` compiles six methods per class from
source as the module is imported (~1 ms a class), a NamedTuple one small constructor. The
values are as immutable, compare and hash by value as before, and are built and copied
(`_replace`) faster. (A NamedTuple also equals a plain tuple of the same items; nothing
compares content values with other tuples.)
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import NamedTuple

SIDES = ("left", "right")
KINDS = ("full", "short")


class ExerciseSet(NamedTuple):
    """One block of repetitions: either timed holds or counted movements."""

    reps: int
    instruction: str
    side: str | None = None
    rep_cue: str | None = None
    # Seconds between the rep cue and the hold, with `hold_cue` at its end: time to get a
    # grip (the pencil) before the counted hold starts, so the hold is a real hold.
    lead_in: float = 0.0
    hold_cue: str | None = None
    hold: float = 0.0
    count_hold: bool = False
    release: str | None = None
    rest: float = 0.0
    pace: float = 0.0

    @property
    def counted(self) -> bool:
        """Counted sets speak one number per rep instead of cue, hold and release."""
        return self.pace > 0

    def rep_seconds(self, cue_seconds: float) -> float:
        """How long one rep takes as spoken: its cues, the lead-in, the hold and the rest."""
        if self.counted:
            return self.pace
        cues = sum(1 for cue in (self.rep_cue, self.hold_cue, self.release) if cue)
        return cues * cue_seconds + self.lead_in + self.hold + self.rest

    def seconds(self, cue_seconds: float) -> float:
        return self.reps * self.rep_seconds(cue_seconds)


class Substitute(NamedTuple):
    """Something most homes have that does the job of a missing item.

    `setup` replaces the exercise's whole set-up wording (the way a scarf is tied differs
    from the way a band is looped), `seated_setup` does the same for the seated version.
    """

    name: str
    noun: str
    setup: str
    seated_setup: str | None = None


class Item(NamedTuple):
    """A piece of equipment. `id` is its EQUIPMENT slot value id in the voice models."""

    id: str
    name: str
    noun: str
    # None: nothing sensible replaces it, so the exercise is skipped with a note.
    substitute: Substitute | None = None


class Seated(NamedTuple):
    """The version of a floor exercise for someone who cannot get down to the floor."""

    setup: str
    cautions: tuple[str, ...]


class Exercise(NamedTuple):
    """One exercise: as written in the content, or one version of it (a level, a pace,
    substitutes, seated) in a concrete Routine."""

    id: str
    name: str
    synonyms: tuple[str, ...]
    benefit: str
    # What to have ready, as said ("an exercise band"); a substitute's name where one is used.
    equipment: tuple[str, ...]
    setup: str
    cautions: tuple[str, ...]
    sets: tuple[ExerciseSet, ...]
    advice: str | None = None
    # What the exercise normally needs, whatever this version uses instead.
    items: tuple[Item, ...] = ()
    uses_floor: bool = False
    seated: Seated | None = None
    # How this version differs from the written one: items replaced, seated or not.
    substituted: frozenset[str] = frozenset()
    seated_version: bool = False

    @property
    def sides(self) -> tuple[str, ...]:
        """The feet that take turns, in order; empty when both feet work together."""
        return tuple(dict.fromkeys(s.side for s in self.sets if s.side))

    def seconds(self, cue_seconds: float, setup_seconds: float) -> float:
        """Time for the whole exercise: getting set up (and listening), then its sets."""
        return setup_seconds + sum(s.seconds(cue_seconds) for s in self.sets)

    def item(self, item_id: str) -> Item | None:
        return next((item for item in self.items if item.id == item_id), None)

    def lacking(self, missing: Iterable[str]) -> tuple[Item, ...]:
        """Items this version needs that the person lacks and nothing replaces: the
        exercise is skipped with a note (a substituted item is not lacking)."""
        gone = set(missing) - self.substituted
        return tuple(item for item in self.items if item.id in gone)


class Level(NamedTuple):
    """How far a level moves the source's numbers: multipliers for reps and holds, with
    per-exercise overrides. The standard level is all ones."""

    id: str
    name: str
    describe: str
    reps: float = 1.0
    hold: float = 1.0
    exercises: tuple[tuple[str, float, float], ...] = ()

    def factors(self, exercise_id: str) -> tuple[float, float]:
        """(reps, hold) multipliers for one exercise at this level."""
        for override_id, reps, hold in self.exercises:
            if override_id == exercise_id:
                return reps, hold
        return self.reps, self.hold


class Pace(NamedTuple):
    """Multipliers of the gaps between movements (rests, counted movements, lead-ins),
    slowest last. 1.0 is the source's timing."""

    default: float
    steps: tuple[float, ...]

    def nearest(self, value: float | None) -> float:
        """A stored pace as one of today's steps (content may have changed since)."""
        if value is None:
            return self.default
        return min(self.steps, key=lambda step: (abs(step - value), step))

    def slower(self, value: float | None) -> float | None:
        """The next slower step, or None when already at the slowest."""
        current = self.nearest(value)
        return next((step for step in self.steps if step > current), None)

    def faster(self, value: float | None) -> float | None:
        """The next faster step, or None when already at the fastest."""
        current = self.nearest(value)
        return next((step for step in reversed(self.steps) if step < current), None)


class StreakRule(NamedTuple):
    """When a routine counts toward history and streaks: most of it actually done."""

    min_share_done: float

    def needed(self, total: int) -> int:
        """Exercises that must be done out of `total` (rounded up, at least one)."""
        # The small tolerance keeps 0.8 * 5 at 4 despite binary floating point.
        return max(1, math.ceil(self.min_share_done * total - 1e-9))


class Safety(NamedTuple):
    """Routine-wide safety wording; the pain stop itself is a prompt in strings/."""

    cramp: str
    dizzy: str
    pain_check: str
    pain_still: str
    pain_better: str


class Routine(NamedTuple):
    """One concrete routine: a kind (full or short) at one level and pace, with a person's
    substitutes and seated versions already applied."""

    exercises: tuple[Exercise, ...]
    max_turn_seconds: float
    cue_seconds: float
    setup_seconds: float
    streak: StreakRule
    safety: Safety
    kind: str = "full"
    name: str = ""
    intro: str | None = None
    level: str = "standard"
    pace: float = 1.0

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

    def seconds_from(self, index: int = 0) -> float:
        """Time for the exercises from `index` to the end, from the content's timings."""
        return sum(
            exercise.seconds(self.cue_seconds, self.setup_seconds)
            for exercise in self.exercises[index:]
        )

    @property
    def minutes(self) -> int:
        """"About N minutes": the whole routine, rounded up so it is not a promise; to five
        for a long one, but to the minute for one under ten, as rounding a seven-minute
        short routine up to ten would tell someone in a hurry it is longer than it is."""
        minutes = math.ceil(self.seconds_from(0) / 60)
        return minutes if minutes < 10 else 5 * math.ceil(minutes / 5)

    def equipment_needed(self, from_index: int = 0) -> tuple[str, ...]:
        """What to have ready for the exercises from `from_index` on, each thing once."""
        return tuple(dict.fromkeys(
            name for exercise in self.exercises[from_index:] for name in exercise.equipment
        ))

    def items(self) -> tuple[Item, ...]:
        """Every piece of equipment the routine's exercises need, each once, in order."""
        found: dict[str, Item] = {}
        for exercise in self.exercises:
            for item in exercise.items:
                found.setdefault(item.id, item)
        return tuple(found.values())

    def counts(self, done: Iterable[str]) -> bool:
        """Whether exercises done (by id) make this routine count toward history and
        streaks. Ids the routine does not have (a removed exercise) do not count."""
        mine = {exercise.id for exercise in self.exercises}
        return len(mine & set(done)) >= self.streak.needed(len(self.exercises))


def _normalise(words: str) -> str:
    return " ".join(words.lower().replace("-", " ").split())


class Kind(NamedTuple):
    """A routine people can ask for: the full one, or a short one for busy days."""

    id: str
    name: str
    intro: str | None
    exercise_ids: tuple[str, ...]
    streak: StreakRule


class Content(NamedTuple):
    """Everything routine.yaml says, validated. Exercises here are as written: their set
    texts still hold item placeholders ("Grip the {pencil}") that a concrete Routine fills."""

    exercises: tuple[Exercise, ...]
    kinds: tuple[Kind, ...]
    levels: tuple[Level, ...]
    default_level: str
    pace: Pace
    safety: Safety
    max_turn_seconds: float
    cue_seconds: float
    setup_seconds: float

    def kind(self, kind_id: str) -> Kind:
        for kind in self.kinds:
            if kind.id == kind_id:
                return kind
        raise KeyError(f"no routine kind {kind_id!r}; the kinds are {KINDS}")

    def level(self, level_id: str | None) -> Level:
        """A level by id; a stored id today's content no longer has means the default."""
        for level in self.levels:
            if level.id == level_id:
                return level
        return next(level for level in self.levels if level.id == self.default_level)

    def easier(self, level_id: str | None) -> Level | None:
        """The next easier level, or None when already at the easiest."""
        place = self.levels.index(self.level(level_id))
        return self.levels[place - 1] if place > 0 else None

    def harder(self, level_id: str | None) -> Level | None:
        """The next harder level, or None when already at the hardest."""
        place = self.levels.index(self.level(level_id))
        return self.levels[place + 1] if place + 1 < len(self.levels) else None
