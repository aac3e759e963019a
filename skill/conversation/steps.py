"""Turns each exercise into the turns a user hears: an introduction, then paced sets.

A set of ten five-second holds is a minute and a half of guided movement; six rounds of
toe walking are over three minutes. Splitting sets into turns of at most
`max_turn_seconds` keeps every response far inside Alexa's limits and gives the user a
natural place to stop, repeat or go on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from skill.routine import Exercise, ExerciseSet, Routine
from skill.speech import Pause, Say, Segment, Speech
from skill.texts import Texts

# Silence between spoken counts so that "two… three…" lands about a second apart.
COUNT_GAP_SECONDS = 0.6
# A hold longer than this gets a "halfway" cue so the user is not left in silence.
MIDWAY_CUE_AFTER_SECONDS = 10


@dataclass(frozen=True)
class Step:
    """One turn of an exercise: what is said, what to say if the user goes quiet, and
    what a screen shows meanwhile (the written form and how long the turn runs)."""

    speech: Speech
    reprompt: Speech
    display: str = ""
    seconds: float = 0.0


@dataclass(frozen=True)
class _Block:
    """A run of consecutive reps of one set that is spoken in one turn."""

    exercise_set: ExerciseSet
    first: int
    last: int

    @property
    def whole_set(self) -> bool:
        return self.first == 1 and self.last == self.exercise_set.reps


def _rep_seconds(exercise_set: ExerciseSet, cue_seconds: float) -> float:
    if exercise_set.counted:
        return exercise_set.pace
    return 2 * cue_seconds + exercise_set.hold + exercise_set.rest


def _blocks(exercise_set: ExerciseSet, routine: Routine) -> list[_Block]:
    """Split a set into equal-sized blocks that each fit in one turn."""
    per_rep = _rep_seconds(exercise_set, routine.cue_seconds)
    per_turn = max(1, int(routine.max_turn_seconds // per_rep))
    turns = math.ceil(exercise_set.reps / per_turn)
    size = math.ceil(exercise_set.reps / turns)
    return [
        _Block(exercise_set, first, min(first + size - 1, exercise_set.reps))
        for first in range(1, exercise_set.reps + 1, size)
    ]


def _turns(exercise: Exercise, routine: Routine) -> list[list[_Block]]:
    """Group blocks into turns; short whole sets on the same side share a turn."""
    turns: list[list[_Block]] = []
    seconds = 0.0
    for exercise_set in exercise.sets:
        for block in _blocks(exercise_set, routine):
            block_seconds = (block.last - block.first + 1) * _rep_seconds(
                exercise_set, routine.cue_seconds
            )
            previous = turns[-1] if turns else None
            if (
                previous
                and block.whole_set
                and all(earlier.whole_set for earlier in previous)
                and previous[-1].exercise_set.side == exercise_set.side
                and seconds + block_seconds <= routine.max_turn_seconds
            ):
                previous.append(block)
                seconds += block_seconds
            else:
                turns.append([block])
                seconds = block_seconds
    return turns


class StepBuilder:
    """Renders an exercise's turns as speech in one locale."""

    def __init__(self, routine: Routine, texts: Texts) -> None:
        self.routine = routine
        self.texts = texts

    def build(self, index: int) -> tuple[Step, ...]:
        exercise = self.routine.exercises[index]
        turns = _turns(exercise, self.routine)
        steps = [self._intro(index, exercise)]
        sides_seen: list[str] = []
        for number, turn in enumerate(turns, start=1):
            speech: list[Segment] = []
            for block in turn:
                speech.extend(self._block(block, sides_seen))
            ending, reprompt = self._turn_end(index, exercise, last=number == len(turns))
            display = " ".join(self._written_set(block.exercise_set) for block in turn
                               if block.first == 1) or self._written_set(turn[0].exercise_set)
            seconds = sum(
                (block.last - block.first + 1)
                * _rep_seconds(block.exercise_set, self.routine.cue_seconds)
                for block in turn
            )
            steps.append(Step(tuple(speech) + ending, reprompt, display, seconds))
        return tuple(steps)

    def written(self, index: int) -> str:
        """The whole exercise as text, for the card in the Alexa app."""
        exercise = self.routine.exercises[index]
        line = self.texts.line
        parts = [exercise.benefit]
        if exercise.equipment:
            parts.append(line("equipment", items=self.texts.join(list(exercise.equipment))))
        parts.append(exercise.setup)
        parts.extend(self._written_set(exercise_set) for exercise_set in exercise.sets)
        parts.extend(exercise.cautions)
        if exercise.advice:
            parts.append(exercise.advice)
        return "\n".join(parts)

    def _written_set(self, exercise_set: ExerciseSet) -> str:
        line = self.texts.line
        if exercise_set.counted:
            how = line("written_counted", reps=exercise_set.reps)
        else:
            how = line("written_timed", reps=exercise_set.reps, hold=f"{exercise_set.hold:g}",
                       rest=f"{exercise_set.rest:g}")
        text = f"{exercise_set.instruction} {how}"
        if exercise_set.side:
            return line(f"written_side_{exercise_set.side}", text=text)
        return text

    def _intro(self, index: int, exercise: Exercise) -> Step:
        line = self.texts.line
        speech: list[Segment] = [
            Say(
                line(
                    "exercise_intro",
                    number=index + 1,
                    total=len(self.routine.exercises),
                    name=exercise.name,
                )
            ),
            Say(exercise.benefit),
        ]
        if exercise.equipment:
            items = self.texts.join(list(exercise.equipment))
            speech.append(Say(line("equipment", items=items)))
        speech.append(Say(exercise.setup))
        speech.extend(Say(caution) for caution in exercise.cautions)
        if exercise.advice:
            speech.append(Say(exercise.advice))
        speech.append(Say(line("intro_end")))
        return Step(tuple(speech), (Say(line("intro_reprompt")),), exercise.setup)

    def _block(self, block: _Block, sides_seen: list[str]) -> list[Segment]:
        exercise_set = block.exercise_set
        speech: list[Segment] = []
        side = exercise_set.side
        if side and block.first == 1 and side not in sides_seen:
            key = "side_switch" if sides_seen else "side_first"
            speech.append(Say(self.texts.line(key, side=self.texts.line(f"side_{side}"))))
            sides_seen.append(side)
        if block.first == 1:
            speech.append(Say(exercise_set.instruction))
        else:
            speech.append(
                Say(
                    self.texts.line(
                        "set_continue",
                        done=self.texts.number(block.first - 1),
                        reps=self.texts.number(exercise_set.reps),
                    )
                )
            )
        for rep in range(block.first, block.last + 1):
            last_in_block = rep == block.last
            speech.extend(self._rep(exercise_set, rep, last_in_block))
        return speech

    def _rep(self, exercise_set: ExerciseSet, rep: int, last_in_block: bool) -> list[Segment]:
        if exercise_set.counted:
            speech: list[Segment] = [Say(self.texts.number(rep))]
            if not last_in_block:
                speech.append(Pause(exercise_set.pace))
            return speech
        cue = exercise_set.rep_cue.format(
            rep=self.texts.number(rep), reps=self.texts.number(exercise_set.reps)
        )
        speech = [Say(cue), *self._hold(exercise_set)]
        if exercise_set.release:
            speech.append(Say(exercise_set.release))
        if exercise_set.rest and not last_in_block:
            speech.append(Pause(exercise_set.rest))
        return speech

    def _hold(self, exercise_set: ExerciseSet) -> list[Segment]:
        """Counted holds say "two… three…" a second apart; long holds get a halfway cue."""
        hold = exercise_set.hold
        if exercise_set.count_hold:
            speech: list[Segment] = []
            for second in range(2, int(hold) + 1):
                speech.extend([Pause(COUNT_GAP_SECONDS), Say(self.texts.number(second))])
            return speech
        if hold > MIDWAY_CUE_AFTER_SECONDS:
            return [Pause(hold / 2), Say(self.texts.line("hold_midway")), Pause(hold / 2)]
        return [Pause(hold)]

    def _turn_end(self, index: int, exercise: Exercise, last: bool) -> tuple[Speech, Speech]:
        line = self.texts.line
        if not last:
            return (Say(line("chunk_done")),), (Say(line("chunk_reprompt", name=exercise.name)),)
        if index + 1 == len(self.routine.exercises):
            return (
                (Say(line("last_exercise_done", name=exercise.name)),),
                (Say(line("last_exercise_reprompt")),),
            )
        following = self.routine.exercises[index + 1].name
        number = index + 2
        return (
            (Say(line("exercise_done", name=exercise.name, number=number, next_name=following)),),
            (Say(line("exercise_done_reprompt", next_name=following)),),
        )
