"""The conversation, declared: which rule answers each event in each phase.

Read DEFAULTS for what an event does, then BY_PHASE for the few phases where it means
something else. TABLE is the whole product Phase x EventKind, so a test can walk it
(tests/test_state_machine.py) the way alexafsm's validate() does.
"""

from __future__ import annotations

from skill.conversation import household, questions, reminder_dialogue, rules, safety
from skill.conversation.frozen import replace
from skill.conversation.phases import Phase, phase_of
from skill.conversation.progress import Progress, Question
from skill.conversation.turn import Outcome, Rule, Turn, ask
from skill.conversation.values import EventKind


def _resume_offered(turn: Turn, progress: Progress) -> Outcome:
    if progress.position is None:  # the saved place left today's content meanwhile
        return rules.not_understood(turn, progress)
    return rules.enter(turn, progress, progress.position)


def _begin_offered(turn: Turn, progress: Progress) -> Outcome:
    return rules.begin(turn, progress)


def _offer_restart(turn: Turn, progress: Progress) -> Outcome:
    return ask(turn, progress, Question.RESTART, ())


# "Yes" and "no" to each question we ask.
ACCEPT: dict[Question, Rule] = {
    Question.START: _begin_offered,
    Question.RESUME: _resume_offered,
    Question.RESTART: _begin_offered,
    Question.REMINDER: reminder_dialogue.set_reminder,
    Question.PAIN_CHECK: safety.still_hurts,  # "does it still hurt?" "yes"
    # "Was that you?" "Yes": moved by the edge (Plan.claim), then welcomed back.
    Question.OWNER: lambda turn, progress: household.account_taken(turn, progress, _welcome),
}
DECLINE: dict[Question, Rule] = {
    Question.START: rules.stop,
    Question.RESUME: _offer_restart,
    Question.RESTART: rules.stop,
    Question.REMINDER: reminder_dialogue.decline,
    Question.PAIN_CHECK: safety.feels_better,
    Question.OWNER: household.account_declined,
}


def _welcome(turn: Turn, progress: Progress) -> Outcome:
    """What a launch does for this progress, in the phase it puts the person in."""
    phase = phase_of(progress)
    return TABLE[phase, EventKind.LAUNCH](turn._replace(phase=phase), progress)


def _open_question(progress: Progress) -> Question:
    """The question of the offered phase (phase_of: offered means one is open)."""
    assert progress.question is not None, "phase_of: offered has an open question"
    return progress.question


def accept(turn: Turn, progress: Progress) -> Outcome:
    return ACCEPT[_open_question(progress)](turn, progress)


def decline(turn: Turn, progress: Progress) -> Outcome:
    return DECLINE[_open_question(progress)](turn, progress)


def next_when_offered(turn: Turn, progress: Progress) -> Outcome:
    """"Next" moves on as a yes would, except that it never agrees to a reminder: then the
    offer is dropped and "next" means what it means without one. "Does it still hurt?" is
    not answered by "next", nor is "was that you?": each is asked again."""
    if progress.question in (Question.PAIN_CHECK, Question.OWNER):
        return rules.prompt_again(turn, progress)
    if progress.question is not Question.REMINDER:
        return accept(turn, progress)
    progress = replace(progress, question=None)
    phase = phase_of(progress)
    return TABLE[phase, EventKind.NEXT](turn._replace(phase=phase), progress)


