"""Questions a person asks mid-exercise, and what they tell us about themselves.

Each question is answered and the person is back exactly where they were: the same step,
the same open question (turn.answer, which also ends a one-shot "ask foot routine ..."
session). What they tell us ("I don't have a band", "I can't get on the floor", "slower")
is stored with their progress, so it is never asked again, and the routine they do from
then on is built from it (skill/content/routine.py: routine_for).
"""

from __future__ import annotations

import math

from skill.content.routine import Exercise, Item, Routine, load_content
from skill.conversation.frozen import replace
from skill.conversation.progress import Position, Progress
from skill.conversation.speech import Say, Speech
from skill.conversation.turn import Outcome, Turn, answer, carry_on

# -- questions ---------------------------------------------------------------------------

def which_side(turn: Turn, progress: Progress) -> Outcome:
    """"Which foot?": the foot of the set they are on or about to start (the first set's
    during the introduction; the next exercise's once this one is done), or both feet."""
    book, position = turn.book, progress.position
    if position is None:
        total = len(book.routine.exercises)
        return answer(turn, progress, (book.say("progress_not_started", total=total),))
    exercises = book.routine.exercises
    index = book.index(position)
    sets, set_index = exercises[index].sets, position.set_index
    if set_index >= len(sets) and index + 1 < len(exercises):
        sets, set_index = exercises[index + 1].sets, 0
    side = sets[min(set_index, len(sets) - 1)].side
    if side is None:
        return answer(turn, progress, (book.say("side_both"),))
    return answer(turn, progress, (book.say("side_now", side=book.texts.line(f"side_{side}")),))


def equipment(turn: Turn, progress: Progress) -> Outcome:
    """"What do I need?": this exercise's things, then what the rest of the routine adds."""
    return answer(turn, progress, equipment_speech(turn, progress.position))


def equipment_speech(turn: Turn, position: Position | None) -> Speech:
    book = turn.book
    exercises = book.routine.exercises
    index = book.index(position) if position else None
    now: tuple[str, ...] = ()
    speech: list[Say] = []
    if index is not None:
        exercise = exercises[index]
        now = exercise.equipment
        key = "equipment_now" if now else "equipment_now_none"
        speech.append(book.say(key, name=exercise.name, items=book.texts.join(list(now))))
    later = [item for item in book.routine.equipment_needed(0 if index is None else index + 1)
             if item not in now]
    key = "equipment_rest" if later else "equipment_rest_none"
    speech.append(book.say(key, items=book.texts.join(later)))
    return tuple(speech)


def equipment_reminder(turn: Turn, position: Position | None) -> Speech:
    """One short line on launch for a returning user: what today's remaining exercises need."""
    book = turn.book
    items = book.routine.equipment_needed(book.index(position) if position else 0)
    return (book.say("equipment_launch", items=book.texts.join(list(items))),) if items else ()


def time_left(turn: Turn, progress: Progress) -> Outcome:
    """"How much longer?": the routine's timings from the person's place (the round they
    are on still to do), through the end of the routine."""
    book, position = turn.book, progress.position
    if position is None:
        if progress.finished:
            total = len(book.routine.exercises)
            return answer(turn, progress, (book.say("progress_finished", total=total),))
        return answer(turn, progress, (book.say("time_total", minutes=book.routine.minutes),))
    routine = book.routine
    index = book.index(position)
    seconds = _seconds_left(routine, routine.exercises[index], position)
    seconds += routine.seconds_from(index + 1)
    minutes = max(1, math.ceil(seconds / 60))
    return answer(turn, progress, (Say(book.texts.plural("time_left", minutes, minutes=minutes)),))


