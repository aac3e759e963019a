"""How people really talk mid-exercise, through the Lambda handler on a simulated Echo.

Each question is answered and the person is back exactly where they were; safety reports
are told apart (pain stops and is asked about next time, a cramp pauses, dizziness ends);
what people tell us about themselves is remembered across sessions; the streak is honest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from skill import lambda_function
from skill.content.routine import load_content, load_routine
from skill.content.texts import load_texts
from skill.conversation.progress import Progress, progress_from_dict
from skill.storage.store import MemoryStore
from skill.tools.envelopes import slot
from tests.conversation import Heard
from tests.echo import Echo

ROUTINE = load_routine()
SAFETY = ROUTINE.safety
TEXTS = load_texts("en-US")
BAND = next(item for item in ROUTINE.items() if item.id == "band")
FLEXION = next(exercise for exercise in ROUTINE.exercises if exercise.uses_floor)
# Enough "ready"s for the whole routine many times over; a loop here cannot run away.
MAX_TURNS = 60


@pytest.fixture
def echo(use_store: Callable[[object], None], store: MemoryStore) -> Callable[[], Echo]:
    """A new Echo for the same user and store (a second device, or a test's twin)."""
    use_store(store)
    return lambda: Echo(lambda_function.handler)


def progress(echo: Echo) -> Progress:
    return progress_from_dict(echo.device.attributes.get("progress"))


def place(echo: Echo) -> tuple[Any, ...]:
    """What "back where they were" means: the same place, the same open question."""
    found = progress(echo)
    return found.position, found.question, found.paused, found.finished


def started(echo: Echo) -> Echo:
    """A new user who said yes to "would you like to start?"."""
    echo.open()
    echo.say("AMAZON.YesIntent")
    return echo


def at(echo: Echo, exercise: str) -> Echo:
    """At an exercise's introduction ("say ready when you're in position")."""
    started(echo).say("GoToExerciseIntent", exercise=exercise)
    return echo


# Seconds into ankle circles' rounds (one response for all four sets) where a question
# cuts in: well inside the first set, left foot.
MID_SET_SECOND = 20


def mid_set(echo: Echo) -> Echo:
    """Ankle circles' rounds are playing after "ready" (the person is in the middle)."""
    at(echo, "ankle circles").say("NextExerciseIntent")
    return echo


def barge_in(echo: Echo, intent: str, **slots: str) -> Heard:
    """Said `MID_SET_SECOND` into the rounds, the way people ask mid-set."""
    return echo.barge_in(MID_SET_SECOND, intent, **slots)


def missing(echo: Echo, spoken: str, value_id: str) -> Heard:
    return echo._send(echo.device.intent(  # a slot resolved the way Alexa resolves it
        "NoEquipmentIntent", {"item": slot("item", spoken, value_id)}))


def finish_from_here(echo: Echo) -> Heard:
    """Say "ready" until the routine is over."""
    for _ in range(MAX_TURNS):
        heard = echo.say("NextExerciseIntent")
        if progress(echo).finished:
            return heard
    raise AssertionError("the routine never finished")


# -- questions mid-set: answered, then back exactly where they were -----------------------

QUESTIONS = [
    ("SideQuestionIntent", "foot"),
    ("EquipmentQuestionIntent", "for ankle circles, you'll need a sturdy chair"),
    ("TimeLeftIntent", "minutes to go"),
    ("PurposeIntent", "loose, mobile ankles"),
]


@pytest.mark.parametrize(("intent", "answer"), QUESTIONS, ids=[q[0] for q in QUESTIONS])
def test_a_question_mid_set_is_answered_and_the_set_goes_on_from_the_same_place(
        echo: Callable[[], Echo], intent: str, answer: str) -> None:
    asking = mid_set(echo())
    heard = barge_in(asking, intent).hears(answer)
    assert not heard.ended and "pick up there" not in heard.text
    reached = place(asking)
    position = reached[0]
    assert position.exercise == "ankle_circles" and position.rep > 1
    # The answer ends with the prompt of that place, and nothing moved.
    assert heard.reprompt and heard.text.endswith(heard.reprompt)
    asking.say("PurposeIntent")
    assert place(asking) == reached
    # "ready" picks up the set at the round the question cut into.
    done = TEXTS.number(position.rep - 1)
    asking.say("NextExerciseIntent").hears(f"that's {done} of ten done")


def test_which_foot_names_the_side_of_the_set_at_hand(echo: Callable[[], Echo]) -> None:
    alexa = at(echo(), "ankle circles")
    alexa.say("SideQuestionIntent").hears("your left foot")
    at(echo(), "toe presses").say("SideQuestionIntent").hears("both feet")


def test_time_left_shrinks_as_the_routine_goes_on(echo: Callable[[], Echo]) -> None:
    def minutes(heard: Heard) -> int:
        words = heard.text.lower().split("minutes to go")[0].split()
        return int(words[-1])

    first = at(echo(), "toe presses").say("TimeLeftIntent")
    later = at(echo(), "toe pencil pickups").say("TimeLeftIntent")
    assert minutes(first) > minutes(later) >= 1
    assert minutes(first) <= ROUTINE.minutes


def test_on_launch_a_returning_user_hears_what_is_left_to_have_ready(
        echo: Callable[[], Echo]) -> None:
    alexa = at(echo(), "resisted flexion")
    alexa.say("AMAZON.StopIntent")
    heard = echo().open().hears("for what's left today, you'll need", "exercise band",
                                "pencil")
    assert "sturdy chair" not in heard.text  # the chair exercises are behind them


def test_an_answer_at_a_question_keeps_the_question_without_a_dangling_there(
        echo: Callable[[], Echo]) -> None:
    alexa = at(echo(), "ankle circles")
    alexa.say("AMAZON.StopIntent")
    alexa = echo()
    alexa.open().hears("shall we pick up there?")
    before = place(alexa)
    for intent in ("ListExercisesIntent", "DisclaimerIntent", "ProgressIntent",
                   "EquipmentQuestionIntent"):
        heard = alexa.say(intent)
        assert "pick up there" not in heard.text, heard.text
        heard.hears("pick up at ankle circles")
        assert place(alexa) == before


# -- ending and going on, the way people say it --------------------------------------------

def test_im_done_mid_set_goes_on_but_at_the_welcome_back_question_ends(
        echo: Callable[[], Echo]) -> None:
    done, ready = mid_set(echo()), mid_set(echo())
    assert barge_in(done, "SetDoneIntent").text == barge_in(ready, "NextExerciseIntent").text
    done.say("AMAZON.StopIntent")
    alexa = echo()
    alexa.open().hears("shall we pick up there?")
    heard = alexa.say("SetDoneIntent").hears("saved your place")
    assert heard.ended


@pytest.mark.parametrize("at_a_question", [True, False], ids=["at-a-question", "mid-exercise"])
def test_enough_for_today_ends_politely_with_the_place_saved(
        echo: Callable[[], Echo], at_a_question: bool) -> None:
    alexa = mid_set(echo())
    if at_a_question:
        barge_in(alexa, "AMAZON.StopIntent")
        alexa = echo()
        alexa.open().hears("shall we pick up there?")
        heard = alexa.say("AMAZON.StopIntent")
    else:
        heard = barge_in(alexa, "AMAZON.StopIntent")
    assert heard.hears("saved your place", "ankle circles").ended
    echo().open().hears("ankle circles", "round")


def test_continue_heard_as_resume_mid_set_means_ready(echo: Callable[[], Echo]) -> None:
    resumed, ready = mid_set(echo()), mid_set(echo())
    assert (barge_in(resumed, "AMAZON.ResumeIntent").text
            == barge_in(ready, "NextExerciseIntent").text)


def test_tired_takes_a_break_with_the_place_kept(echo: Callable[[], Echo]) -> None:
    alexa = mid_set(echo())
    barge_in(alexa, "TiredIntent").hears("take a break", "ask foot routine to resume")
    echo().open().hears("ankle circles", "round")


# -- the fallback names what fits where the user is ---------------------------------------

def test_the_fallback_names_what_fits_each_phase(echo: Callable[[], Echo]) -> None:
    new = echo()
    new.open()
    new.say("AMAZON.FallbackIntent").hears("didn't catch that", "say yes to begin")
    alexa = mid_set(echo())
    heard = barge_in(alexa, "AMAZON.FallbackIntent").hears("ready", "repeat", "pause")
    assert "what exercises" not in heard.text
    alexa.say("AMAZON.StopIntent")
    back = echo()
    back.open()
    back.say("AMAZON.FallbackIntent").hears("didn't catch that", "pick up at ankle circles")
    finished = at(echo(), "toe pencil pickups")
    finish_from_here(finished)
    finished.say("AMAZON.NoIntent")  # no reminder, thanks
    finished.say("AMAZON.FallbackIntent").hears("start over")


def test_an_unknown_exercise_gets_the_list(echo: Callable[[], Echo]) -> None:
    alexa = started(echo())
    alexa.say("GoToExerciseIntent", exercise="yoga").hears(
        "don't have an exercise called yoga", *(e.name for e in ROUTINE.exercises))


# -- safety ---------------------------------------------------------------------------

def test_pain_then_still_hurting_advises_a_doctor_and_ends(echo: Callable[[], Echo]) -> None:
    alexa = mid_set(echo())
    assert barge_in(alexa, "PainIntent").hears("doctor").ended
    back = echo()
    heard = back.open()
    assert SAFETY.pain_check in heard.text
    assert "in a row" not in heard.text  # nothing of streaks before that question
    assert not heard.ended
    heard = back.say("PainIntent")
    assert SAFETY.pain_still in heard.text and heard.ended
    # Asked again next time, and "yes" (it still hurts) ends the same way.
    again = echo()
    assert SAFETY.pain_check in again.open().text
    assert again.say("AMAZON.YesIntent").ended


def test_pain_then_feeling_fine_offers_to_carry_on_with_a_reminder_to_stop(
        echo: Callable[[], Echo]) -> None:
    alexa = mid_set(echo())
    barge_in(alexa, "PainIntent")
    back = echo()
    back.open()
    heard = back.say("FeelFineIntent")
    assert SAFETY.pain_better in heard.text
    heard.hears("ankle circles", "round", "shall we pick up there?")
    assert not heard.ended
    back.say("AMAZON.StopIntent")
    assert SAFETY.pain_check not in echo().open().text  # asked once, answered


def test_after_a_pain_stop_a_one_shot_start_asks_how_it_feels_first(
        echo: Callable[[], Echo]) -> None:
    barge_in(mid_set(echo()), "PainIntent")
    heard = echo().ask("StartRoutineIntent")
    assert SAFETY.pain_check in heard.text and "Exercise" not in heard.text


def test_no_at_the_pain_check_means_it_feels_fine(echo: Callable[[], Echo]) -> None:
    barge_in(mid_set(echo()), "PainIntent")
    back = echo()
    back.open()
    assert SAFETY.pain_better in back.say("AMAZON.NoIntent").text


def test_a_cramp_mid_set_pauses_at_its_place_and_ready_carries_on(
        echo: Callable[[], Echo]) -> None:
    alexa = mid_set(echo())
    heard = barge_in(alexa, "CrampIntent")
    assert SAFETY.cramp in heard.text
    heard.hears("paused ankle circles")
    assert "doctor" not in heard.text and not heard.ended
    saved = progress(alexa).position
    assert saved.exercise == "ankle_circles" and saved.rep > 1 and progress(alexa).paused
    heard = alexa.say("NextExerciseIntent")  # "ready", when it has eased
    assert not heard.ended and progress(alexa).position == saved
    assert not progress(alexa).paused
    alexa.say("NextExerciseIntent").hears(f"that's {TEXTS.number(saved.rep - 1)} of ten done")


def test_dizziness_stops_sits_down_and_ends_with_the_place_kept(
        echo: Callable[[], Echo]) -> None:
    alexa = mid_set(echo())
    heard = barge_in(alexa, "DizzyIntent")
    assert SAFETY.dizzy in heard.text and heard.ended
    echo().open().hears("ankle circles", "round")


# -- remembered across sessions ---------------------------------------------------------

def test_no_band_gets_the_substitute_now_and_next_session(echo: Callable[[], Echo]) -> None:
    alexa = at(echo(), FLEXION.name)
    substitute = BAND.substitute
    assert substitute is not None
    heard = missing(alexa, "resistance band", "band")
    heard.hears(f"no {BAND.noun}?", substitute.name, "remember")
    assert substitute.setup in heard.text
    alexa.say("AMAZON.StopIntent")
    later = at(echo().next_day(), FLEXION.name)
    assert substitute.setup in later.last.text
    assert BAND.name not in later.last.text


def test_no_floor_gets_the_seated_version_now_and_next_session(
        echo: Callable[[], Echo]) -> None:
    seated = FLEXION.seated
    assert seated is not None
    alexa = at(echo(), FLEXION.name)
    heard = alexa.say("SeatedIntent").hears("seated version")
    assert seated.setup in heard.text
    alexa.say("AMAZON.StopIntent")
    later = at(echo().next_day(), FLEXION.name)
    assert seated.setup in later.last.text and FLEXION.setup not in later.last.text


def test_seated_and_no_band_together_give_the_seated_substitute(
        echo: Callable[[], Echo]) -> None:
    alexa = at(echo(), FLEXION.name)
    alexa.say("SeatedIntent")
    heard = missing(alexa, "band", "band")
    assert BAND.substitute and BAND.substitute.seated_setup in heard.text


def test_i_dont_have_one_means_this_exercises_thing(echo: Callable[[], Echo]) -> None:
    alexa = at(echo(), FLEXION.name)
    heard = alexa.say("NoEquipmentIntent")
    assert BAND.substitute and BAND.substitute.name in heard.text
    at(echo(), "toe walking").say("NoEquipmentIntent").hears("which one is missing")


def test_slower_is_remembered_and_stretches_the_rests_within_bounds(
        echo: Callable[[], Echo]) -> None:
    steps = load_content().pace.steps
    alexa = at(echo(), "toe walking")
    alexa.say("SlowerIntent").hears("slow down")
    assert progress(alexa).pace == min(s for s in steps if s > 1.0)
    for _ in steps:
        alexa.say("SlowerIntent")
    alexa.say("SlowerIntent").hears("already my slowest")
    assert progress(alexa).pace == max(steps)
    alexa.say("AMAZON.StopIntent")
    later = echo().next_day()
    later.open()
    assert progress(later).pace == max(steps)
    for _ in steps:
        later.say("FasterIntent")
    later.say("FasterIntent").hears("already my quickest")
    assert progress(later).pace == min(steps)


# -- an honest streak and honest words ---------------------------------------------------

def test_a_go_to_plus_one_exercise_does_not_count(echo: Callable[[], Echo]) -> None:
    alexa = at(echo(), "toe pencil pickups")
    heard = finish_from_here(alexa)
    assert "well done" not in heard.text.lower()
    heard.hears("won't count toward your streak")
    assert progress(alexa).history == ()
    assert "great work" not in alexa.say("AMAZON.StopIntent").text.lower()


def test_a_full_routine_counts_once_and_says_once(echo: Callable[[], Echo]) -> None:
    alexa = started(echo())
    finish_from_here(alexa).hears("well done")
    assert len(progress(alexa).history) == 1
    heard = alexa.say("StreakIntent").hears("finished the routine once")
    assert "1 times" not in heard.text


def test_counts_end_their_sentences_in_the_text_form(echo: Callable[[], Echo]) -> None:
    played = mid_set(echo()).last
    assert played is not None
    assert "ten. Now circle the other way." in played.text
    assert "ten Now" not in played.text