# What each event does in any phase not listed in BY_PHASE.
DEFAULTS: dict[EventKind, Rule] = {
    # Welcome, then offer the saved place or a start; a new recognised voice on an account
    # with progress is first asked whether it is theirs (household.offering).
    EventKind.LAUNCH: household.offering(rules.launch),
    # The saved place ("picking up"), else the first exercise; the same question first.
    EventKind.START: household.offering(rules.start),
    EventKind.NEXT: rules.from_here,  # idle or paused: the saved place, else a start
    EventKind.PREVIOUS: rules.previous,  # the exercise before the current one
    EventKind.SKIP: rules.skip,  # the exercise after the current one
    EventKind.GO_TO: rules.go_to,  # the named exercise; an unknown name lists them
    EventKind.REPEAT: rules.repeat,  # the current step again, exactly
    EventKind.START_OVER: rules.start_over,  # the first exercise, disclaimer first
    EventKind.PAUSE: rules.pause,  # keeps the place; "resume" picks it up
    EventKind.RESUME: rules.resume,  # the saved place
    EventKind.PROGRESS: rules.where_am_i,  # answered; a one-shot question then ends
    EventKind.LIST: rules.list_exercises,  # answered; a one-shot question then ends
    EventKind.STREAK: rules.streak,  # answered; a one-shot question then ends
    EventKind.DISCLAIMER: rules.disclaimer,  # the full text, which counts as a briefing
    EventKind.HELP: rules.help_here,  # what can be said in this phase
    EventKind.STOP: rules.stop,  # ends; the place is kept
    EventKind.PAIN: safety.pain,  # ends at once with a doctor's advice; asked about next time
    EventKind.YES: rules.not_understood,  # a yes with nothing asked
    EventKind.NO: rules.okay,  # a no with nothing asked
    EventKind.UNKNOWN: rules.not_understood,  # what can be said in this phase
    EventKind.SESSION_ENDED: rules.session_ended,  # silent; the place is kept
    EventKind.SET_REMINDER: reminder_dialogue.set_reminder,
    EventKind.CANCEL_REMINDER: reminder_dialogue.cancel_reminder,
    EventKind.REMINDER_STATUS: reminder_dialogue.reminder_status,
    EventKind.SET_DONE: rules.stop,  # "I'm done" outside a set: done for today, place kept
    EventKind.CRAMP: safety.cramp,  # the content's advice; a set is paused at its place
    EventKind.DIZZY: safety.dizzy,  # stop, sit down, get help; ends, the place is kept
    EventKind.TIRED: safety.tired,  # a break: the pause, with a word that rest is fine
    EventKind.FEEL_FINE: safety.feel_fine,  # answers the pain check, else acknowledged
    # Answered, then back where they were (turn.answer); a one-shot question then ends.
    EventKind.TIME_LEFT: questions.time_left,
    EventKind.WHICH_SIDE: questions.which_side,
    EventKind.EQUIPMENT: questions.equipment,
    EventKind.PURPOSE: questions.purpose,
    # Remembered from now on, and the current exercise is said in its new words.
    EventKind.NO_EQUIPMENT: questions.no_equipment,
    EventKind.SEATED: questions.seated,
    EventKind.SLOWER: questions.slower,
    EventKind.FASTER: questions.faster,
    # A household's own: levels remembered per person, the short routine (from its start),
    # and the week's summary with its card; questions are answered in place (turn.answer).
    EventKind.EASIER: household.easier,
    EventKind.HARDER: household.harder,
    EventKind.LEVEL: household.level_now,
    EventKind.SHORT_ROUTINE: household.short_routine,
    EventKind.WEEK: household.week,
}

# Where the phase changes what an event means.
BY_PHASE: dict[tuple[Phase, EventKind], Rule] = {
    (Phase.OFFERED, EventKind.YES): accept,
    (Phase.OFFERED, EventKind.NO): decline,
    (Phase.OFFERED, EventKind.NEXT): next_when_offered,
    (Phase.OFFERED, EventKind.REPEAT): rules.prompt_again,
    # "carry on" / "continue" may come as Amazon's ResumeIntent: when nothing is paused it
    # means what "next" means there.
    (Phase.OFFERED, EventKind.RESUME): next_when_offered,
    (Phase.EXERCISING, EventKind.RESUME): rules.next_step,
    (Phase.FINISHED, EventKind.RESUME): rules.already_finished,
    # A bare "I'm done" mid-set: the set is finished, go on.
    (Phase.EXERCISING, EventKind.SET_DONE): rules.next_step,
    (Phase.EXERCISING, EventKind.START): rules.already_started,
    (Phase.EXERCISING, EventKind.NEXT): rules.next_step,
    (Phase.EXERCISING, EventKind.YES): rules.next_step,
    (Phase.PAUSED, EventKind.YES): rules.from_here,
    (Phase.FINISHED, EventKind.NEXT): rules.already_finished,
    (Phase.FINISHED, EventKind.REPEAT): rules.prompt_again,
    # After a pain stop, whatever would start or move an exercise asks how it feels first.
    (Phase.RECOVERING, EventKind.LAUNCH): safety.launch_check,
    **{(Phase.RECOVERING, kind): safety.check_first for kind in (
        EventKind.START, EventKind.NEXT, EventKind.PREVIOUS, EventKind.SKIP, EventKind.GO_TO,
        EventKind.REPEAT, EventKind.START_OVER, EventKind.PAUSE, EventKind.RESUME,
        EventKind.YES, EventKind.TIRED, EventKind.FEEL_FINE, EventKind.SHORT_ROUTINE)},
}

TABLE: dict[tuple[Phase, EventKind], Rule] = {
    (phase, kind): BY_PHASE.get((phase, kind), DEFAULTS[kind])
    for phase in Phase for kind in EventKind
}
