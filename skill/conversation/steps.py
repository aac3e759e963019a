"""Turns each exercise into what a user hears: an introduction, then its sets as played
responses, and the few words that bring someone back into position.

On an Echo every response that needs an answer ends with the microphone open, so each
"say ready" costs the person a sentence. A set (or both sides, or all rounds) is therefore
one response of up to `max_turn_seconds` of audio wherever it fits; only a set too long
for one response is split, at a rest, into equal parts. Each round starts with a Mark, so
a barge-in is mapped to the round the person had reached (skill/conversation/timeline.py), and each
response ends with a Mark for the place that follows it, so a response heard in full
leaves the person there.

Places are Positions: `rep` 0 is an exercise whose introduction is due; otherwise the
round `rep` of set `set_index` is the next to do. `set_index` equal to the number of sets
means the exercise is done.
"""

from __future__ import annotations

import math
from functools import cache
from typing import NamedTuple

from skill.content.routine import Exercise, ExerciseSet, Routine
from skill.content.texts import Texts
from skill.conversation.progress import Position
from skill.conversation.speech import Pause, Say, Speech
from skill.conversation.timeline import Chime, Cue, Mark, Tick, Timeline, total_seconds

# Silence between spoken counts so that "two… three…" lands about a second apart.
COUNT_GAP_SECONDS = 0.6
# A hold longer than this gets a "halfway" cue as well as the ticks.
MIDWAY_CUE_AFTER_SECONDS = 10
# Switching foot inside one response: a timed lead-in (ticks, then the chime) to put one
# foot down and get the other ready, instead of another "say ready" (see README).
SWITCH_SECONDS = 5.0


class Step(NamedTuple):
    """One turn of an exercise: what is said (a set's turn also has sounds and marks), what
    to say if the user goes quiet, and what a screen shows meanwhile."""

    speech: Timeline
    reprompt: Speech
    display: str = ""
    seconds: float = 0.0


class Block(NamedTuple):
    """Consecutive rounds `first`..`last` of one set, played in one response."""

    set_index: int
    first: int
    last: int


Group = tuple[Block, ...]


def following(exercise: Exercise, set_index: int, rep: int) -> Position:
    """The place after round `rep` of set `set_index`: the next round, the next set's first,
    or past the last set (the exercise is done)."""
    if rep < exercise.sets[set_index].reps:
        return Position(exercise.id, set_index, rep + 1)
    return Position(exercise.id, set_index + 1, 1)


