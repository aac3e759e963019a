"""The coach: the one entry point the edge calls for a turn of the conversation.

A pure state machine from (Progress, Event) to (Progress, Reply), with no Alexa, Flask
or AWS imports, so every rule is tested with plain values. A turn is two calls: `plan`
names the outside calls the event needs (the Reminders API, the device's time zone, moving
an account's progress to a recognised voice), the edge makes them
and puts the results in the Event, and `handle` answers.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache, lru_cache

from skill.content.routine import Routine, load_routine, routine_for
from skill.content.texts import Texts, load_texts, supported_locale
from skill.conversation import household, reminder_dialogue
from skill.conversation.frozen import replace
from skill.conversation.machine import TABLE
from skill.conversation.phases import Phase, phase_of
from skill.conversation.phrasebook import Phrasebook
from skill.conversation.progress import (
    FULL,
    Position,
    Progress,
    Question,
    time_zone_due,
    with_time_zone,
    zone_of,
)
from skill.conversation.turn import Outcome, Turn
from skill.conversation.values import Event, EventKind, Fulfilment, Plan

# Asked without our name ("Alexa, start my foot routine"), these land in the right place
# for anyone; moving within a routine only makes sense once one is under way.
_CAN_FULFILL = {
    EventKind.START: Fulfilment.YES,
    EventKind.PROGRESS: Fulfilment.YES,
    EventKind.LIST: Fulfilment.YES,
    EventKind.STREAK: Fulfilment.YES,
    EventKind.DISCLAIMER: Fulfilment.YES,
    EventKind.SHORT_ROUTINE: Fulfilment.YES,
    EventKind.WEEK: Fulfilment.YES,
    EventKind.LEVEL: Fulfilment.YES,
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
        # A person's own routine (pace, seated versions, substitutes) is rendered once per
        # combination and shared; routine_for keeps each Routine alive, so ids are stable.
        self._books: dict[int, Phrasebook] = {id(routine): self.book}

    def plan(self, progress: Progress, event: Event, today: date | None = None) -> Plan:
        """The outside calls `handle` needs the results of for this event (see Plan).
        `today` (UTC) says whether the device's time zone is due for a new look."""
        progress, phase = self._arrive(progress, event)
        claim = (phase is Phase.OFFERED and progress.question is Question.OWNER
                 and event.kind is EventKind.YES)
        return Plan(reminder=reminder_dialogue.job_for(progress, phase, event), claim=claim,
                    time_zone=today is not None and time_zone_due(progress, today))

    @staticmethod
    def local(progress: Progress, event: Event, now: datetime) -> tuple[Progress, datetime]:
        """The plan's time zone answer applied, and "now" in the person's zone: every
        date a turn reads (streaks, history, reminder times) is the person's date."""
        progress = with_time_zone(progress, event.time_zone, now.date())
        return progress, now.astimezone(zone_of(progress.time_zone))

    def handle(self, progress: Progress, event: Event, now: datetime) -> Outcome:
        """What the user hears next and where they are afterwards. The results of the
        plan's calls come in `event`; a call with no result is answered as unreachable."""
        progress, phase = self._arrive(progress, event, now)
        turn = Turn(self.book_for(progress), event, now, phase, self.book_for)
        progress, reply = TABLE[phase, event.kind](turn, progress)
        reply = household.greeted(self.book, event, reply)
        if event.progress_unavailable and reply.speech:
            reply = replace(reply, speech=(self.book.say("progress_unavailable"), *reply.speech))
        return progress, reply

    def book_for(self, progress: Progress) -> Phrasebook:
        """The words of the routine this person does: their pace, seated versions of floor
        exercises and substitutes for what they lack, as they told us."""
        if (progress.pace is None and not progress.seated and not progress.missing
                and progress.level is None and progress.kind == FULL):
            return self.book
        routine = routine_for(kind=progress.kind, level=progress.level, pace=progress.pace,
                              seated=progress.seated, missing=progress.missing)
        book = self._books.get(id(routine))
        if book is None or book.routine is not routine:
            book = self._books[id(routine)] = Phrasebook(routine, self.texts)
        return book

    def _arrive(self, progress: Progress, event: Event, now: datetime | None = None
                ) -> tuple[Progress, Phase]:
        """The progress a rule sees, and its phase: a new session starts with nothing said
        and nothing asked, and a stored place today's content no longer has is dropped.
        `now` dates a place that moved on because an exercise's rounds were heard."""
        if event.opens_session or event.kind is EventKind.LAUNCH:
            progress = progress.for_new_session()
        if progress.position is None and progress.kind != FULL:
            progress = replace(progress, kind=FULL)  # a short routine lasts while under way
        book = self.book_for(progress)
        position = _valid(book, progress.position)
        if position is not None and event.reached is not None:
            # Where the last response (a set's rounds) had got to when this request came.
            mark = event.reached.mark
            position = _valid(book, Position(position.exercise, mark.set_index, mark.rep))
        if position != progress.position:  # a Progress is copied only when it changes
            progress = replace(progress, position=position)
        progress = _settled(book, progress, now)
        return progress, phase_of(progress)


@lru_cache(maxsize=4096)
def _valid(book: Phrasebook, position: Position | None) -> Position | None:
    """A place today's content has: an exercise it still has, its set and round within
    the exercise's (content or level may have changed since it was stored). Remembered:
    a routine has a few dozen places, asked about twice a turn."""
    if position is None or book.routine.index_of(position.exercise) is None:
        return None
    sets = book.exercise(position).sets
    set_index = min(position.set_index, len(sets))
    if set_index == len(sets):
        return Position(position.exercise, set_index, 1)
    if position.rep == 0:
        return Position(position.exercise)
    return Position(position.exercise, set_index, min(position.rep, sets[set_index].reps))


def _settled(book: Phrasebook, progress: Progress, now: datetime | None) -> Progress:
    """Once an exercise's last round is over it is done, and the place is the next
    exercise; after the last exercise the finish is what is left, so the place stays.
    The move is dated like any other (the newest place wins when two devices merge)."""
    position = progress.position
    if position is None or not book.is_done(position):
        return progress
    exercises = book.routine.exercises
    index = book.index(position)
    if index + 1 == len(exercises):
        return progress
    done = progress.done if position.exercise in progress.done else (
        *progress.done, position.exercise)
    return replace(progress, position=Position(exercises[index + 1].id), done=done,
                   updated_at=now.isoformat() if now else progress.updated_at)


def coach_for(locale: str) -> Coach:
    """One coach per supported locale per process: content is parsed and compiled once."""
    return _coach(supported_locale(locale))


@cache
def _coach(locale: str) -> Coach:
    return Coach(load_routine(), load_texts(locale))
