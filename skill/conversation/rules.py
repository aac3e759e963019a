"""The rules of the routine: what each event does to a user's progress.

Which rule answers which event in which phase is declared in machine.py; the words of
every reply come from the phrasebook. A rule only decides: where the user goes, what is
recorded, which message, question or exercise step comes next.
"""

from __future__ import annotations

from skill.conversation import questions, reminder_dialogue
from skill.conversation.frozen import replace
from skill.conversation.phases import Phase
from skill.conversation.progress import Position, Progress, Question, is_stale
from skill.conversation.speech import Speech
from skill.conversation.turn import Outcome, Turn, answer, ask, carry_on, tell
from skill.conversation.values import Reply

# A half-done routine older than this is restarted rather than resumed mid-way.
STALE_AFTER_DAYS = 7


# -- moves the rules share ---------------------------------------------------------------

def enter(turn: Turn, progress: Progress, position: Position, lead: Speech = (),
          play: bool = False) -> Outcome:
    """Speak an exercise turn: its introduction when that is due, the rounds from
    `position` with `play` (after "ready"), else the set-up again and a wait for "ready",
    so nobody is counted in before they are back in position. An exercise whose rounds
    are all over moves on. Whenever a routine starts in a session, the disclaimer comes
    first (safety): in full to someone who never heard it, else the short reminder."""
    book = turn.book
    if book.is_done(position):
        return advance(turn, _done(progress, position), position)
    if play:
        step = book.play(position)
    elif position.rep == 0:
        step, position = book.intro(position), replace(position, set_index=0, rep=1)
    else:
        step = book.ready(position)
    disclaimer = None if progress.briefed else ("short" if progress.heard_disclaimer else "full")
    moved = position != progress.position
    progress = replace(
        progress, position=position, briefed=True, heard_disclaimer=True, paused=False,
        finished=False, question=None,
        updated_at=turn.now.isoformat() if moved else progress.updated_at,
        at_start=progress.at_start and progress.position is not None
        and position.exercise == progress.position.exercise,
    )
    return progress, book.exercise_turn(position, step, lead, disclaimer)


def _done(progress: Progress, position: Position) -> Progress:
    if position.exercise in progress.done:
        return progress
    return replace(progress, done=(*progress.done, position.exercise))


def _mid_set(turn: Turn) -> bool:
    """The person spoke while a set's rounds were still playing (a barge-in)."""
    return bool(turn.event.reached and turn.event.reached.interrupted)


def begin(turn: Turn, progress: Progress, lead: Speech = ()) -> Outcome:
    """A fresh routine from the first exercise: the disclaimer is due again. Its place is
    the start (Progress.at_start) until the person moves to another exercise."""
    first = Position(turn.book.routine.exercises[0].id)
    progress, reply = enter(turn, replace(progress, done=(), briefed=False), first, lead)
    return replace(progress, at_start=True), reply


def from_here(turn: Turn, progress: Progress) -> Outcome:
    """The user's place as it stands (after a pause, or a one-shot "next"), else a start."""
    if progress.position is None:
        return begin(turn, progress)
    return enter(turn, progress, progress.position)


def advance(turn: Turn, progress: Progress, position: Position) -> Outcome:
    """Move to the next exercise's start, or finish after the last one."""
    exercises = turn.book.routine.exercises
    index = turn.book.index(position)
    if index + 1 == len(exercises):
        return finish(turn, progress)
    return enter(turn, progress, Position(exercises[index + 1].id))


def finish(turn: Turn, progress: Progress) -> Outcome:
    """An honest streak: a routine counts toward history and streaks only when most of it
    was done (the content's rule, e.g. four of five exercises), and only exercises today's
    content still has count. A go-to plus one exercise is the end of the routine, not one
    finished, and is told so."""
    today = turn.now.date()
    done = tuple(i for i in progress.done if turn.book.routine.index_of(i) is not None)
    counted = turn.book.routine.counts(done)
    if counted:
        progress = progress.completed_on(today)
    else:
        progress = replace(progress, position=None, done=(), finished=True)
    progress = replace(progress, updated_at=turn.now.isoformat())
    speech = turn.book.finished(done, progress.history, today, counted)
    if counted and reminder_dialogue.may_offer(progress, today):
        return ask(turn, progress, Question.REMINDER, speech)
    return carry_on(turn, progress, speech)


