"""routine.yaml -> Content, checked on load, every error naming the file, place and field.

Content is data so that rewording an instruction never touches Python; checking it on load
means a typo in the YAML fails the first test instead of a user's session. The safety limits
below are code, not content, on purpose: whoever edits a level in the YAML cannot loosen them
in the same edit, and every level, pace and routine kind is built and checked against them.
"""

from __future__ import annotations

import string
from typing import Any

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
from skill.content.yamlfile import ContentError

# Bounds a physiotherapist would accept for people with sore hips, knees and backs, at any
# level: at least one rep and no more than twenty in a set (beyond that a small muscle tires
# and the form goes); holds of 2 to 30 seconds (shorter is a twitch, longer strains a joint
# held still); a hold counted aloud second by second stays within 20 s so the count is
# followable. A level may at most halve or double a number: anything further is a different
# exercise, not a level of this one.
REPS_RANGE = (1, 20)
HOLD_RANGE = (2.0, 30.0)
MAX_COUNTED_HOLD = 20.0
FACTOR_RANGE = (0.5, 2.0)
# Pace: the source's gaps at 1.0; quicker than 0.75 rushes the movements, slower than 1.5
# leaves people waiting long enough to lose the thread.
PACE_RANGE = (0.75, 1.5)

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

    def text(self, key: str, default: Any = None) -> Any:
        value = self._get(key, (str,), _REQUIRED if default is _REQUIRED else default)
        if isinstance(value, str) and not value.strip():
            raise ContentError(f"{self.where}: field '{key}' is empty")
        return value

    def number(self, key: str, default: Any = _REQUIRED, minimum: float = 0,
               maximum: float | None = None) -> float:
        value = self._get(key, (int, float), default)
        if value < minimum:
            raise ContentError(f"{self.where}: field '{key}' must be at least {minimum}")
        if maximum is not None and value > maximum:
            raise ContentError(f"{self.where}: field '{key}' must be at most {maximum}")
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

    def entries(self, key: str) -> list[Any]:
        """A list that may be empty; the caller checks each entry's shape."""
        return self._get(key, (list,), [])

    def mapping(self, key: str) -> _Fields:
        return _Fields(self._get(key, (dict,), _REQUIRED), f"{self.where}: {key}")

    def optional(self, key: str) -> _Fields | None:
        value = self._get(key, (dict,), None)
        return None if value is None else _Fields(value, f"{self.where}: {key}")

    def factor(self, key: str) -> float:
        low, high = FACTOR_RANGE
        return float(self.number(key, 1.0, minimum=low, maximum=high))


def head_word(name: str) -> str:
    """"an exercise band" -> band; "a pencil or pen" -> pencil: an item's id and noun, the
    same rule infrastructure/locales.py names the EQUIPMENT slot values by."""
    return name.lower().replace("-", " ").split(" or ")[0].split()[-1]


def _fields_in(text: str | None) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text or "") if name}


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
        lead_in=fields.number("lead_in", 0),
        hold_cue=fields.text("hold_cue"),
        hold=fields.number("hold", 0),
        count_hold=fields.flag("count_hold"),
        release=fields.text("release"),
        rest=fields.number("rest", 0),
        pace=fields.number("pace", 0),
    )
    if not parsed.counted and not (parsed.hold and parsed.rep_cue):
        raise ContentError(f"{where}: a set needs 'pace' (counted) or 'hold' and 'rep_cue'")
    if (parsed.lead_in > 0) != (parsed.hold_cue is not None):
        raise ContentError(f"{where}: 'lead_in' and 'hold_cue' go together (the cue ends it)")
    if parsed.counted and (parsed.hold or parsed.hold_cue):
        raise ContentError(f"{where}: a counted set ('pace') has no hold")
    return parsed


def _parse_substitute(fields: _Fields, floor_version: bool) -> Substitute:
    name = fields.text("name", _REQUIRED)
    seated_setup = fields.text("seated_setup")
    if floor_version and seated_setup is None:
        raise ContentError(f"{fields.where}: the exercise has a seated version, so the "
                           "substitute needs 'seated_setup' as well")
    if not floor_version and seated_setup is not None:
        raise ContentError(f"{fields.where}: 'seated_setup' without a seated version")
    return Substitute(
        name=name,
        noun=fields.text("noun") or head_word(name),
        setup=fields.text("setup", _REQUIRED),
        seated_setup=seated_setup,
    )


