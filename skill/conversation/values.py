"""The values the conversation core and its edges exchange, and nothing else.

Kept apart from the rules and the words so the edge (handlers, screens, reminders) and
the core import the same small module, and a new screen field or reminder status is a
change here and where it is used, never in the state machine.

Event and Reply are frozen dataclasses because the edge and the rules copy them with one
field changed (`dataclasses.replace`); the others are NamedTuples, as immutable and
compared by value, because this module is on every cold start and `@dataclass` compiles
six methods per class from source as it is imported (see skill/content/routine_values.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from skill.conversation.speech import Speech
from skill.conversation.timeline import Reached, Timeline


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
    # How people talk mid-exercise ([talk]): a bare "I'm done", safety reports that are not
    # pain, questions answered in place, and what they tell us about themselves.
    SET_DONE = "set_done"
    CRAMP = "cramp"
    DIZZY = "dizzy"
    TIRED = "tired"
    FEEL_FINE = "feel_fine"
    TIME_LEFT = "time_left"
    WHICH_SIDE = "which_side"
    EQUIPMENT = "equipment"
    PURPOSE = "purpose"
    NO_EQUIPMENT = "no_equipment"
    SEATED = "seated"
    SLOWER = "slower"
    FASTER = "faster"
    # A household's own requests ([household]): levels, the short routine, the week.
    EASIER = "easier"
    HARDER = "harder"
    LEVEL = "level"
    SHORT_ROUTINE = "short_routine"
    WEEK = "week"


class Fulfilment(StrEnum):
    """Whether we can serve a request Alexa is routing without our name (CanFulfill)."""

    YES = "YES"
    MAYBE = "MAYBE"
    NO = "NO"


class ReminderAction(StrEnum):
    SET = "set"
    CANCEL = "cancel"
    CHECK = "check"


class ReminderStatus(StrEnum):
    OK = "ok"
    GONE = "gone"  # the user deleted it in the Alexa app
    NO_PERMISSION = "no_permission"
    FORBIDDEN = "forbidden"
    THROTTLED = "throttled"
    UNAVAILABLE = "unavailable"


class ReminderJob(NamedTuple):
    """A Reminders API call the coach needs for a turn."""

    action: ReminderAction
    time: str | None = None  # "HH:MM", the user's local time
    reminder_id: str | None = None


class ReminderResult(NamedTuple):
    """What the edge's Reminders API call did; every failure is a status, never a raise."""

    status: ReminderStatus
    reminder_id: str | None = None
    time: str | None = None


class Plan(NamedTuple):
    """The outside calls a turn needs before the coach can answer it (`Coach.plan`).

    The edge performs them and hands each result back in the Event; a call it could not
    make has no result, and the coach answers that as an unreachable service.
    """

    reminder: ReminderJob | None = None
    # A recognised voice said the account's progress is theirs: move it to their own item.
    claim: bool = False
    # Ask Alexa's settings API for the device's time zone, so "today" is the person's today.
    time_zone: bool = False


@dataclass(frozen=True)
class Event:
    """One request as the coach sees it: what the person asked (`kind` and its slots) and
    what the edge learned for it (the results of the turn's Plan, where a set had got to)."""

    kind: EventKind
    exercise: str | None = None
    spoken: str | None = None
    opens_session: bool = False
    progress_unavailable: bool = False
    time: str | None = None  # "HH:MM" asked for a reminder
    reminder: ReminderResult | None = None  # the result of the Plan's reminder call
    # Where the last response (a set's rounds) had got to when this request came.
    reached: Reached | None = None
    item: str | None = None  # an EQUIPMENT id: "I don't have a band" -> "band"
    # The recognised speaker's person id (greeted by name; never stored by the coach).
    person: str | None = None
    # The result of the Plan's claim: True moved, False could not be moved, None not asked.
    claimed: bool | None = None
    # The result of the Plan's time zone call: a zone name, "" failed, None not asked.
    time_zone: str | None = None


class Card(NamedTuple):
    """Written instructions for the Alexa app, so a user can read what they just heard."""

    title: str
    text: str


class Screen(NamedTuple):
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
    """What the coach answers: the speech, what to say if the person goes quiet, whether
    the session ends, and what the Alexa app and a screen show with it."""

    # Words and pauses; a set's turn also has ticks, chimes and place marks, and is sent
    # as APL for Audio (skill/conversation/timeline.py).
    speech: Timeline
    reprompt: Speech = ()
    end_session: bool = False
    needs_permission: bool = False  # ask the user to allow reminders in the Alexa app
    card: Card | None = None
    screen: Screen | None = None
