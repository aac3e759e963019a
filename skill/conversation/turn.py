"""One event being answered, and the ways every rule closes a turn.

Shared by the routine's rules and the reminder dialogue, so "what comes after the answer"
(a question, the prompt for the phase the user is now in, or the end of a one-shot) is
decided in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

from skill.conversation.frozen import replace
from skill.conversation.phases import Phase, phase_of
from skill.conversation.phrasebook import Phrasebook
from skill.conversation.progress import Progress, Question
from skill.conversation.speech import Speech
from skill.conversation.values import Event, Reply

Outcome = tuple[Progress, Reply]


class Turn(NamedTuple):
    """The words and content, the event, when it happened, and the phase the user was in
    when it arrived (derived once, in Coach.handle)."""

    book: Phrasebook
    event: Event
    now: datetime
    phase: Phase
    # The words of a person's routine, for a rule that changes it (pace, seated, an item).
    book_for: Callable[[Progress], Phrasebook] | None = None

    def rebooked(self, progress: Progress) -> Turn:
        """This turn in the words of `progress`'s routine, once a rule has changed it."""
        return self._replace(book=self.book_for(progress)) if self.book_for else self


Rule = Callable[[Turn, Progress], Outcome]


def ask(turn: Turn, progress: Progress, question: Question, lead: Speech,
        standalone: bool = False) -> Outcome:
    """`standalone` after an answer to something else (Phrasebook.question says why)."""
    prompt, reprompt = turn.book.question(question, progress.position, standalone)
    return replace(progress, question=question), Reply(lead + prompt, reprompt)


def carry_on(turn: Turn, progress: Progress, lead: Speech) -> Outcome:
    """`lead`, then the prompt for where the user is now; never ends the session. An idle
    user is always offered something: their saved place, or a start."""
    phase = phase_of(progress)
    if phase is Phase.RECOVERING:  # after a pain stop, how it feels comes before anything
        return ask(turn, progress, Question.PAIN_CHECK, lead, standalone=True)
    if phase is Phase.IDLE:
        question = Question.RESUME if progress.position else Question.START
        return ask(turn, progress, question, lead, standalone=True)
    prompt, reprompt = turn.book.prompt(phase, progress.question, progress.position)
    return progress, Reply(lead + prompt, reprompt)


def tell(turn: Turn, progress: Progress, key: str, **facts: object) -> Outcome:
    """One message, then the prompt for where the user is now."""
    return carry_on(turn, progress, (turn.book.say(key, **facts),))


def answer(turn: Turn, progress: Progress, speech: Speech) -> Outcome:
    """A question asked as the first request of a session ("Alexa, ask foot routine
    how many are left") is answered and the session ends; mid-session we carry on."""
    if turn.event.opens_session:
        return progress, Reply(speech, end_session=True)
    return carry_on(turn, progress, speech)
