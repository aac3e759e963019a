"""One concrete routine from the content: a kind at a level and pace, adapted to a person.

The content is written once at the source's numbers; a person may be on an easier level, want
slower counts, have no band, or be unable to get down to the floor. Building the routine they
get as plain frozen values (instead of adjusting numbers while speaking) means the phrasebook,
the time estimates and the tests all see the same numbers.
"""

from __future__ import annotations

import math
import re

from skill.content.routine_values import Content, Exercise, ExerciseSet, Item, Level, Routine

# "{pencil}" in a set's words is the item with that id, as its noun or its substitute's.
_ITEM_FIELD = re.compile(r"\{([a-z_]+)\}")


def _whole(value: float) -> int:
    """Round half up: 7.5 reps is 8, where Python's round() would give the even 8 or 7."""
    return math.floor(value + 0.5)


def _fill(text: str | None, nouns: dict[str, str]) -> str | None:
    if text is None:
        return None
    # Other fields ({rep} of {reps}) are the phrasebook's and stay as they are.
    return _ITEM_FIELD.sub(lambda match: nouns.get(match[1], match[0]), text)


def _set(written: ExerciseSet, reps: float, hold: float, pace: float, nouns: dict[str, str]
         ) -> ExerciseSet:
    return written._replace(
        reps=max(1, _whole(written.reps * reps)),
        hold=float(_whole(written.hold * hold)) if written.hold else 0.0,
        # Pace stretches the gaps between movements, never the holds: a hold is the dose.
        rest=round(written.rest * pace, 2),
        lead_in=round(written.lead_in * pace, 2),
        pace=round(written.pace * pace, 2),
        instruction=_fill(written.instruction, nouns),
        rep_cue=_fill(written.rep_cue, nouns),
        hold_cue=_fill(written.hold_cue, nouns),
        release=_fill(written.release, nouns),
    )


def _exercise(written: Exercise, level: Level, pace: float, seated: bool,
              missing: frozenset[str]) -> Exercise:
    swapped: dict[str, Item] = {
        item.id: item for item in written.items if item.id in missing and item.substitute
    }
    # The parser allows a substitute on one item per exercise, so at most one is swapped.
    substitute = next((item.substitute for item in swapped.values() if item.substitute), None)
    sitting = seated and written.seated is not None
    setup = written.setup
    if substitute:
        setup = (substitute.seated_setup if sitting else None) or substitute.setup
    elif sitting and written.seated:
        setup = written.seated.setup
    nouns = {
        item.id: item.substitute.noun if item.id in swapped and item.substitute else item.noun
        for item in written.items
    }
    reps, hold = level.factors(written.id)
    return written._replace(
        equipment=tuple(
            item.substitute.name if item.id in swapped and item.substitute else item.name
            for item in written.items
        ),
        setup=setup,
        cautions=written.seated.cautions if sitting and written.seated else written.cautions,
        sets=tuple(_set(s, reps, hold, pace, nouns) for s in written.sets),
        substituted=frozenset(swapped),
        seated_version=sitting,
    )


def build(content: Content, kind: str = "full", level: str | None = None,
          pace: float | None = None, seated: bool = False,
          missing: frozenset[str] = frozenset()) -> Routine:
    """The routine of one kind at a level and pace, with substitutes for `missing` items
    and seated versions when `seated`. An unknown level or a pace between steps (stored
    before the content changed) becomes the nearest thing today's content offers."""
    chosen = content.kind(kind)
    chosen_level = content.level(level)
    chosen_pace = content.pace.nearest(pace)
    by_id = {exercise.id: exercise for exercise in content.exercises}
    return Routine(
        exercises=tuple(
            _exercise(by_id[exercise_id], chosen_level, chosen_pace, seated, missing)
            for exercise_id in chosen.exercise_ids
        ),
        max_turn_seconds=content.max_turn_seconds,
        cue_seconds=content.cue_seconds,
        setup_seconds=content.setup_seconds,
        streak=chosen.streak,
        safety=content.safety,
        kind=chosen.id,
        name=chosen.name,
        intro=chosen.intro,
        level=chosen_level.id,
        pace=chosen_pace,
    )
