"""Safety rules: pain, a cramp, dizziness or a fall, tiredness, and the check after pain.

The words of the advice are the content's (routine.yaml `safety`, reviewed against the
source's own caution); these rules decide what happens around them:
- pain stops at once and is remembered, so the next session first asks how it feels and
  says nothing else (no streak, no offer) before that answer;
- a cramp is not an injury: the set is paused where it was and the session stays open;
- dizziness or a fall ends the session after the advice to sit down and get help.
"""

from __future__ import annotations

from skill.conversation import rules
from skill.conversation.frozen import replace
from skill.conversation.progress import Progress, Question
from skill.conversation.speech import Say
from skill.conversation.turn import Outcome, Turn, ask, carry_on
from skill.conversation.values import Reply


def pain(turn: Turn, progress: Progress) -> Outcome:
    """Stop at once, advise a doctor, end the session, and ask about it next time. Pain
    named in answer to "does it still hurt?" is that answer."""
    if progress.question is Question.PAIN_CHECK:
        return still_hurts(turn, progress)
    progress = replace(progress, paused=False, question=None, pain_stopped=True)
    return progress, Reply((turn.book.say("pain"),), end_session=True)


def check_first(turn: Turn, progress: Progress) -> Outcome:
    """After a pain stop nothing else starts before we know how they feel."""
    return ask(turn, progress, Question.PAIN_CHECK, ())


def launch_check(turn: Turn, progress: Progress) -> Outcome:
    """The launch after a pain stop: a welcome, then the question, and nothing of streaks."""
    return ask(turn, progress, Question.PAIN_CHECK, (turn.book.say("welcome_back"),))


def still_hurts(turn: Turn, progress: Progress) -> Outcome:
    """A doctor first, and the session ends; the question comes again next time."""
    progress = replace(progress, question=None, paused=False, pain_stopped=True)
    return progress, Reply((Say(turn.book.routine.safety.pain_still),), end_session=True)


def feels_better(turn: Turn, progress: Progress) -> Outcome:
    """Glad to hear it, a reminder to stop on any pain, then the offer to carry on."""
    progress = replace(progress, question=None, pain_stopped=False)
    book, position = turn.book, progress.position
    lead = (Say(book.routine.safety.pain_better), *(book.where(position) if position else ()))
    return ask(turn, progress, Question.RESUME if position else Question.START, lead)


def feel_fine(turn: Turn, progress: Progress) -> Outcome:
    """"I feel fine": the answer to the pain check, else only an acknowledgement."""
    if progress.question is Question.PAIN_CHECK:
        return feels_better(turn, progress)
    return rules.okay(turn, progress)


def cramp(turn: Turn, progress: Progress) -> Outcome:
    """The content's advice (foot down, rest, carry on when it eases); mid-exercise the set
    is paused at its place and the session stays open for "ready"."""
    book, position = turn.book, progress.position
    advice = Say(book.routine.safety.cramp)
    if position is None:
        return carry_on(turn, progress, (advice,))
    progress = replace(progress, paused=True, question=None)
    speech = (advice, book.say("cramp_paused", name=book.name(position)))
    return progress, Reply(speech, (book.say("cramp_reprompt"),))


def dizzy(turn: Turn, progress: Progress) -> Outcome:
    """Stop, sit down, get help (the content's words); the session ends, the place is kept."""
    book, position = turn.book, progress.position
    saved = (book.say("dizzy_saved"),) if position else ()
    progress = replace(progress, paused=False, question=None)
    return progress, Reply((Say(book.routine.safety.dizzy), *saved), end_session=True)


def tired(turn: Turn, progress: Progress) -> Outcome:
    """"I'm tired" is a reason for a break: the pause, with a word that rest is fine."""
    rest = turn.book.say("tired")
    if progress.position is None:
        return carry_on(turn, progress, (rest,))
    progress, reply = rules.pause(turn, progress)
    return progress, replace(reply, speech=(rest, *reply.speech))