def _parse_item(raw: Any, where: str, floor_version: bool) -> Item:
    """An equipment entry: plain words ("an exercise band"), or a mapping with the words as
    `item` and what can stand in for it as `substitute`."""
    if isinstance(raw, str) and raw.strip():
        return Item(id=head_word(raw), name=raw, noun=head_word(raw))
    fields = _Fields(raw, where)
    name = fields.text("item", _REQUIRED)
    where = f"{where} ({head_word(name)})"
    fields.where = where
    substitute = fields.optional("substitute")
    return Item(
        id=head_word(name),
        name=name,
        noun=fields.text("noun") or head_word(name),
        substitute=_parse_substitute(substitute, floor_version) if substitute else None,
    )


def _parse_seated(fields: _Fields, uses_floor: bool) -> Seated | None:
    seated = fields.optional("seated")
    if uses_floor and seated is None:
        raise ContentError(f"{fields.where}: 'uses_floor' needs a 'seated' version for people "
                           "who cannot get down to the floor")
    if seated is None:
        return None
    if not uses_floor:
        raise ContentError(f"{fields.where}: a 'seated' version is for exercises that have "
                           "'uses_floor: true'")
    return Seated(setup=seated.text("setup", _REQUIRED), cautions=seated.texts("cautions"))


def _check_item_fields(exercise: Exercise, where: str) -> None:
    """Set words may name the exercise's items ("{pencil}"), filled with the item's noun or
    its substitute's; {rep} and {reps} are the rep cue's own. Anything else would be spoken
    as braces."""
    ids = {item.id for item in exercise.items}
    for number, exercise_set in enumerate(exercise.sets, start=1):
        for field_name in ("instruction", "rep_cue", "hold_cue", "release"):
            allowed = ids | ({"rep", "reps"} if field_name == "rep_cue" else set())
            unknown = _fields_in(getattr(exercise_set, field_name)) - allowed
            if unknown:
                raise ContentError(f"{where} set {number}: field '{field_name}' names "
                                   f"{sorted(unknown)}, not items of this exercise {sorted(ids)}")


def _parse_exercise(raw: Any, where: str) -> Exercise:
    fields = _Fields(raw, where)
    exercise_id = fields.text("id", _REQUIRED)
    where = f"{where} ({exercise_id})"
    fields.where = where
    uses_floor = fields.flag("uses_floor")
    seated = _parse_seated(fields, uses_floor)
    items = tuple(
        _parse_item(entry, f"{where} equipment {number}", seated is not None)
        for number, entry in enumerate(fields.entries("equipment"), start=1)
    )
    ids = [item.id for item in items]
    if len(set(ids)) != len(ids):
        raise ContentError(f"{where}: an item appears twice in 'equipment': {ids}")
    if sum(1 for item in items if item.substitute) > 1:
        # A substitute's set-up wording replaces the whole set-up, so two would clash.
        raise ContentError(f"{where}: only one item of an exercise may have a substitute")
    exercise = Exercise(
        id=exercise_id,
        name=fields.text("name", _REQUIRED),
        synonyms=fields.texts("synonyms"),
        benefit=fields.text("benefit", _REQUIRED),
        equipment=tuple(item.name for item in items),
        setup=fields.text("setup", _REQUIRED),
        cautions=fields.texts("cautions"),
        sets=tuple(
            _parse_set(raw_set, f"{where} set {number}")
            for number, raw_set in enumerate(fields.items("sets"), start=1)
        ),
        advice=fields.text("advice"),
        items=items,
        uses_floor=uses_floor,
        seated=seated,
    )
    _check_item_fields(exercise, where)
    return exercise


def _parse_streak(fields: _Fields) -> StreakRule:
    streak = fields.mapping("streak")
    return StreakRule(float(streak.number("min_share_done", minimum=0.5, maximum=1.0)))


def _parse_level(raw: Any, where: str, exercise_ids: set[str]) -> Level:
    fields = _Fields(raw, where)
    level_id = fields.text("id", _REQUIRED)
    fields.where = where = f"{where} ({level_id})"
    overrides = fields.optional("exercises")
    factors = []
    for exercise_id in overrides.raw if overrides else ():
        if exercise_id not in exercise_ids:
            raise ContentError(f"{where}: no exercise '{exercise_id}' to override")
        override = _Fields(overrides.raw[exercise_id], f"{where}: exercises: {exercise_id}")
        factors.append((exercise_id, override.factor("reps"), override.factor("hold")))
    return Level(
        id=level_id,
        name=fields.text("name", _REQUIRED),
        describe=fields.text("describe", _REQUIRED),
        reps=fields.factor("reps"),
        hold=fields.factor("hold"),
        exercises=tuple(factors),
    )