def _place(progress: Progress) -> Position:
    """The position of a phase that always has one (exercising, paused)."""
    assert progress.position is not None, "phase_of: exercising and paused have a position"
    return progress.position


# -- rules, by event -----------------------------------------------------------------------

def launch(turn: Turn, progress: Progress) -> Outcome:
    book, position = turn.book, progress.position
    lead: Speech = ()
    if position and is_stale(progress.updated_at, turn.now, STALE_AFTER_DAYS):
        position = None
        lead = (book.say("fresh_start"),)
    progress = replace(progress, position=position, done=progress.done if position else ())
    if not progress.heard_disclaimer and not progress.history:
        welcome = (book.say("welcome_first", minutes=book.routine.minutes),)
        return ask(turn, progress, Question.START, welcome)
    welcome = (book.say("welcome_back"),
               *book.streak_line(progress.history, turn.now.date(), on_launch=True), *lead,
               *questions.equipment_reminder(turn, position))
    if position:
        return ask(turn, progress, Question.RESUME,
                   (*welcome, *book.where(position, progress.done)))
    return ask(turn, progress, Question.START, welcome)


def start(turn: Turn, progress: Progress) -> Outcome:
    if progress.position is None:
        return begin(turn, progress)
    lead = (turn.book.say("picking_up", name=turn.book.name(progress.position)),)
    return enter(turn, progress, progress.position, lead)


def already_started(turn: Turn, progress: Progress) -> Outcome:
    """"Let's go", "begin" or "start" at a prompt (an introduction's "say ready", a
    set-up) is a person who is ready: the rounds begin as "ready" would begin them. Said
    over rounds that are playing it cannot mean that (they would be left out), so the
    place is restated."""
    if not _mid_set(turn):
        return next_step(turn, progress)
    return enter(turn, progress, _place(progress), (turn.book.say("already_started"),))


def next_step(turn: Turn, progress: Progress) -> Outcome:
    """"Ready" plays the rounds from the person's place; at an exercise whose introduction
    is due it is said first. Said mid-set, the rest of that response's rounds are left
    out and what follows them comes next (the next side's set-up, or the next exercise)."""
    position = _place(progress)
    if _mid_set(turn):
        return enter(turn, progress, turn.book.turns.after_group(turn.book.index(position),
                                                                 position))
    return enter(turn, progress, position, play=position.rep > 0)


def already_finished(turn: Turn, progress: Progress) -> Outcome:
    return tell(turn, progress, "already_finished")


def previous(turn: Turn, progress: Progress) -> Outcome:
    """Back one step at the size the person is on: part-way through a set, to that set's
    start; at a set's start, to the set before it (or, where the foot changes, to the
    other foot's first set); only at an exercise's start to the previous exercise's last
    part. Every step back lands on a set-up and a wait for "ready"."""
    position = progress.position
    if position is None:
        return tell(turn, progress, "nothing_to_go_back_to")
    book = turn.book
    index = book.index(position)
    back = _set_before(book.turns.units(index), position, book.is_done(position))
    if back is not None:
        return enter(turn, progress, Position(position.exercise, back, 1))
    if index == 0:
        return tell(turn, replace(progress, question=None), "at_first")
    # The previous exercise's last part: its set-up again, or its introduction when that
    # part is the whole exercise.
    before = book.routine.exercises[index - 1]
    last = book.turns.units(index - 1)[-1]
    return enter(turn, progress, Position(before.id, last, 1) if last else Position(before.id))


def _set_before(units: tuple[int, ...], position: Position, done: bool) -> int | None:
    """The set of this exercise whose start "go back" returns to, or None at its start.
    `units` are the sets that begin a part (a side); past the last set (`done`) the last
    part is the one just finished."""
    if position.rep > 1:
        return position.set_index
    if position.rep == 0 or position.set_index == 0:
        return None
    if done or position.set_index in units:
        return max(first for first in units if first < position.set_index)
    return position.set_index - 1


def skip(turn: Turn, progress: Progress) -> Outcome:
    position = progress.position
    if position is None:
        return tell(turn, progress, "nothing_to_skip")
    lead = (turn.book.say("skipping", name=turn.book.name(position)),)
    progress, reply = advance(turn, progress, position)
    return progress, replace(reply, speech=lead + reply.speech)


