"""The declared conversation, validated in the spirit of allenai/alexafsm's validate().

Walks skill/conversation/machine.py's table: every phase answers stop, help, pain, "didn't
catch that" and the end of a session; every phase is reachable from a launch and can be
left; every intent of every locale's model lands on an event some phase really handles;
and no rule, in any phase and locale, leaves a session open without a reprompt.
"""

from __future__ import annotations

import json
from collections import deque
from datetime import UTC, datetime
from functools import cache
from itertools import product
from pathlib import Path
from xml.etree import ElementTree

import pytest

from skill.alexa.handlers import INTENT_EVENTS
from skill.content.texts import available_locales
from skill.conversation import rules
from skill.conversation.coach import coach_for
from skill.conversation.machine import TABLE
from skill.conversation.phases import Phase, phase_of
from skill.conversation.progress import Position, Progress, progress_from_dict
from skill.conversation.speech import MAX_SPEECH_CHARS, Say, to_ssml
from skill.conversation.timeline import as_speech, to_apla
from skill.conversation.values import Event, EventKind, ReminderResult, ReminderStatus

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
COACH = coach_for("en-US")
LAST = COACH.routine.exercises[-1].id
# Every round of the last exercise over: "next" is the finish.
LAST_DONE = Position(LAST, len(COACH.routine.exercises[-1].sets), 1)
MODELS = sorted((Path(__file__).resolve().parents[1] / "interaction_model").glob("*.json"))
# Every phase must answer these (safety, help, the way out, Alexa closing the session).
ENDING = {EventKind.STOP, EventKind.PAIN, EventKind.DIZZY, EventKind.SESSION_ENDED}
# Safety stops that must always send the person to a doctor.
DOCTOR = {EventKind.PAIN, EventKind.DIZZY}
STAYING = {EventKind.HELP, EventKind.UNKNOWN}
# Enough to visit every (phase, place, question) once; a table change cannot loop us.
MAX_STATES = 5000
# States per phase each phase x event x locale case runs: spread over all that were seen.
SAMPLES_PER_CASE = 32


def variants(kind: EventKind) -> list[Event]:
    """The event as a device sends it mid-session and as a session's first request, plus
    the slot values and API results that change what a rule does."""
    found = [Event(kind), Event(kind, opens_session=True)]
    if kind is EventKind.GO_TO:
        found += [Event(kind, exercise=LAST), Event(kind, spoken="yoga")]
    if kind is EventKind.NO_EQUIPMENT:
        found += [Event(kind, item="band"), Event(kind, item="pencil")]
    if kind in (EventKind.SET_REMINDER, EventKind.CANCEL_REMINDER,
                EventKind.REMINDER_STATUS, EventKind.YES):
        found += [Event(kind, time="08:00", reminder=ReminderResult(status, "r1", "08:00"))
                  for status in (ReminderStatus.OK, ReminderStatus.NO_PERMISSION)]
    return found


def _key(progress: Progress) -> tuple[object, ...]:
    """States that no rule tells apart by more than their history count as one."""
    return (phase_of(progress), progress.position, progress.question, progress.briefed,
            progress.heard_disclaimer, bool(progress.done), bool(progress.reminder_id))


@cache
def explore() -> tuple[dict[Phase, list[Progress]], dict[Phase, set[Phase]]]:
    """Breadth-first from the start of a session (a new user, and a returning one with a
    saved place and yesterday's routine), through every event, and into the next session
    whenever one ends: the states seen in each phase, and where each phase led without
    ending the session."""
    queue: deque[Progress] = deque([
        Progress(),
        Progress(position=Position(LAST, 1, 3), heard_disclaimer=True, updated_at=NOW.isoformat(),
                 history=("2026-11-23",)),
    ])
    seen: dict[tuple[object, ...], Progress] = {}
    led: dict[Phase, set[Phase]] = {phase: set() for phase in Phase}
    while queue and len(seen) < MAX_STATES:
        progress = queue.popleft()
        if _key(progress) in seen:
            continue
        seen[_key(progress)] = progress
        # Nothing is under way at the start of a session: its first request opens it.
        opening = phase_of(progress) is Phase.IDLE
        for kind in EventKind:
            for event in variants(kind):
                if event.opens_session != opening:
                    continue
                new, reply = COACH.handle(progress, event, NOW)
                if reply.end_session:
                    queue.append(progress_from_dict(new.stored()))
                else:
                    led[phase_of(progress)].add(phase_of(new))
                    queue.append(new)
    samples: dict[Phase, list[Progress]] = {phase: [] for phase in Phase}
    for progress in seen.values():
        samples[phase_of(progress)].append(progress)
    return samples, led


def said(speech: tuple[object, ...]) -> str:
    return " ".join(segment.text for segment in speech if isinstance(segment, Say))


CASES = [
    pytest.param(phase, kind, locale, id=f"{phase}-{kind.replace('_', '-')}-{locale}")
    for phase, kind, locale in product(Phase, EventKind, available_locales())
]


