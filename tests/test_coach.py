"""The coach as a pure state machine: every state against every event (alexafsm-style)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import product
from xml.etree import ElementTree

import pytest

from skill.conversation.coach import coach_for
from skill.conversation.phases import phase_of
from skill.conversation.progress import Position, Progress, Question, progress_from_dict
from skill.conversation.speech import MAX_SPEECH_CHARS, Say, to_ssml
from skill.conversation.timeline import MAX_AUDIO_SECONDS, Mark, as_speech, to_apla, total_seconds
from skill.conversation.values import Event, EventKind, Reply
from tests.conversation import exists, places

COACH = coach_for("en-US")
NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
ALWAYS_AVAILABLE = {EventKind.STOP, EventKind.HELP, EventKind.PAIN, EventKind.UNKNOWN}


def states() -> list[Progress]:
    """Representative states: new, returning, representative places in every exercise,
    paused, finished, and each open question."""
    found = [Progress(), Progress(heard_disclaimer=True, history=("2026-11-23",))]
    for position in places(COACH.routine):
        found.append(Progress(position=position, briefed=True, heard_disclaimer=True,
                              updated_at=NOW.isoformat()))
        found.append(Progress(position=position, heard_disclaimer=True))
    found.append(replace(found[3], paused=True))
    found.append(Progress(finished=True, history=("2026-11-24",), briefed=True))
    found.extend(replace(found[3], question=question) for question in Question)
    found.append(Progress(question=Question.START))
    found.append(Progress(position=Position("no_such_exercise", 9)))
    return found


def events() -> list[Event]:
    plain = [Event(kind) for kind in EventKind]
    return [
        *plain,
        *(replace(event, opens_session=True) for event in plain),
        Event(EventKind.GO_TO, exercise="ankle_circles"),
        Event(EventKind.GO_TO, exercise=None, spoken="yoga"),
        Event(EventKind.NEXT, progress_unavailable=True),
    ]


def _case_id(number: int, progress: Progress, event: Event) -> str:
    """"s12-exercising-toe_walking.2-next-opens": the state's number and what it is, then
    the event, so a failure names the case (pytest's default id would be the same for all)."""
    position = progress.position
    where = f"{position.exercise}.{position.set_index}.{position.rep}" if position else ""
    state = "-".join(part for part in (f"s{number}", phase_of(progress), where,
                                       progress.question or "") if part)
    flags = [event.kind, event.exercise or event.spoken or "",
             "opens" if event.opens_session else "", "unavailable" if event.progress_unavailable
             else ""]
    return f"{state}-{'-'.join(part for part in flags if part)}"


CASES = list(product(states(), events()))
PARAMS = [pytest.param(progress, event, id=_case_id(number, progress, event))
          for number, progress in enumerate(states()) for event in events()]


def check_reply(reply: Reply, event: Event) -> None:
    if event.kind is not EventKind.SESSION_ENDED:
        assert reply.speech, "every answer says something"
    if not reply.end_session:
        assert reply.reprompt, "an open session always has a reprompt"
    plain = as_speech(reply.speech)
    if plain is None:  # a set's rounds, sent as APL for Audio
        assert to_apla(reply.speech)["document"]["mainTemplate"]["items"]
    for speech in (plain or (), reply.reprompt):
        ssml = to_ssml(speech)
        ElementTree.fromstring(ssml)
        assert len(ssml) <= MAX_SPEECH_CHARS


@pytest.mark.parametrize("progress,event", PARAMS)
def test_every_state_answers_every_event(progress: Progress, event: Event) -> None:
    new, reply = COACH.handle(progress, event, NOW)
    check_reply(reply, event)
    assert new.position is None or exists(COACH.routine, new.position), "only real places"
    session = new.session()
    assert progress_from_dict(session).session() == session, "the next turn gets it back"
    if event.kind in (EventKind.STOP, EventKind.PAIN):
        assert reply.end_session
        kept = progress.position if progress.position and exists(
            COACH.routine, progress.position) else None
        assert new.position == kept, "stopping never loses (or invents) the user's place"
    if event.kind in ALWAYS_AVAILABLE - {EventKind.STOP, EventKind.PAIN}:
        assert not reply.end_session


def test_pain_always_mentions_a_doctor() -> None:
    for progress in states():
        _, reply = COACH.handle(progress, Event(EventKind.PAIN), NOW)
        assert "doctor" in " ".join(s.text for s in reply.speech if isinstance(s, Say))


def test_disclaimer_comes_before_any_exercise_turn_in_a_session() -> None:
    back = Say(COACH.texts.line("back_in_position"))
    for progress, event in CASES:
        if progress.briefed and not event.opens_session:
            continue
        _, reply = COACH.handle(progress, event, NOW)
        firsts = [i for i, segment in enumerate(reply.speech) if isinstance(segment, Mark)
                  or segment == back or isinstance(segment, Say)
                  and segment.text.startswith("Exercise ")]
        if firsts:
            said = " ".join(s.text for s in reply.speech[: firsts[0]] if isinstance(s, Say))
            assert "doctor" in said, (progress, event)


def test_no_set_turn_runs_longer_than_the_content_allows_from_any_round() -> None:
    """From any round (a resumed one too) a set's turn stays within max_turn_seconds, so
    a lead-in still leaves it under Alexa's 240 s."""
    limit = COACH.routine.max_turn_seconds
    assert limit < MAX_AUDIO_SECONDS
    for exercise in COACH.routine.exercises:
        for set_index, exercise_set in enumerate(exercise.sets):
            for rep in range(1, exercise_set.reps + 1):
                step = COACH.book.play(Position(exercise.id, set_index, rep))
                assert total_seconds(step.speech) <= limit, (exercise.id, set_index, rep)


def test_a_stale_routine_starts_fresh() -> None:
    old = Progress(position=Position("ankle_circles", 1, 3), heard_disclaimer=True,
                   updated_at=(NOW - timedelta(days=8)).isoformat())
    new, reply = COACH.handle(old, Event(EventKind.LAUNCH), NOW)
    assert new.position is None
    assert "start fresh" in " ".join(s.text for s in reply.speech if isinstance(s, Say))


def test_streak_is_said_on_completion_when_worth_saying() -> None:
    progress = Progress(position=Position("toe_pencil_pickups", 2, 1), briefed=True,
                        heard_disclaimer=True,
                        # Most of the routine done, so it counts (the content's streak rule).
                        done=("toe_presses", "toe_walking", "ankle_circles", "resisted_flexion"),
                        history=("2026-11-22", "2026-11-23"))
    new, reply = COACH.handle(progress, Event(EventKind.NEXT), NOW)
    said = " ".join(s.text for s in reply.speech if isinstance(s, Say))
    assert "three days in a row" in said
    assert new.history[-1] == "2026-11-24" and new.position is None


@pytest.mark.parametrize(
    ("zone", "checked", "due"),
    [(None, None, True), ("Europe/Paris", "2026-03-01", False),
     ("Europe/Paris", "2026-01-01", True), ("", None, False)],
    ids=["new-user", "known-this-month", "known-long-ago", "failed-this-session"],
)
def test_the_coach_plans_the_time_zone_call_only_when_it_is_due(
        zone: str | None, checked: str | None, due: bool) -> None:
    """The edge asks Alexa's settings API only when the coach's plan names the call."""
    coach = coach_for("en-US")
    progress = Progress(time_zone=zone, time_zone_checked_on=checked)
    today = datetime(2026, 3, 2, tzinfo=UTC).date()
    assert coach.plan(progress, Event(EventKind.LAUNCH, opens_session=True), today).time_zone is due


def test_the_time_zone_answer_sets_the_persons_today() -> None:
    coach = coach_for("en-US")
    late = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
    event = Event(EventKind.LAUNCH, time_zone="Asia/Tokyo")
    progress, local = coach.local(Progress(), event, late)
    assert (progress.time_zone, local.date().isoformat()) == ("Asia/Tokyo", "2026-03-03")
    kept, _ = coach.local(progress, Event(EventKind.LAUNCH, time_zone=""), late)
    assert kept.time_zone == "Asia/Tokyo"