def go_to(turn: Turn, progress: Progress) -> Outcome:
    event = turn.event
    index = turn.book.routine.index_of(event.exercise) if event.exercise else None
    if index is None:
        return carry_on(turn, progress, turn.book.unknown_exercise(event.spoken))
    return enter(turn, progress, Position(turn.book.routine.exercises[index].id))


def repeat(turn: Turn, progress: Progress) -> Outcome:
    """Mid-set: the round the person was on again, with its instruction, and on from
    there. At a prompt: the last instruction, and the place stays."""
    position = progress.position
    if position is None:
        return prompt_again(turn, progress)
    if _mid_set(turn):
        return enter(turn, progress, position, play=True)
    if turn.phase is not Phase.EXERCISING:  # nothing said yet this session: the place
        return enter(turn, progress, position)
    book = turn.book
    return progress, book.exercise_turn(position, book.instruction(position), (), None)


def prompt_again(turn: Turn, progress: Progress) -> Outcome:
    """Nothing to repeat but the question or prompt that is open."""
    return carry_on(turn, progress, ())


def start_over(turn: Turn, progress: Progress) -> Outcome:
    return begin(turn, progress, (turn.book.say("starting_over"),))


def pause(turn: Turn, progress: Progress) -> Outcome:
    """On a device a paused session cannot wait: the microphone closes after a few seconds
    and a later "resume" never reaches us. So the place is saved and the session ends
    with how to come back (a one-shot that names the skill)."""
    position = progress.position
    if position is None:
        return tell(turn, progress, "nothing_to_pause")
    speech = (turn.book.say("paused_until", place=turn.book.place_name(position)),)
    return replace(progress, paused=False, question=None), Reply(speech, end_session=True)


def resume(turn: Turn, progress: Progress) -> Outcome:
    if progress.position is None:
        return tell(turn, progress, "nothing_to_resume")
    return start(turn, progress)


def where_am_i(turn: Turn, progress: Progress) -> Outcome:
    return answer(turn, progress, turn.book.progress_answer(progress.position, progress.finished))


def list_exercises(turn: Turn, progress: Progress) -> Outcome:
    total = len(turn.book.routine.exercises)
    return answer(turn, progress, (turn.book.say("list", total=total, names=turn.book.names()),))


def streak(turn: Turn, progress: Progress) -> Outcome:
    return answer(turn, progress, turn.book.streak_answer(progress.history, turn.now.date()))


def disclaimer(turn: Turn, progress: Progress) -> Outcome:
    progress = replace(progress, heard_disclaimer=True, briefed=True)
    return tell(turn, progress, "disclaimer_full")


def help_here(turn: Turn, progress: Progress) -> Outcome:
    return carry_on(turn, progress, turn.book.help(turn.phase, progress.position))


def not_understood(turn: Turn, progress: Progress) -> Outcome:
    """What fits here, never a generic menu: mid-set, paused or finished the fallback names
    the words that work; at a question (or idle) the question itself follows it."""
    speech = turn.book.fallback(turn.phase, progress.position)
    if turn.phase in (Phase.EXERCISING, Phase.PAUSED, Phase.FINISHED):
        _, reprompt = turn.book.prompt(turn.phase, None, progress.position)
        return progress, Reply(speech, reprompt)
    return carry_on(turn, progress, speech)


def okay(turn: Turn, progress: Progress) -> Outcome:
    return tell(turn, progress, "okay")


def stop(turn: Turn, progress: Progress) -> Outcome:
    """Ends the session; the user's place is kept for next time."""
    if progress.position:
        speech = (turn.book.say("goodbye_saved", name=turn.book.place_name(progress.position)),)
    else:
        # "Great work today" only after a routine that counted today, never after skipping.
        worked = progress.finished and turn.now.date().isoformat() in progress.history
        speech = (turn.book.say("goodbye_done" if worked else "goodbye"),)
    return replace(progress, paused=False, question=None), Reply(speech, end_session=True)


def session_ended(turn: Turn, progress: Progress) -> Outcome:
    """Alexa closed the session: nothing may be said (Alexa ignores it), the place is kept."""
    return replace(progress, question=None, paused=False), Reply((), end_session=True)