@pytest.mark.parametrize("phase,kind,locale", CASES)
def test_every_rule_answers_in_every_phase_and_locale(phase: Phase, kind: EventKind,
                                                      locale: str) -> None:
    seen = explore()[0][phase]
    assert seen, f"no {phase} state was reached from a launch"
    samples = seen[::-(-len(seen) // SAMPLES_PER_CASE)]
    coach = coach_for(locale)
    for progress, event in product(samples, variants(kind)):
        new, reply = coach.handle(progress, event, NOW)
        where = f"{phase} {progress.position} {progress.question}: {event}"
        if kind is not EventKind.SESSION_ENDED:
            assert reply.speech, f"said nothing in {where}"
        if not reply.end_session:
            assert reply.reprompt, f"open session without a reprompt in {where}"
            assert phase_of(new) is not Phase.IDLE, f"left idle with nothing to answer: {where}"
        if kind in ENDING:
            assert reply.end_session, where
            assert new.position == progress.position, f"the place was not kept: {where}"
        if kind in STAYING:
            assert not reply.end_session, where
        if kind in DOCTOR:
            assert "doctor" in said(reply.speech), where
        plain = as_speech(reply.speech)
        if plain is None:  # a set's rounds, sent as APL for Audio
            assert to_apla(reply.speech)["document"]["mainTemplate"]["items"], where
        for speech in (plain or (), reply.reprompt):
            ssml = to_ssml(speech)
            ElementTree.fromstring(ssml)
            assert len(ssml) <= MAX_SPEECH_CHARS


def test_every_phase_is_reachable_from_a_launch() -> None:
    samples, _ = explore()
    assert [phase for phase in Phase if not samples[phase]] == []


@pytest.mark.parametrize("phase", list(Phase), ids=str)
def test_every_phase_can_be_left_without_ending_the_session(phase: Phase) -> None:
    _, led = explore()
    assert led[phase] - {phase}, f"nothing said in {phase} leads anywhere else"


@pytest.mark.parametrize("model", MODELS, ids=lambda path: path.stem)
def test_every_model_intent_lands_on_an_event_some_phase_handles(model: Path) -> None:
    """Only Amazon's FallbackIntent means "not understood"; every other intent must do more
    than that in some phase (none is parked on UNKNOWN until a rule exists)."""
    language_model = json.loads(model.read_text(encoding="utf-8"))["interactionModel"]
    for intent in language_model["languageModel"]["intents"]:
        kind = INTENT_EVENTS.get(intent["name"])
        assert kind is not None, f"{model.name}: {intent['name']} maps to no event"
        handled = {TABLE[phase, kind] for phase in Phase} - {rules.not_understood}
        if intent["name"] == "AMAZON.FallbackIntent":
            assert kind is EventKind.UNKNOWN
        else:
            assert handled, f"{model.name}: {intent['name']} is only ever not understood"


def test_a_planned_call_without_a_result_is_answered_as_unreachable() -> None:
    """The edge may run out of time for a call the coach planned: the turn still answers."""
    progress = Progress(reminder_id="r1", reminder_time="07:30")
    event = Event(EventKind.CANCEL_REMINDER)
    assert COACH.plan(progress, event).reminder is not None
    kept, reply = COACH.handle(progress, event, NOW)
    assert "couldn't reach the reminder service" in said(reply.speech)
    assert kept.reminder_id == "r1"
    assert COACH.plan(progress, Event(EventKind.NEXT)).reminder is None


ALL = tuple(exercise.id for exercise in COACH.routine.exercises)


def at_the_end(done: tuple[str, ...], **fields: object) -> Progress:
    """The last exercise's rounds are over; "next" finishes the routine."""
    return Progress(position=LAST_DONE, briefed=True, heard_disclaimer=True, done=done,
                    **fields)


def test_yes_to_a_reminder_offer_plans_the_call_only_while_it_is_open() -> None:
    finished, _ = COACH.handle(at_the_end(ALL), Event(EventKind.NEXT), NOW)
    assert phase_of(finished) is Phase.OFFERED
    assert COACH.plan(finished, Event(EventKind.YES)).reminder is not None
    assert COACH.plan(finished, Event(EventKind.YES, opens_session=True)).reminder is None
    declined, _ = COACH.handle(finished, Event(EventKind.NO), NOW)
    assert COACH.plan(declined, Event(EventKind.YES)).reminder is None


def test_an_unreadable_offer_date_still_finishes_the_routine() -> None:
    progress = at_the_end(ALL, reminder_offered_on="last tuesday")
    new, reply = COACH.handle(progress, Event(EventKind.NEXT), NOW)
    assert new.history[-1] == NOW.date().isoformat()
    assert "remind you every day" in said(reply.speech)


def test_the_streak_counts_a_routine_only_when_most_of_it_was_done() -> None:
    """A stored id from an older routine is not "toe presses" and counts for nothing; one
    exercise done (after a go-to) is the end of the routine, not one finished, and no
    reminder is offered for it; most of the routine done is a routine finished."""
    needed = COACH.routine.streak.needed(len(ALL))
    new, reply = COACH.handle(at_the_end(("retired_exercise",)), Event(EventKind.NEXT), NOW)
    assert COACH.texts.line("finished_nothing_done") in said(reply.speech)
    assert new.history == ()
    new, reply = COACH.handle(at_the_end(("retired_exercise", LAST)), Event(EventKind.NEXT), NOW)
    only_last = COACH.texts.line("finished_done", done=COACH.routine.exercises[-1].name)
    assert only_last in said(reply.speech)
    assert "won't count toward your streak" in said(reply.speech)
    assert "Well done" not in said(reply.speech) and "remind you" not in said(reply.speech)
    assert new.history == ()
    most = (*ALL[len(ALL) - needed:], "retired_exercise")
    new, reply = COACH.handle(at_the_end(most), Event(EventKind.NEXT), NOW)
    assert "Well done" in said(reply.speech)
    assert new.history == (NOW.date().isoformat(),)
    fewer = ALL[len(ALL) - needed + 1:]
    new, _ = COACH.handle(at_the_end(fewer), Event(EventKind.NEXT), NOW)
    assert new.history == ()
