"""The daily-reminder dialogue: when to offer one, which API call a turn needs, and what
to make of the result. The call itself is the edge's (skill/alexa/reminders.py)."""

from __future__ import annotations

from datetime import date

from skill.conversation.frozen import replace
from skill.conversation.phases import Phase
from skill.conversation.progress import Progress, Question
from skill.conversation.turn import Outcome, Turn, answer, tell
from skill.conversation.values import (
    Event,
    EventKind,
    ReminderAction,
    ReminderJob,
    ReminderResult,
    ReminderStatus,
)

# A declined reminder offer is not repeated for this long.
REMINDER_OFFER_EVERY_DAYS = 7
# What the coach assumes when the edge has no result for a call it planned.
UNREACHED = ReminderResult(ReminderStatus.UNAVAILABLE)


def job_for(progress: Progress, phase: Phase, event: Event) -> ReminderJob | None:
    """The Reminders API call this event needs, if any (see values.Plan)."""
    current = progress.reminder_id
    accepting = (event.kind is EventKind.YES and phase is Phase.OFFERED
                 and progress.question is Question.REMINDER)
    if event.kind is EventKind.SET_REMINDER or accepting:
        return ReminderJob(ReminderAction.SET, event.time, current)
    if event.kind is EventKind.CANCEL_REMINDER and current:
        return ReminderJob(ReminderAction.CANCEL, reminder_id=current)
    if event.kind is EventKind.REMINDER_STATUS and current:
        return ReminderJob(ReminderAction.CHECK, reminder_id=current)
    return None


def may_offer(progress: Progress, today: date) -> bool:
    """Offer after a finished routine unless one is set or was declined this week; a date
    we cannot read counts as never declined, so it is rewritten by the next answer."""
    if progress.reminder_id:
        return False
    try:
        offered = date.fromisoformat((progress.reminder_offered_on or "")[:10])
    except ValueError:
        return True
    return (today - offered).days >= REMINDER_OFFER_EVERY_DAYS


def decline(turn: Turn, progress: Progress) -> Outcome:
    declined = replace(progress, question=None,
                       reminder_offered_on=turn.now.date().isoformat())
    return tell(turn, declined, "reminder_declined")


def _trouble(turn: Turn, progress: Progress, result: ReminderResult) -> Outcome:
    if result.status is ReminderStatus.NO_PERMISSION:
        progress, reply = answer(turn, progress, (turn.book.say("reminder_permission"),))
        return progress, replace(reply, needs_permission=True)
    return answer(turn, progress, (turn.book.say(f"reminder_{result.status.value}"),))


def set_reminder(turn: Turn, progress: Progress) -> Outcome:
    result = turn.event.reminder or UNREACHED
    progress = replace(progress, question=None)
    if result.status is not ReminderStatus.OK or not result.time:
        return _trouble(turn, progress, result)
    progress = replace(progress, reminder_id=result.reminder_id, reminder_time=result.time)
    return answer(turn, progress, (turn.book.say("reminder_set",
                                                 time=turn.book.clock(result.time)),))


def cancel_reminder(turn: Turn, progress: Progress) -> Outcome:
    if not progress.reminder_id:
        return answer(turn, progress, (turn.book.say("reminder_none"),))
    result = turn.event.reminder or UNREACHED
    if result.status is not ReminderStatus.OK:
        return _trouble(turn, progress, result)
    progress = replace(progress, reminder_id=None, reminder_time=None)
    return answer(turn, progress, (turn.book.say("reminder_cancelled"),))


def reminder_status(turn: Turn, progress: Progress) -> Outcome:
    result = turn.event.reminder
    if not progress.reminder_id or (result and result.status is ReminderStatus.GONE):
        progress = replace(progress, reminder_id=None, reminder_time=None)
        return answer(turn, progress, (turn.book.say("reminder_none"),))
    if result is None or result.status is not ReminderStatus.OK:
        return _trouble(turn, progress, result or UNREACHED)
    time = turn.book.clock(progress.reminder_time or "00:00")
    return answer(turn, progress, (turn.book.say("reminder_at", time=time),))