def _seconds_left(routine: Routine, exercise: Exercise, position: Position) -> float:
    """What is left of one exercise: its set-up when the introduction is due, the rest of
    the current set from the round to do, and the sets after it."""
    if position.rep == 0:
        return exercise.seconds(routine.cue_seconds, routine.setup_seconds)
    seconds = 0.0
    for number, exercise_set in enumerate(exercise.sets[position.set_index:],
                                          start=position.set_index):
        rounds = exercise_set.reps - (position.rep - 1 if number == position.set_index else 0)
        seconds += max(rounds, 0) * exercise_set.rep_seconds(routine.cue_seconds)
    return seconds


def purpose(turn: Turn, progress: Progress) -> Outcome:
    """"What's this one for?": the exercise's benefit line, from the content."""
    book, position = turn.book, progress.position
    if position is None:
        return answer(turn, progress, (book.say("purpose_routine"),))
    exercise = book.exercise(position)
    return answer(turn, progress, (book.say("purpose", name=exercise.name,
                                            benefit=exercise.benefit),))


# -- what people tell us about themselves ----------------------------------------------

def _item(turn: Turn, progress: Progress) -> Item | None:
    """The thing they lack: the one they named, else the only one this exercise uses."""
    items = {item.id: item for item in turn.book.routine.items()}
    named = turn.event.item
    if named is None and progress.position:
        used = turn.book.exercise(progress.position).items
        named = used[0].id if len(used) == 1 else None
    return items.get(named) if named else None


def no_equipment(turn: Turn, progress: Progress) -> Outcome:
    """"I don't have a band": the content's substitute from now on, remembered. The current
    exercise's set-up is said again in the substitute's words when it used the thing."""
    item = _item(turn, progress)
    if item is None:
        names = turn.book.texts.join([thing.name for thing in turn.book.routine.items()])
        return carry_on(turn, progress, (turn.book.say("which_item", items=names),))
    missing = tuple(dict.fromkeys((*progress.missing, item.id)))
    progress = replace(progress, missing=missing)
    turn = turn.rebooked(progress)
    book, position = turn.book, progress.position
    current = book.exercise(position) if position else None
    uses_it = current is not None and current.item(item.id) is not None
    if item.substitute is None:
        name = current.name if current and uses_it else book.name(position)
        speech: Speech = (book.say("substitute_none", item=item.noun, name=name),)
    else:
        offer = book.say("substitute_offer", item=item.noun, substitute=item.substitute.name)
        setup = (Say(current.setup),) if current and uses_it else ()
        speech = (offer, *setup, book.say("substitute_remembered"))
    return answer(turn, progress, speech)


def seated(turn: Turn, progress: Progress) -> Outcome:
    """"I can't get on the floor": the seated version of every floor exercise, remembered;
    the current one's seated set-up is said straight away."""
    progress = replace(progress, seated=True)
    turn = turn.rebooked(progress)
    book, position = turn.book, progress.position
    remembered = book.say("seated_remembered")
    if position is None:
        return answer(turn, progress, (remembered,))
    exercise = book.exercise(position)
    if exercise.seated_version:
        speech: Speech = (book.say("seated_offer", name=exercise.name), Say(exercise.setup),
                          remembered)
    else:
        speech = (book.say("seated_not_needed", name=exercise.name), remembered)
    return answer(turn, progress, speech)


def _paced(turn: Turn, progress: Progress, pace: float | None, changed: str, at_bound: str
           ) -> Outcome:
    """A new pace within the content's bounds, remembered; it applies from the next set."""
    if pace is None:
        return answer(turn, progress, (turn.book.say(at_bound),))
    progress = replace(progress, pace=pace)
    return answer(turn.rebooked(progress), progress, (turn.book.say(changed),))


def slower(turn: Turn, progress: Progress) -> Outcome:
    pace = load_content().pace.slower(progress.pace)
    return _paced(turn, progress, pace, "pace_slower", "pace_slowest")


def faster(turn: Turn, progress: Progress) -> Outcome:
    pace = load_content().pace.faster(progress.pace)
    return _paced(turn, progress, pace, "pace_faster", "pace_fastest")
