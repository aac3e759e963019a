"""The conversation: a small, pure state machine from (Progress, Event) to (Progress, Reply).

Every conversational rule lives here and nowhere else, with no Alexa, Flask or AWS
imports, so each rule is tested with plain values. The words come from the content
files; this module only decides which words, in which order, and what happens next.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from functools import cache

from skill.progress import Position, Progress, Question, is_stale, streak
from skill.reminders import ReminderAction, ReminderJob, ReminderResult, ReminderStatus
from skill.routine import Routine, load_routine
from skill.speech import Say, Speech
from skill.steps import Step, StepBuilder
from skill.texts import Texts, load_texts, supported_locale

# A half-done routine older than this is restarted rather than resumed mid-way.
STALE_AFTER_DAYS = 7
# A declined reminder offer is not repeated for this long.
REMINDER_OFFER_EVERY_DAYS = 7


class EventKind(StrEnum):
    LAUNCH = "launch"
    START = "start"
    NEXT = "next"
    PREVIOUS = "previous"
    SKIP = "skip"
    GO_TO = "go_to"
    REPEAT = "repeat"
    START_OVER = "start_over"
    PAUSE = "pause"
    RESUME = "resume"
    PROGRESS = "progress"
    LIST = "list"
    STREAK = "streak"
    DISCLAIMER = "disclaimer"
    HELP = "help"
    STOP = "stop"
    PAIN = "pain"
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"
    SESSION_ENDED = "session_ended"
    SET_REMINDER = "set_reminder"
    CANCEL_REMINDER = "cancel_reminder"
    REMINDER_STATUS = "reminder_status"


class Fulfilment(StrEnum):
    """Whether we can serve a request Alexa is routing without our name (CanFulfill)."""

    YES = "YES"
    MAYBE = "MAYBE"
    NO = "NO"


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


@dataclass(frozen=True)
class Event:
    kind: EventKind
    exercise: str | None = None
    spoken: str | None = None
    opens_session: bool = False
    progress_unavailable: bool = False
    time: str | None = None  # "HH:MM" asked for a reminder
    reminder: ReminderResult | None = None  # what the Reminders API did for this event


@dataclass(frozen=True)
class Card:
    """Written instructions for the Alexa app, so a user can read what they just heard."""

    title: str
    text: str


@dataclass(frozen=True)
class Screen:
    """What a device with a screen shows during an exercise turn."""

    name: str
    position: str
    progress_percent: int
    step_text: str
    equipment: str
    countdown_seconds: int
    next_label: str
    repeat_label: str


@dataclass(frozen=True)
class Reply:
    speech: Speech
    reprompt: Speech = ()
    end_session: bool = False
    needs_permission: bool = False  # ask the user to allow reminders in the Alexa app
    card: Card | None = None
    screen: Screen | None = None


Outcome = tuple[Progress, Reply]


def can_fulfill(event: Event) -> Fulfilment:
    """A side-effect-free answer: YES for a known exercise, NO for one we don't have."""
    if event.kind is EventKind.GO_TO:
        return Fulfilment.YES if event.exercise else Fulfilment.NO
    return _CAN_FULFILL.get(event.kind, Fulfilment.NO)