def _parse_pace(fields: _Fields) -> Pace:
    pace = fields.mapping("pace")
    low, high = PACE_RANGE
    steps = pace.items("steps")
    if not all(isinstance(step, int | float) and not isinstance(step, bool) for step in steps):
        raise ContentError(f"{pace.where}: field 'steps' must be a list of numbers")
    if list(steps) != sorted(set(steps)) or not low <= steps[0] <= steps[-1] <= high:
        raise ContentError(f"{pace.where}: 'steps' must rise, each from {low} to {high}")
    default = float(pace.number("default", minimum=low, maximum=high))
    if default not in steps:
        raise ContentError(f"{pace.where}: the default {default} must be one of the steps")
    return Pace(default=default, steps=tuple(float(step) for step in steps))


def _parse_kinds(fields: _Fields, exercises: tuple[Exercise, ...]) -> tuple[Kind, ...]:
    full = Kind(
        id="full",
        name=fields.text("name", _REQUIRED),
        intro=None,
        exercise_ids=tuple(exercise.id for exercise in exercises),
        streak=_parse_streak(fields),
    )
    short_fields = fields.mapping("short")
    chosen = short_fields.texts("exercises")
    known = set(full.exercise_ids)
    if not chosen or len(set(chosen)) != len(chosen) or not set(chosen) <= known:
        raise ContentError(f"{short_fields.where}: 'exercises' must name exercises of the "
                           f"routine, each once; got {list(chosen)}")
    short = Kind(
        id="short",
        name=short_fields.text("name", _REQUIRED),
        intro=short_fields.text("intro", _REQUIRED),
        exercise_ids=chosen,
        streak=_parse_streak(short_fields),
    )
    return full, short


def _check_limits(routine: Routine, where: str) -> None:
    """Every set of a built routine within the safe bounds, or an error naming it."""
    low_reps, high_reps = REPS_RANGE
    low_hold, high_hold = HOLD_RANGE
    for exercise in routine.exercises:
        for number, s in enumerate(exercise.sets, start=1):
            place = f"{where}: {exercise.id} set {number}"
            if not low_reps <= s.reps <= high_reps:
                raise ContentError(f"{place}: {s.reps} reps, outside {low_reps}-{high_reps}")
            if not s.counted and not low_hold <= s.hold <= high_hold:
                raise ContentError(f"{place}: a {s.hold:g} s hold, outside "
                                   f"{low_hold:g}-{high_hold:g} s")
            if s.count_hold and s.hold > MAX_COUNTED_HOLD:
                raise ContentError(f"{place}: 'count_hold' is for holds of "
                                   f"{MAX_COUNTED_HOLD:g} seconds or less, got {s.hold:g}")


def _check_every_level(content: Content, source: str) -> None:
    """Build the full routine at every level and check it, so a level that breaks a bound
    fails on load, not in the session of someone on that level. The short routine is a
    subset of the same exercises and pace only stretches rests, so this covers them too."""
    for level in content.levels:
        _check_limits(build(content, level=level.id), f"{source}: level {level.id}")


def parse_content(raw: Any, source: str) -> Content:
    """Build the Content from parsed YAML; `source` names the file in error messages."""
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
    levels = tuple(
        _parse_level(item, f"{source}: level {number}", seen)
        for number, item in enumerate(fields.items("levels"), start=1)
    )
    level_ids = [level.id for level in levels]
    if len(set(level_ids)) != len(level_ids):
        raise ContentError(f"{source}: a level id appears twice: {level_ids}")
    default_level = fields.text("default_level", _REQUIRED)
    if default_level not in level_ids:
        raise ContentError(f"{source}: default_level '{default_level}' is not one of {level_ids}")
    safety = fields.mapping("safety")
    content = Content(
        exercises=exercises,
        kinds=_parse_kinds(fields, exercises),
        levels=levels,
        default_level=default_level,
        pace=_parse_pace(fields),
        safety=Safety(**{name: safety.text(name, _REQUIRED) for name in Safety._fields}),
        max_turn_seconds=fields.number("max_turn_seconds", minimum=10),
        cue_seconds=fields.number("cue_seconds", minimum=0),
        setup_seconds=fields.number("setup_seconds", minimum=0),
    )
    _check_every_level(content, source)
    return content