class StepBuilder:
    """Renders an exercise's turns in one locale; plans are made once per exercise."""

    def __init__(self, routine: Routine, texts: Texts) -> None:
        self.routine = routine
        self.texts = texts
        # Rendered once per place: a warm Lambda answers the same turns again and again,
        # and the results are immutable values.
        self.plan = cache(self._plan)
        self.intro = cache(self._intro)
        self.ready = cache(self._ready)
        self.play = cache(self._play)
        self.done = cache(self._done)

    # -- what the rules ask for ----------------------------------------------------------

    def _intro(self, index: int) -> Step:
        """The whole introduction, said once when an exercise is begun."""
        exercise = self.routine.exercises[index]
        line = self.texts.line
        speech: list[Cue] = [
            Say(line("exercise_intro", number=index + 1, total=len(self.routine.exercises),
                     name=exercise.name)),
            Say(exercise.benefit),
        ]
        if exercise.equipment:
            speech.append(Say(line("equipment", items=self.texts.join(list(exercise.equipment)))))
        speech.append(Say(exercise.setup))
        speech.extend(Say(caution) for caution in exercise.cautions)
        if exercise.advice:
            speech.append(Say(exercise.advice))
        speech.append(Say(line("intro_end")))
        return Step(tuple(speech), (Say(line("intro_reprompt")),), exercise.setup)

    def _ready(self, index: int, position: Position) -> Step:
        """Back into position after a break (a new session, a pause, going back): the
        set-up restated, where we pick up, then wait for "ready" before the first cue."""
        exercise = self.routine.exercises[index]
        line = self.texts.line
        speech = (Say(line("back_in_position")), Say(exercise.setup),
                  Say(line("pick_up_at", place=self.place(index, position))),
                  Say(line("intro_end")))
        return Step(speech, (Say(line("intro_reprompt")),), exercise.setup)

    def _play(self, index: int, position: Position) -> Step:
        """The rounds from `position` to the end of the response it belongs to, with a Mark
        at each round's start and one for the place after the last (the closing mark)."""
        exercise = self.routine.exercises[index]
        blocks = self._from(self.group_of(index, position), position)
        speech, closing = self._rounds(exercise, blocks)
        ending, reprompt = self._ending(index, closing)
        timeline = (*speech, closing, *ending)
        display = " ".join(self._written_set(exercise.sets[block.set_index]) for block in blocks)
        return Step(timeline, reprompt, display, total_seconds(timeline))

    def _done(self, index: int) -> Step:
        """What is said once an exercise's last round is over (and said again on "repeat")."""
        ending, reprompt = self._ending(index, self.end_of(index))
        return Step(ending, reprompt, self.routine.exercises[index].setup)

    def end_of(self, index: int) -> Mark:
        """The closing place of an exercise: past its last set."""
        return Mark(len(self.routine.exercises[index].sets), 1)

    def group_of(self, index: int, position: Position) -> Group:
        """The response a place is played in."""
        for group in self.plan(index):
            if any(block.set_index == position.set_index
                   and block.first <= max(position.rep, 1) <= block.last for block in group):
                return group
        raise ValueError(f"no round {position} in {self.routine.exercises[index].id}")

    def after_group(self, index: int, position: Position) -> Position:
        """The place right after the response `position` is played in."""
        last = self.group_of(index, position)[-1]
        return following(self.routine.exercises[index], last.set_index, last.last)

    def units(self, index: int) -> tuple[int, ...]:
        """The first set of each part "go back" steps between: a run of sets on one side
        (both foot's circles are two parts), else each set."""
        sets = self.routine.exercises[index].sets
        return tuple(number for number, exercise_set in enumerate(sets)
                     if number == 0 or not exercise_set.side
                     or exercise_set.side != sets[number - 1].side)

    def place(self, index: int, position: Position) -> str:
        """ "round 3 of 6", "right foot, set 3 of 4, round 1 of 10": where in an exercise."""
        exercise = self.routine.exercises[index]
        exercise_set = exercise.sets[min(position.set_index, len(exercise.sets) - 1)]
        line = self.texts.line
        facts = {"rep": max(position.rep, 1), "reps": exercise_set.reps}
        if len(exercise.sets) == 1:
            words = line("place_round", **facts)
        else:
            words = line("place_set_round", set=position.set_index + 1,
                         sets=len(exercise.sets), **facts)
        if exercise_set.side:
            words = line("place_side", side=line(f"side_{exercise_set.side}"), place=words)
        return words

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

    # -- planning: which rounds share a response ---------------------------------------

    def _plan(self, index: int) -> tuple[Group, ...]:
        """Whole sets join the response before them while it fits; a set too long for one
        response is split into the fewest equal parts that each fit."""
        exercise = self.routine.exercises[index]
        groups: list[Group] = []
        current: Group = ()
        for set_index, exercise_set in enumerate(exercise.sets):
            whole = Block(set_index, 1, exercise_set.reps)
            if current and self._fits(index, (*current, whole)):
                current = (*current, whole)
                continue
            if current:
                groups.append(current)
            parts = self._split(index, set_index)
            groups.extend((part,) for part in parts[:-1])
            current = (parts[-1],)
        groups.append(current)
        return tuple(groups)

    def _split(self, index: int, set_index: int) -> list[Block]:
        reps = self.routine.exercises[index].sets[set_index].reps
        for count in range(1, reps + 1):
            size = math.ceil(reps / count)
            parts = [Block(set_index, first, min(first + size - 1, reps))
                     for first in range(1, reps + 1, size)]
            if all(self._fits(index, (part,)) for part in parts):
                return parts
        raise ValueError(  # the content checks keep a single round far below this
            f"one round of {self.routine.exercises[index].id} is longer than a response")

    def _fits(self, index: int, blocks: Group) -> bool:
        exercise = self.routine.exercises[index]
        speech, closing = self._rounds(exercise, blocks)
        ending, _ = self._ending(index, closing)
        return total_seconds((*speech, *ending)) <= self.routine.max_turn_seconds

    @staticmethod
    def _from(group: Group, position: Position) -> Group:
        """The group's blocks from `position` on (a resumed round starts its block)."""
        rep = max(position.rep, 1)
        kept = [block for block in group if block.set_index >= position.set_index]
        first = kept[0]
        if first.set_index == position.set_index and rep > first.first:
            kept[0] = Block(first.set_index, rep, first.last)
        return tuple(kept)

    # -- rendering -------------------------------------------------------------------

    def _rounds(self, exercise: Exercise, blocks: Group) -> tuple[list[Cue], Mark]:
        speech: list[Cue] = []
        for number, block in enumerate(blocks):
            exercise_set = exercise.sets[block.set_index]
            speech.append(Mark(block.set_index, block.first))
            speech.extend(self._opening(exercise, block, switching_inside=number > 0))
            for rep in range(block.first, block.last + 1):
                if rep > block.first:
                    speech.append(Mark(block.set_index, rep))
                speech.extend(self._rep(exercise_set, rep, rest=rep < block.last))
        closing = following(exercise, blocks[-1].set_index, blocks[-1].last)
        return speech, Mark(closing.set_index, closing.rep)

    def _opening(self, exercise: Exercise, block: Block, switching_inside: bool) -> list[Cue]:
        """A set's first words: the side (with a timed lead-in when the foot changes inside
        a response) and the instruction; a set picked up part-way says how far it got."""
        exercise_set = exercise.sets[block.set_index]
        line = self.texts.line
        speech: list[Cue] = []
        if block.first > 1:
            speech.append(Say(line("set_continue", done=self.texts.number(block.first - 1),
                                   reps=self.texts.number(exercise_set.reps))))
            speech.append(Say(exercise_set.instruction))
            return speech
        earlier = [s.side for s in exercise.sets[:block.set_index] if s.side]
        side = exercise_set.side
        if side and not earlier:
            speech.append(Say(line("side_first", side=line(f"side_{side}"))))
        elif side and earlier[-1] != side and switching_inside:
            speech.extend((Say(line("side_switch", side=line(f"side_{side}"))),
                           Tick(SWITCH_SECONDS), Chime()))
        # A response that opens on the other foot comes after the one that closed with the
        # switch and "say ready" (_ending), or after the set-up that names the side
        # (_ready): the switch is said once.
        speech.append(Say(exercise_set.instruction))
        return speech

    def _rep(self, exercise_set: ExerciseSet, rep: int, rest: bool) -> list[Cue]:
        if exercise_set.counted:
            speech: list[Cue] = [Say(self._count(rep))]
            if rest:
                speech.append(Pause(exercise_set.pace))
            return speech
        cue = (exercise_set.rep_cue or "").format(
            rep=self.texts.number(rep), reps=self.texts.number(exercise_set.reps))
        speech = [Say(cue)] if cue else []
        if exercise_set.hold_cue:
            # The lead-in is time to get a grip before the hold: the hold starts at its cue.
            speech.extend((Pause(exercise_set.lead_in), Say(exercise_set.hold_cue)))
        speech.extend(self._hold(exercise_set))
        if exercise_set.release:
            speech.append(Say(exercise_set.release))
        if rest and exercise_set.rest:
            speech.extend((Tick(exercise_set.rest), Chime()))
        return speech

    def _count(self, number: int) -> str:
        """A count is a sentence of its own ("five."), so the written form never reads
        "five And let go" and a count is not run into the next instruction."""
        return self.texts.line("count", number=self.texts.number(number))

    def _hold(self, exercise_set: ExerciseSet) -> list[Cue]:
        """Counted holds keep their spoken "two… three…" a second apart; other holds tick
        (with a halfway word in a long one) and end with the chime."""
        hold = exercise_set.hold
        if not hold:
            return []
        if exercise_set.count_hold:
            speech: list[Cue] = []
            for second in range(2, int(hold) + 1):
                speech.extend([Pause(COUNT_GAP_SECONDS), Say(self._count(second))])
            return speech
        if hold > MIDWAY_CUE_AFTER_SECONDS:
            return [Tick(hold / 2), Say(self.texts.line("hold_midway")), Tick(hold / 2), Chime()]
        return [Tick(hold), Chime()]

    def _ending(self, index: int, closing: Mark) -> tuple[Speech, Speech]:
        """What follows a response's last round: the next exercise (or the finish) once the
        exercise is done; else, before a change of foot, the switch and a wait for "ready";
        else a breath and "next"."""
        line = self.texts.line
        exercise = self.routine.exercises[index]
        if closing.set_index >= len(exercise.sets):
            if index + 1 == len(self.routine.exercises):
                return ((Say(line("last_exercise_done", name=exercise.name)),),
                        (Say(line("last_exercise_reprompt")),))
            following_name = self.routine.exercises[index + 1].name
            return ((Say(line("exercise_done", name=exercise.name, number=index + 2,
                              next_name=following_name)),),
                    (Say(line("exercise_done_reprompt", next_name=following_name)),))
        upcoming = exercise.sets[closing.set_index]
        before = exercise.sets[closing.set_index - 1] if closing.set_index else None
        if closing.rep == 1 and upcoming.side and before and before.side != upcoming.side:
            return ((Say(line("side_switch", side=line(f"side_{upcoming.side}"))),
                     Say(line("intro_end"))), (Say(line("intro_reprompt")),))
        return (Say(line("chunk_done")),), (Say(line("chunk_reprompt", name=exercise.name)),)

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
