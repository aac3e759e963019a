"""Levels, pace and the short routine: every way of doing the routine is a valid, safe routine.

The content is written once at the source's numbers; these tests build every level of every
kind at both ends of the pace and hold them to the parser's safety limits, and check that a
new exercise added to the YAML alone reaches every level and the voice models' slot values.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from skill.content.routine import ROUTINE_FILE, load_content, load_routine, routine_for
from skill.content.routine_parser import HOLD_RANGE, MAX_COUNTED_HOLD, PACE_RANGE, REPS_RANGE
from skill.content.yamlfile import load_yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "infrastructure"))
import locales  # a script in infrastructure/, not an installed package

LEVELS = ("easier", "standard", "harder")
CONTENT = load_content()
PACES = (CONTENT.pace.steps[0], CONTENT.pace.default, CONTENT.pace.steps[-1])


def _sets(routine):
    return {(exercise.id, number): s for exercise in routine.exercises
            for number, s in enumerate(exercise.sets)}


def test_the_content_has_three_levels_in_order_with_standard_as_default() -> None:
    assert tuple(level.id for level in CONTENT.levels) == LEVELS
    assert CONTENT.default_level == "standard"
    assert all(level.describe for level in CONTENT.levels)


@pytest.mark.parametrize("kind", ["full", "short"])
@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("pace", PACES)
def test_every_level_kind_and_pace_stays_within_the_safe_limits(kind, level, pace) -> None:
    routine = routine_for(kind, level, pace)
    assert (routine.kind, routine.level, routine.pace) == (kind, level, pace)
    for s in _sets(routine).values():
        assert REPS_RANGE[0] <= s.reps <= REPS_RANGE[1]
        assert s.counted or HOLD_RANGE[0] <= s.hold <= HOLD_RANGE[1]
        assert not s.count_hold or s.hold <= MAX_COUNTED_HOLD
        assert s.rest >= 0 and float(s.hold).is_integer()
    assert PACE_RANGE[0] <= routine.pace <= PACE_RANGE[1]


def test_standard_is_the_routine_as_written() -> None:
    assert routine_for(level="standard") is load_routine()
    assert all(level.factors(e.id) == (1.0, 1.0)
               for level in CONTENT.levels if level.id == "standard" for e in CONTENT.exercises)


def test_easier_does_less_and_harder_more_of_every_exercise_with_the_same_rests() -> None:
    easier, standard, harder = (_sets(routine_for(level=level)) for level in LEVELS)
    for key, written in standard.items():
        for lighter, heavier in ((easier[key], written), (written, harder[key])):
            assert lighter.reps <= heavier.reps and lighter.hold <= heavier.hold, key
            assert lighter.rest == heavier.rest and lighter.pace == heavier.pace, key
    for exercise in CONTENT.exercises:
        mine = [key for key in standard if key[0] == exercise.id]
        for other in (easier, harder):
            changed = [key for key in mine
                       if (other[key].reps, other[key].hold) != (standard[key].reps,
                                                                 standard[key].hold)]
            assert changed, (exercise.id, "a level that changes nothing is not a level")


def test_harder_changes_one_thing_per_exercise() -> None:
    """A physiotherapist progresses one variable at a time for sore joints."""
    standard, harder = _sets(load_routine()), _sets(routine_for(level="harder"))
    for key, written in standard.items():
        more_reps = harder[key].reps > written.reps
        longer_hold = harder[key].hold > written.hold
        assert not (more_reps and longer_hold), key


def test_levels_change_the_numbers_heard() -> None:
    presses = {level: routine_for(level=level).exercises[0].sets[0] for level in LEVELS}
    assert [(s.reps, s.hold) for s in presses.values()] == [(6, 3), (10, 5), (10, 8)]
    walking = {level: routine_for(level=level).exercises[1].sets[0].reps for level in LEVELS}
    assert list(walking.values()) == [4, 6, 8]


def test_moving_between_levels_stops_at_the_ends() -> None:
    assert CONTENT.easier("standard").id == "easier"
    assert CONTENT.harder("standard").id == "harder"
    assert CONTENT.easier("easier") is None and CONTENT.harder("harder") is None
    # A level stored before the content changed means the default, never an error.
    assert CONTENT.level("heroic").id == "standard" and CONTENT.level(None).id == "standard"
    assert routine_for(level="heroic") is load_routine()


def test_routines_are_built_once_and_frozen() -> None:
    routine = routine_for("short", "easier", 1.25, True, ("band", "unknown_thing"))
    assert routine_for("short", "easier", 1.25, True, ["band"]) is routine
    # Read-only fields refuse writes with AttributeError (dataclasses' FrozenInstanceError too).
    with pytest.raises(AttributeError):
        routine.exercises[0].sets[0].reps = 99  # type: ignore[misc]
    with pytest.raises(AttributeError):
        routine.level = "harder"  # type: ignore[misc]


# --------------------------------------------------------------------------- the short routine


def test_short_routine_is_the_warm_up_and_the_two_the_source_stresses() -> None:
    short, full = routine_for("short"), load_routine()
    assert [e.id for e in short.exercises] == ["toe_presses", "toe_walking", "ankle_circles"]
    assert short.name == "the short routine" and short.intro and full.intro is None
    assert short.minutes < full.minutes
    assert short.exercises[1] == full.exercises[1]  # the same exercise, not a copy to drift


def test_short_routine_counts_only_when_all_of_it_was_done() -> None:
    short = routine_for("short")
    assert not short.counts(("toe_presses", "toe_walking"))
    assert short.counts(("toe_presses", "toe_walking", "ankle_circles"))
    # The full routine's rule is its own: three of five is not most of it.
    assert not load_routine().counts(("toe_presses", "toe_walking", "ankle_circles"))


def test_levels_apply_to_the_short_routine_too() -> None:
    assert routine_for("short", "harder").exercises[2].sets[0].reps == 15


# --------------------------------------------------------------------------- a sixth exercise


SIXTH = {
    "id": "heel_raises",
    "name": "heel raises",
    "synonyms": ["heel raise", "calf raises"],
    "benefit": "It strengthens your calves, which steady every step you take.",
    "equipment": [{"item": "a small ball", "substitute": {
        "name": "a rolled-up pair of socks",
        "setup": "Stand tall with a rolled-up pair of socks between your ankles.",
    }}],
    "setup": "Stand tall with a small ball between your ankles and a hand on a wall.",
    "cautions": ["Rise slowly, and come down just as slowly."],
    "sets": [{"reps": 8, "instruction": "Squeeze the {ball} and rise onto your toes.",
              "rep_cue": "Up.", "hold": 4, "count_hold": True, "release": "And down.",
              "rest": 3}],
}


@pytest.fixture(scope="module")
def six(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw: dict[str, Any] = copy.deepcopy(load_yaml(ROUTINE_FILE))
    raw["exercises"].append(copy.deepcopy(SIXTH))
    path = tmp_path_factory.mktemp("six") / "routine.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def test_a_sixth_exercise_parses_and_reaches_every_level(six: Path) -> None:
    for level in LEVELS:
        routine = routine_for(level=level, path=six)
        assert [e.id for e in routine.exercises][-1] == "heel_raises"
        assert routine.streak.needed(len(routine.exercises)) == 5
    easier, harder = (routine_for(level=level, path=six).exercises[-1].sets[0]
                      for level in ("easier", "harder"))
    assert (easier.reps, easier.hold) == (5, 2) and (harder.reps, harder.hold) == (12, 4)
    socks = routine_for(missing={"ball"}, path=six).exercises[-1]
    assert socks.sets[0].instruction == "Squeeze the socks and rise onto your toes."
    # The short routine lists its own exercises, so it is unchanged.
    assert routine_for("short", path=six).exercises == routine_for("short").exercises


def test_a_sixth_exercise_and_its_item_become_slot_values(six: Path) -> None:
    routine = routine_for(path=six)
    names = {value["id"]: value["name"] for value in locales.exercise_type(routine)["values"]}
    assert names["heel_raises"]["value"] == "heel raises"
    assert {"calf raises", "exercise six", "the sixth one", "the last exercise"} <= set(
        names["heel_raises"]["synonyms"])
    assert "the last exercise" not in names["toe_pencil_pickups"]["synonyms"]
    items = {value["id"] for value in locales.equipment_type(routine)["values"]}
    assert items == {item.id for item in routine.items()} == {"chair", "band", "pencil", "ball"}


def test_a_sixth_exercise_is_coached_from_start_to_finish(six: Path) -> None:
    """The YAML edit alone: the coach announces it, plays its set and finishes after it."""
    from datetime import UTC, datetime, timedelta

    from skill.content.texts import load_texts
    from skill.conversation.coach import Coach
    from skill.conversation.progress import Progress
    from skill.conversation.timeline import Played, to_console
    from skill.conversation.values import Event, EventKind

    coach = Coach(routine_for(path=six), load_texts("en-US"))
    now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    progress, reply = coach.handle(Progress(), Event(EventKind.LAUNCH, opens_session=True), now)
    heard = [to_console(reply.speech)]
    progress, reply = coach.handle(progress, Event(EventKind.YES), now)
    heard.append(to_console(reply.speech))
    for _ in range(60):  # bounded: a regression fails here instead of looping
        if progress.position is None:
            break
        # As the edge does: a set's rounds that played in full were all heard.
        played = Played.of(reply.speech, now)
        event = Event(EventKind.NEXT, reached=played.reached(now + timedelta(hours=1))
                      if played else None)
        progress, reply = coach.handle(progress, event, now)
        heard.append(to_console(reply.speech))
    text = " ".join(heard)
    assert "Exercise 6 of 6: heel raises." in text
    assert "Squeeze the" in text and "rise onto your toes." in text and "Up." in text
    assert progress.position is None and progress.history, "the routine finished and counted"
