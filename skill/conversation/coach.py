"""The coach: the one entry point the edge calls for a turn of the conversation.

A pure state machine from (Progress, Event) to (Progress, Reply), with no Alexa, Flask
or AWS imports, so every rule is tested with plain values. A turn is two calls: `plan`
names the outside calls the event needs (today: the Reminders API), the edge makes them
and puts the results in the Event, and `handle` answers.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from functools import cache

from skill.conversation import reminder_dialogue
from skill.conversation.machine import TABLE
from skill.conversation.phases import Phase, phase_of
from skill.conversation.phrasebook import Phrasebook
from skill.conversation.turn import Outcome, Turn
from skill.conversation.values import Event, EventKind, Fulfilment, Plan
from skill.progress import Position, Progress
from skill.routine import Routine, load_routine
from skill.texts import Texts, load_texts, supported_locale

# Asked without our name ("Alexa, start my foot routine"), these land in the right place
# for anyone; moving within a routine only makes sense once one is under way.
_CAN_FULFILL = {
    EventKind.START: Fulfilment.YES,
    EventKind.PROGRESS: Fulfilment.YES,
    EventKind.LIST: Fulfilment.YES,
    EventKind.STREAK: Fulfilment.YES,
    EventKind.DISCLAIMER: Fulfilment.YES,
    EventKind.NEXT: Fulfilment.MAYBE,
    EventKind.SKIP: Fulfilment.MAYBE,
}


def can_fulfill(event: Event) -> Fulfilment:
    """A side-effect-free answer: YES for a known exercise, NO for one we don't have."""
    if event.kind is EventKind.GO_TO:
        return Fulfilment.YES if event.exercise else Fulfilment.NO
    return _CAN_FULFILL.get(event.kind, Fulfilment.NO)


class Coach:
    """The routine's rules with one locale's words; built once per process and shared."""

    def __init__(self, routine: Routine, texts: Texts) -> None:
        self.routine = routine
        self.texts = texts
        self.book = Phrasebook(routine, texts)
        self.steps = self.book.steps

    def plan(self, progress: Progress, event: Event) -> Plan:
        """The outside calls `handle` needs the results of for this event (see Plan)."""
        progress, phase = self._arrive(progress, event)
        return Plan(reminder=reminder_dialogue.job_for(progress, phase, event))

    def handle(self, progress: Progress, event: Event, now: datetime) -> Outcome:
        """What the user hears next and where they are afterwards. The results of the
        plan's calls come in `event`; a call with no result is answered as unreachable."""
        progress, phase = self._arrive(progress, event)
        progress, reply = TABLE[phase, event.kind](Turn(self.book, event, now, phase), progress)
        if event.progress_unavailable and reply.speech:
            reply = replace(reply, speech=(self.book.say("progress_unavailable"), *reply.speech))
        return progress, reply

    def _arrive(self, progress: Progress, event: Event) -> tuple[Progress, Phase]:
        """The progress a rule sees, and its phase: a new session starts with nothing said
        and nothing asked, and a stored place today's content no longer has is dropped."""
        if event.opens_session or event.kind is EventKind.LAUNCH:
            progress = progress.for_new_session()
        progress = replace(progress, position=self._valid(progress.position))
        return progress, phase_of(progress)

    def _valid(self, position: Position | None) -> Position | None:
        if position is None or self.routine.index_of(position.exercise) is None:
            return None
        last_step = len(self.steps[position.exercise]) - 1
        return replace(position, step=min(max(position.step, 0), last_step))


def coach_for(locale: str) -> Coach:
    """One coach per supported locale per process: content is parsed and compiled once."""
    return _coach(supported_locale(locale))


@cache
def _coach(locale: str) -> Coach:
    return Coach(load_routine(), load_texts(locale))