class Coach:
    """The routine's rules for one locale; built once per process and shared."""

    def __init__(self, routine: Routine, texts: Texts) -> None:
        self.routine = routine
        self.texts = texts
        builder = StepBuilder(routine, texts)
        self.steps: dict[str, tuple[Step, ...]] = {
            exercise.id: builder.build(index) for index, exercise in enumerate(routine.exercises)
        }
        self.written: dict[str, str] = {
            exercise.id: builder.written(index) for index, exercise in enumerate(routine.exercises)
        }
        self._handlers: dict[EventKind, Callable[[Progress, Event, datetime], Outcome]] = {
            EventKind.LAUNCH: self._launch,
            EventKind.START: self._start,
            EventKind.NEXT: self._next,
            EventKind.PREVIOUS: self._previous,
            EventKind.SKIP: self._skip,
            EventKind.GO_TO: self._go_to,
            EventKind.REPEAT: self._repeat,
            EventKind.START_OVER: self._start_over,
            EventKind.PAUSE: self._pause,
            EventKind.RESUME: self._resume,
            EventKind.PROGRESS: self._progress,
            EventKind.LIST: self._list,
            EventKind.STREAK: self._streak,
            EventKind.DISCLAIMER: self._disclaimer,
            EventKind.HELP: self._help,
            EventKind.STOP: self._stop,
            EventKind.PAIN: self._pain,
            EventKind.YES: self._yes,
            EventKind.NO: self._no,
            EventKind.UNKNOWN: self._unknown,
            EventKind.SESSION_ENDED: self._session_ended,
            EventKind.SET_REMINDER: self._set_reminder,
            EventKind.CANCEL_REMINDER: self._cancel_reminder,
            EventKind.REMINDER_STATUS: self._reminder_status,
        }

    def handle(self, progress: Progress, event: Event, now: datetime) -> Outcome:
        """The one entry point: what the user hears next and where they are afterwards."""
        if event.opens_session:
            progress = progress.for_new_session()
        progress = replace(progress, position=self._valid(progress.position))
        progress, reply = self._handlers[event.kind](progress, event, now)
        if event.progress_unavailable and reply.speech:
            reply = replace(reply, speech=(self._say("progress_unavailable"), *reply.speech))
        return progress, reply

    # -- helpers ---------------------------------------------------------------------

    def _say(self, key: str, **fields: object) -> Say:
        return Say(self.texts.line(key, **fields))

    def _index(self, position: Position) -> int:
        return self.routine.index_of(position.exercise) or 0

    def _name(self, position: Position) -> str:
        return self.routine.exercises[self._index(position)].name

    def _number(self, position: Position) -> str:
        return str(self._index(position) + 1)

    def _first(self) -> Position:
        return Position(self.routine.exercises[0].id)

    def _valid(self, position: Position | None) -> Position | None:
        """A stored position that still exists in today's content, else None."""
        if position is None or self.routine.index_of(position.exercise) is None:
            return None
        last_step = len(self.steps[position.exercise]) - 1
        return replace(position, step=min(max(position.step, 0), last_step))

    def _part(self, position: Position) -> Speech:
        """"Part 2 of 3" once past an exercise's introduction; nothing before that."""
        if not position.step:
            return ()
        parts = len(self.steps[position.exercise])
        return (self._say("progress_part", part=position.step + 1, parts=parts),)

    def _streak_line(self, progress: Progress, now: datetime, on_launch: bool = False) -> Speech:
        """Only worth saying from two days in a row, or a second routine in one day,
        which is what the source recommends (toe walks twice a day)."""
        done_today = progress.history.count(now.date().isoformat())
        if done_today >= (1 if on_launch else 2):
            return (self._say("done_today" if on_launch else "twice_today"),)
        days = streak(progress.history, now.date())
        if days < 2:
            return ()
        key = "streak_launch" if on_launch else "streak_days"
        return (self._say(key, days=self.texts.number(days)),)

    def _enter(
        self, progress: Progress, position: Position, now: datetime, lead: Speech = ()
    ) -> Outcome:
        """Speak a step. Whenever a routine starts in a session, the disclaimer comes first."""
        speech: Speech = ()
        first_time = not progress.heard_disclaimer
        if not progress.briefed:
            speech = (self._say("disclaimer_full" if first_time else "disclaimer_short"),)
        step = self.steps[position.exercise][position.step]
        card, screen = self._written_forms(position, step, with_disclaimer=first_time)
        moved = position != progress.position
        progress = replace(
            progress,
            position=position,
            briefed=True,
            heard_disclaimer=True,
            paused=False,
            finished=False,
            question=None,
            updated_at=now.isoformat() if moved else progress.updated_at,
        )
        reply = Reply(speech + lead + step.speech, step.reprompt, card=card, screen=screen)
        return progress, reply

    def _written_forms(self, position: Position, step: Step, with_disclaimer: bool
                       ) -> tuple[Card, Screen]:
        """The card and screen for an exercise turn; the first ever card carries the
        disclaimer too, so it can be read as well as heard."""
        index = self._index(position)
        exercise = self.routine.exercises[index]
        total = len(self.routine.exercises)
        text = self.written[exercise.id]
        if with_disclaimer:
            text = f"{self.texts.line('disclaimer_full')}\n\n{text}"
        card = Card(self.texts.line("card_title", number=index + 1, total=total,
                                    name=exercise.name.capitalize()), text)
        steps = len(self.steps[exercise.id])
        done_fraction = (index + position.step / steps) / total
        screen = Screen(
            name=exercise.name.capitalize(),
            position=self.texts.line("screen_position", number=index + 1, total=total),
            progress_percent=round(100 * done_fraction),
            step_text=step.display,
            equipment=self.texts.join(list(exercise.equipment))
            or self.texts.line("screen_no_equipment"),
            countdown_seconds=round(step.seconds),
            next_label=self.texts.line("screen_next"),
            repeat_label=self.texts.line("screen_repeat"),
        )
        return card, screen

    def _ask(self, progress: Progress, question: Question, speech: Speech) -> Outcome:
        prompt, reprompt = self._question_prompts(progress, question)
        return replace(progress, question=question), Reply(speech + prompt, reprompt)

    def _question_prompts(self, progress: Progress, question: Question) -> tuple[Speech, Speech]:
        if question is Question.RESUME and progress.position:
            name = self._name(progress.position)
            return (self._say("offer_resume"),), (self._say("offer_resume_reprompt", name=name),)
        if question is Question.RESTART:
            return (self._say("offer_restart"),), (self._say("offer_restart_reprompt"),)
        if question is Question.REMINDER:
            return (self._say("reminder_offer"),), (self._say("reminder_offer_reprompt"),)
        return (self._say("offer_start"),), (self._say("offer_start_reprompt"),)

    def _context(self, progress: Progress, lead: Speech) -> Outcome:
        """`lead`, then the prompt that fits where the user is now; never ends the session."""
        if progress.question:
            return self._ask(progress, progress.question, lead)
        if progress.paused and progress.position:
            reprompt = (self._say("paused_reprompt"),)
            return progress, Reply(lead + reprompt, reprompt)
        if progress.finished:
            prompt = (self._say("finished_prompt"),)
            return progress, Reply(lead + prompt, prompt)
        if progress.position and progress.briefed:
            reprompt = self.steps[progress.position.exercise][progress.position.step].reprompt
            return progress, Reply(lead + reprompt, reprompt)
        if progress.position:
            return self._ask(progress, Question.RESUME, lead)
        return self._ask(progress, Question.START, lead)

    def _answer(self, progress: Progress, event: Event, speech: Speech) -> Outcome:
        """A question asked as the first request of a session ("Alexa, ask foot routine
        how many are left") is answered and the session ends; mid-session we carry on."""
        if event.opens_session:
            return progress, Reply(speech, end_session=True)
        return self._context(progress, speech)

    def _finish(self, progress: Progress, now: datetime) -> Outcome:
        done = [self.routine.exercises[self.routine.index_of(i) or 0].name for i in progress.done]
        if done:
            progress = progress.completed_on(now.date())
        else:  # skipping everything is not a routine done: the streak must not count it
            progress = replace(progress, position=None, done=(), finished=True)
        progress = replace(progress, updated_at=now.isoformat())
        speech: Speech = (
            self._say("finished") if done else self._say("finished_nothing_done"),
            *((self._say("finished_done", done=self.texts.join(done)),) if done else ()),
            *self._streak_line(progress, now),
            self._say("finished_advice"),
        )
        if done and self._may_offer_reminder(progress, now):
            return self._ask(progress, Question.REMINDER, speech)
        return self._context(progress, speech)

    def _may_offer_reminder(self, progress: Progress, now: datetime) -> bool:
        if progress.reminder_id:
            return False
        if progress.reminder_offered_on is None:
            return True
        offered = datetime.fromisoformat(progress.reminder_offered_on).date()
        return (now.date() - offered).days >= REMINDER_OFFER_EVERY_DAYS

    def _advance(self, progress: Progress, position: Position, now: datetime) -> Outcome:
        """Move to the next exercise's start, or finish after the last one."""
        index = self._index(position)
        if index + 1 == len(self.routine.exercises):
            return self._finish(progress, now)
        following = Position(self.routine.exercises[index + 1].id)
        return self._enter(progress, following, now)

    def _begin(self, progress: Progress, now: datetime, lead: Speech = ()) -> Outcome:
        """A fresh routine from the first exercise: the disclaimer is due again."""
        fresh = replace(progress, done=(), briefed=False)
        return self._enter(fresh, self._first(), now, lead)

    # -- events ----------------------------------------------------------------------

    def _launch(self, progress: Progress, event: Event, now: datetime) -> Outcome:
        progress = progress.for_new_session()
        position = progress.position
        lead: Speech = ()
        if position and is_stale(progress.updated_at, now, STALE_AFTER_DAYS):
            position = None
            lead = (self._say("fresh_start"),)
        progress = replace(progress, position=position, done=progress.done if position else ())
        first_time = not progress.heard_disclaimer and not progress.history
        if first_time:
            welcome = (self._say("welcome_first", minutes=self.routine.minutes),)
            return self._ask(progress, Question.START, welcome)
        welcome = (self._say("welcome_back"), *self._streak_line(progress, now, True), *lead)
        if position:
            where = (self._say("where_you_were", number=self._number(position),
                               name=self._name(position)), *self._part(position))
            return self._ask(progress, Question.RESUME, (*welcome, *where))
        return self._ask(progress, Question.START, welcome)

    def _start(self, progress: Progress, event: Event, now: datetime) -> Outcome:
        position = progress.position
        if position is None:
            return self._begin(progress, now)
        if progress.briefed and not progress.paused:
            return self._enter(progress, position, now, (self._say("already_started"),))
        lead = (self._say("picking_up", name=self._name(position)),)
        return self._enter(progress, position, now, lead)

    def _next(self, progress: Progress, event: Event, now: datetime) -> Outcome:
        if progress.question is Question.REMINDER:
            progress = replace(progress, question=None)  # "next" is not a yes to a reminder
        elif progress.question:
            return self._yes(progress, event, now)
        position = progress.position
        if position is None:
            if progress.finished:
                return self._context(progress, (self._say("already_finished"),))
            return self._begin(progress, now)
        if not progress.briefed or progress.paused:
            return self._enter(progress, position, now)
        if position.step + 1 < len(self.steps[position.exercise]):
            return self._enter(progress, replace(position, step=position.step + 1), now)
        done = progress.done if position.exercise in progress.done else (
            *progress.done, position.exercise)
        return self._advance(replace(progress, done=done), position, now)

    def _previous(self, progress: Progress, event: Event, now: datetime) -> Outcome:
        position = progress.position
        if position is None:
            return self._context(progress, (self._say("nothing_to_go_back_to"),))
        index = self._index(position)
        if index == 0:
            return self._context(replace(progress, question=None), (self._say("at_first"),))
        return self._enter(progress, Position(self.routine.exercises[index - 1].id), now)

    def _skip(self, progress: Progress, event: Event, now: datetime) -> Outcome:
        position = progress.position
        if position is None:
            return self._context(progress, (self._say("nothing_to_skip"),))
        lead = (self._say("skipping", name=self._name(position)),)
        progress, reply = self._advance(progress, position, now)
        return progress, replace(reply, speech=lead + reply.speech)

    def _go_to(self, progress: Progress, event: Event, now: datetime) -> Outcome:
        index = self.routine.index_of(event.exercise) if event.exercise else None
        if index is None:
            names = self.texts.join([exercise.name for exercise in self.routine.exercises])
            spoken = event.spoken or self.texts.line("that_one")
            return self._context(progress, (self._say("unknown_exercise", spoken=spoken,
                                                      names=names),))
        return self._enter(progress, Position(self.routine.exercises[index].id), now)

    def _repeat(self, progress: Progress, event: Event, now: datetime) -> Outcome:
        position = progress.position
        if position and not progress.question and not progress.finished:
            return self._enter(progress, position, now)
        return self._context(progress, ())

    def _start_over(self, progress: Progress, event: Event, now: datetime) -> Outcome:
        return self._begin(progress, now, (self._say("starting_over"),))

    def _pause(self, progress: Progress, event: Event, now: datetime) -> Outcome:
        position = progress.position
        if position is None:
            return self._context(progress, (self._say("nothing_to_pause"),))
        reprompt = (self._say("paused_reprompt"),)
        speech = (self._say("paused", name=self._name(position)),)
        return replace(progress, paused=True, question=None), Reply(speech, reprompt)

    def _resume(self, progress: Progress, event: Event, now: datetime) -> Outcome:
        position = progress.position
        if position is None:
            return self._context(progress, (self._say("nothing_to_resume"),))
        lead = (self._say("picking_up", name=self._name(position)),)
        return self._enter(progress, position, now, lead)

    def _progress(self, progress: Progress, event: Event, now: datetime) -> Outcome:
        position = progress.position
        total = len(self.routine.exercises)
        if position is None:
            key = "progress_finished" if progress.finished else "progress_not_started"
            return self._answer(progress, event, (self._say(key, total=total),))
        index = self._index(position)
        left = total - index - 1
        speech = (
            self._say("progress_at", number=index + 1, total=total, name=self._name(position)),
            *self._part(position),
            self._say({0: "progress_left_none", 1: "progress_left_one"}.get(left, "progress_left"),
                      left=left),
        )
        return self._answer(progress, event, speech)

    def _list(self, progress: Progress, event: Event, now: datetime) -> Outcome:
        names = self.texts.join([exercise.name for exercise in self.routine.exercises])
        speech = (self._say("list", total=len(self.routine.exercises),
                            names=names),)
        return self._answer(progress, event, speech)

    def _streak(self, progress: Progress, event: Event, now: datetime) -> Outcome:
        if not progress.history:
            return self._answer(progress, event, (self._say("streak_none"),))
        days = streak(progress.history, now.date())
        speech = (
            self._say("streak_total", times=len(progress.history)),
            self._say("streak_days", days=self.texts.number(days)) if days >= 2
            else self._say("streak_encourage"),
        )
        return self._answer(progress, event, speech)

    def _disclaimer(self, progress: Progress, event: Event, now: datetime) -> Outcome:
        progress = replace(progress, heard_disclaimer=True, briefed=True)
        return self._context(progress, (self._say("disclaimer_full"),))

    def _help(self, progress: Progress, event: Event, now: datetime) -> Outcome:
        position = progress.position
        if progress.question:
            key = "help_question"
        elif progress.paused and position:
            key = "help_paused"
        elif position and progress.briefed:
            key = "help_exercising"
        elif progress.finished:
            key = "help_finished"
        else:
            key = "help_idle"
        name = self._name(position) if position else ""
        return self._context(progress, (self._say(key, name=name),))

    def _stop(self, progress: Progress, event: Event, now: datetime) -> Outcome:
        position = progress.position
        if position:
            speech = (self._say("goodbye_saved", name=self._name(position)),)
        else:
            speech = (self._say("goodbye_done" if progress.finished else "goodbye"),)
        return replace(progress, paused=False, question=None), Reply(speech, end_session=True)

    def _pain(self, progress: Progress, event: Event, now: datetime) -> Outcome:
        """Safety first: stop at once, advise a doctor, and end the session."""
        progress = replace(progress, paused=False, question=None)
        return progress, Reply((self._say("pain"),), end_session=True)

    def _yes(self, progress: Progress, event: Event, now: datetime) -> Outcome:
        position = progress.position
        if progress.question is Question.RESUME and position:
            return self._enter(progress, position, now)
        if progress.question in (Question.START, Question.RESTART):
            return self._begin(replace(progress, question=None), now)
        if progress.question is Question.REMINDER:
            return self._set_reminder(replace(progress, question=None), event, now)
        if position and progress.briefed:
            return self._next(progress, event, now)
        return self._unknown(progress, event, now)

    def _no(self, progress: Progress, event: Event, now: datetime) -> Outcome:
        if progress.question is Question.RESUME:
            return self._ask(progress, Question.RESTART, ())
        if progress.question in (Question.START, Question.RESTART):
            return self._stop(progress, event, now)
        if progress.question is Question.REMINDER:
            declined = replace(progress, question=None, reminder_offered_on=now.date().isoformat())
            return self._context(declined, (self._say("reminder_declined"),))
        return self._context(progress, (self._say("okay"),))

    def _unknown(self, progress: Progress, event: Event, now: datetime) -> Outcome:
        position = progress.position
        key = "fallback_exercising" if position and progress.briefed else "fallback"
        return self._context(progress, (self._say(key),))

    def reminder_job(self, progress: Progress, event: Event) -> ReminderJob | None:
        """The Reminders API call this event needs, if any; the edge performs it and
        hands the result back in `event.reminder`."""
        current = progress.reminder_id
        if event.kind is EventKind.SET_REMINDER or (
            event.kind is EventKind.YES and progress.question is Question.REMINDER
        ):
            return ReminderJob(ReminderAction.SET, event.time, current)
        if event.kind is EventKind.CANCEL_REMINDER and current:
            return ReminderJob(ReminderAction.CANCEL, reminder_id=current)
        if event.kind is EventKind.REMINDER_STATUS and current:
            return ReminderJob(ReminderAction.CHECK, reminder_id=current)
        return None

    def _clock(self, time: str) -> str:
        hour, minute = (int(part) for part in time.split(":"))
        period = self.texts.line("am" if hour < 12 else "pm")
        key = "clock_on_the_hour" if minute == 0 else "clock_time"
        return self.texts.line(key, hour=(hour % 12) or 12, minutes=f"{minute:02d}", period=period)

    def _reminder_trouble(self, progress: Progress, event: Event, result: ReminderResult) -> Outcome:
        if result.status is ReminderStatus.NO_PERMISSION:
            progress, reply = self._answer(progress, event, (self._say("reminder_permission"),))
            return progress, replace(reply, needs_permission=True)
        return self._answer(progress, event, (self._say(f"reminder_{result.status.value}"),))

    def _set_reminder(self, progress: Progress, event: Event, now: datetime) -> Outcome:
        result = event.reminder or ReminderResult(ReminderStatus.UNAVAILABLE)
        progress = replace(progress, question=None)
        if result.status is not ReminderStatus.OK or not result.time:
            return self._reminder_trouble(progress, event, result)
        progress = replace(progress, reminder_id=result.reminder_id, reminder_time=result.time)
        return self._answer(progress, event, (self._say("reminder_set",
                                                        time=self._clock(result.time)),))

    def _cancel_reminder(self, progress: Progress, event: Event, now: datetime) -> Outcome:
        if not progress.reminder_id:
            return self._answer(progress, event, (self._say("reminder_none"),))
        result = event.reminder or ReminderResult(ReminderStatus.UNAVAILABLE)
        if result.status is not ReminderStatus.OK:
            return self._reminder_trouble(progress, event, result)
        progress = replace(progress, reminder_id=None, reminder_time=None)
        return self._answer(progress, event, (self._say("reminder_cancelled"),))

    def _reminder_status(self, progress: Progress, event: Event, now: datetime) -> Outcome:
        result = event.reminder
        if not progress.reminder_id or (result and result.status is ReminderStatus.GONE):
            progress = replace(progress, reminder_id=None, reminder_time=None)
            return self._answer(progress, event, (self._say("reminder_none"),))
        if result is None or result.status is not ReminderStatus.OK:
            return self._reminder_trouble(progress, event,
                                          result or ReminderResult(ReminderStatus.UNAVAILABLE))
        time = self._clock(progress.reminder_time or "00:00")
        return self._answer(progress, event, (self._say("reminder_at", time=time),))

    def _session_ended(self, progress: Progress, event: Event, now: datetime) -> Outcome:
        return replace(progress, question=None, paused=False), Reply((), end_session=True)


def coach_for(locale: str) -> Coach:
    """One coach per supported locale per process: content is parsed and compiled once."""
    return _coach(supported_locale(locale))


@cache
def _coach(locale: str) -> Coach:
    return Coach(load_routine(), load_texts(locale))
