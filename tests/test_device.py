"""The routine as an Echo plays it, through `skill.lambda_function.handler`.

A simulated Echo (tests/echo.py) stamps every request on Alexa's clock, plays each
response for as long as its audio lasts, lets the person barge in at a chosen second,
times the microphone out, and checks every response against a device's limits. Where a
barge-in lands is found here from the APLA document that was sent and the content's
words (each round's cue), not from the skill's own marks, so the two are checked against
each other.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import timedelta

import pytest

from skill import lambda_function
from skill.content.routine import Exercise, load_routine
from skill.content.texts import load_texts
from skill.conversation.timeline import spoken_seconds
from skill.storage.store import MemoryStore
from skill.tools.envelopes import DEFAULT_USER_ID
from tests.conversation import Heard, apla_seconds
from tests.echo import Echo

ROUTINE = load_routine()
TEXTS = load_texts("en-US")
EXERCISES = {exercise.id: exercise for exercise in ROUTINE.exercises}


@pytest.fixture
def echo(use_store, store: MemoryStore) -> Echo:
    use_store(store)
    return Echo(lambda_function.handler)


# -- reading what was played ------------------------------------------------------------

def number(value: int) -> str:
    return TEXTS.number(value)


def place(exercise: Exercise, set_index: int, rep: int) -> str:
    """How the skill names a round ("round 3 of 6"; with several sets, which set; with a
    side, which foot), as the issue asks it to be said."""
    exercise_set = exercise.sets[set_index]
    words = f"round {rep} of {exercise_set.reps}"
    if len(exercise.sets) > 1:
        words = f"set {set_index + 1} of {len(exercise.sets)}, {words}"
    if exercise_set.side:
        words = f"{exercise_set.side} foot, {words}"
    return words


def cue(exercise: Exercise, set_index: int, rep: int) -> str:
    """The words a round starts with: its number in a counted set, else the rep cue."""
    exercise_set = exercise.sets[set_index]
    if exercise_set.counted:
        return TEXTS.line("count", number=number(rep))
    assert exercise_set.rep_cue
    return exercise_set.rep_cue.format(rep=number(rep), reps=number(exercise_set.reps))


def _rounds_from(exercise: Exercise, first: tuple[int, int]) -> Iterator[tuple[int, int]]:
    for set_index in range(first[0], len(exercise.sets)):
        start = first[1] if set_index == first[0] else 1
        for rep in range(start, exercise.sets[set_index].reps + 1):
            yield set_index, rep


def round_starts(heard: Heard, exercise: Exercise, first: tuple[int, int] = (0, 1)
                 ) -> dict[tuple[int, int], float]:
    """The second each round's cue starts at in the response, in order from `first`, for
    as many rounds as the response plays."""
    assert heard.apla is not None, f"not a set's rounds: {heard.text}"
    speech: list[tuple[float, str]] = []
    start = 0.0
    for item in heard.apla["document"]["mainTemplate"]["items"][0]["items"]:
        if item["type"] == "Speech":
            speech.append((start, item["content"]))
        start += apla_seconds(item)
    # Words next to each other share a Speech item: a round's cue opens one ("ten. Now
    # circle the other way.") or closes one ("...clockwise. one."), and one item can hold
    # the end of a set and the start of the next.
    found: dict[tuple[int, int], float] = {}
    at, opened = 0, False
    for set_index, rep in _rounds_from(exercise, first):
        words = cue(exercise, set_index, rep)
        while at < len(speech):
            start, text = speech[at]
            if text.startswith(words) and not opened:
                found[set_index, rep], opened = start, True
                break
            if text.endswith(words) and (not opened or text != words):
                found[set_index, rep] = start + spoken_seconds(text) - spoken_seconds(words)
                at, opened = at + 1, False
                break
            at, opened = at + 1, False
        else:
            break
    assert found and next(iter(found)) == first, f"{first} does not start: {heard.text}"
    return found


def second_of(heard: Heard, exercise: Exercise, round_: tuple[int, int],
              first: tuple[int, int] = (0, 1)) -> int:
    """A whole second (Alexa's timestamps have no fractions) inside the round."""
    return math.ceil(round_starts(heard, exercise, first)[round_])


def begin(echo: Echo, exercise: Exercise) -> Heard:
    """A new user: open, "yes", the exercise by name, then "ready": its first rounds."""
    echo.open()
    echo.say("AMAZON.YesIntent")
    if exercise.id != ROUTINE.exercises[0].id:
        echo.say("GoToExerciseIntent", exercise=exercise.name).hears(exercise.name)
    return echo.say("NextExerciseIntent")


def ready(echo: Echo, times: int) -> Heard:
    heard = echo.last
    for _ in range(times):
        heard = echo.say("NextExerciseIntent")
    assert heard is not None
    return heard


def check_resumes_at(rounds: Heard, exercise: Exercise, set_index: int, rep: int) -> None:
    """The rounds played after "ready" start at the round that had begun, not before."""
    round_starts(rounds, exercise, (set_index, rep))
    if rep > 1:
        rounds.hears(f"that's {number(rep - 1)} of {number(exercise.sets[set_index].reps)} "
                     "done so far")


# -- interrupted mid-set, resumed at the round -----------------------------------------

# (exercise, set, round, responses of that exercise played before the one interrupted,
# the round that response starts at): every exercise, a later set or side where there is
# one, and a response that is not the exercise's first.
INTERRUPTIONS = [
    ("toe_presses", 0, 4, 0, (0, 1)),
    ("toe_walking", 0, 2, 0, (0, 1)),
    ("toe_walking", 0, 5, 1, (0, 4)),
    ("ankle_circles", 0, 3, 0, (0, 1)),
    ("ankle_circles", 2, 6, 0, (0, 1)),
    ("resisted_flexion", 0, 7, 0, (0, 1)),
    ("toe_pencil_pickups", 0, 3, 0, (0, 1)),
    ("toe_pencil_pickups", 1, 2, 1, (1, 1)),
]


@pytest.mark.parametrize(
    ("exercise_id", "set_index", "rep", "before", "first"), INTERRUPTIONS,
    ids=[f"{e}-set{s + 1}-round{r}" for e, s, r, _, _ in INTERRUPTIONS])
def test_stopped_at_second_n_of_a_set_resumes_at_that_round(
        echo: Echo, exercise_id: str, set_index: int, rep: int, before: int,
        first: tuple[int, int]) -> None:
    exercise = EXERCISES[exercise_id]
    begin(echo, exercise)
    playing = ready(echo, before)
    at = second_of(playing, exercise, (set_index, rep), first)
    stopped = echo.barge_in(at, "AMAZON.StopIntent")
    assert stopped.ended
    where = place(exercise, set_index, rep)
    stopped.hears(f"saved your place at {exercise.name}, {where}")

    echo.wait(600)
    number_of = ROUTINE.exercises.index(exercise) + 1
    echo.open().hears(f"you were on exercise {number_of}, {exercise.name}, {where}")
    setup = echo.say("AMAZON.YesIntent")
    setup.hears("back into position", exercise.setup, f"pick up at {where}", "say ready")
    assert setup.apla is None and not setup.ended, "nothing is counted before ready"
    check_resumes_at(echo.say("NextExerciseIntent"), exercise, set_index, rep)


# -- the last round over: the place is the next exercise ------------------------------

@pytest.mark.parametrize("exercise_id", list(EXERCISES))
def test_stopped_after_the_last_round_the_place_is_the_next_exercise(
        echo: Echo, exercise_id: str) -> None:
    exercise = EXERCISES[exercise_id]
    index = ROUTINE.index_of(exercise_id)
    assert index is not None
    heard = begin(echo, exercise)
    for _ in range(len(exercise.sets) + 2):
        if f"{exercise.name} done" in heard.text:
            break
        heard = echo.say("NextExerciseIntent")
    heard.hears(f"that's {exercise.name} done")
    # While Alexa says what comes next, every round is over.
    stopped = echo.barge_in(math.floor(heard.seconds) - 1, "AMAZON.StopIntent")
    assert stopped.ended
    offer = echo.open()
    if index + 1 < len(ROUTINE.exercises):
        following = ROUTINE.exercises[index + 1]
        stopped.hears(f"saved your place at {following.name}.")
        offer.hears(f"you finished {exercise.name}; next is exercise {index + 2}, "
                    f"{following.name}")
        echo.say("AMAZON.YesIntent").hears(f"Exercise {index + 2} of {len(ROUTINE.exercises)}")
    else:
        offer.hears(f"you finished {exercise.name}, the last exercise")
        echo.say("AMAZON.YesIntent").hears(f"today you did {exercise.name}")


# -- pause, and coming back -------------------------------------------------------------

@pytest.mark.parametrize("way_back", ["one-shot", "open-then-yes"])
def test_pause_ends_the_session_and_both_ways_back_resume_the_round(
        echo: Echo, way_back: str) -> None:
    walking = EXERCISES["toe_walking"]
    playing = begin(echo, walking)
    paused = echo.barge_in(second_of(playing, walking, (0, 2)), "AMAZON.PauseIntent")
    assert paused.ended and not echo.in_session, "a device cannot wait in a paused session"
    paused.hears("toe walking, round 2 of 6", "Alexa, ask foot routine to resume")
    assert len(paused.text.rstrip(".").split(". ")) == 1, "one sentence"

    echo.wait(20 * 60)
    if way_back == "one-shot":
        back = echo.ask("AMAZON.ResumeIntent").hears("picking up with toe walking")
    else:
        echo.open().hears("you were on exercise 2, toe walking, round 2 of 6")
        back = echo.say("AMAZON.YesIntent")
    back.hears("back into position", walking.setup, "round 2 of 6", "say ready")
    assert not back.ended and back.apla is None
    check_resumes_at(echo.say("NextExerciseIntent"), walking, 0, 2)


# -- the microphone times out --------------------------------------------------------

def test_no_answer_to_say_ready_loses_nothing(echo: Echo) -> None:
    echo.open()
    intro = echo.say("AMAZON.YesIntent").hears("Exercise 1 of 5", "say ready")
    assert not intro.ended
    assert echo.stay_silent() is not None and not echo.in_session
    echo.open().hears("you were on exercise 1, toe presses, round 1 of 10")
    echo.say("AMAZON.YesIntent").hears("back into position", "say ready")
    check_resumes_at(echo.say("NextExerciseIntent"), EXERCISES["toe_presses"], 0, 1)


def test_no_answer_after_rounds_heard_in_full_keeps_the_next_round(echo: Echo) -> None:
    walking = EXERCISES["toe_walking"]
    begin(echo, walking).hears("round three of six", "say next when you're ready")
    echo.stay_silent()
    echo.open().hears("you were on exercise 2, toe walking, round 4 of 6")
    echo.say("AMAZON.YesIntent")
    check_resumes_at(echo.say("NextExerciseIntent"), walking, 0, 4)


# -- a change of foot -----------------------------------------------------------------

@pytest.mark.parametrize("exercise_id", ["toe_pencil_pickups", "ankle_circles"])
def test_the_switch_of_foot_is_said_once(echo: Echo, exercise_id: str) -> None:
    """Whether the other foot is its own response (pencil pickups) or follows inside the
    same one (circles), "now switch to your left foot" is said once, not again at the
    start of the next response."""
    exercise = EXERCISES[exercise_id]
    second = next(s.side for s in exercise.sets if s.side != exercise.sets[0].side)
    switch = TEXTS.line("side_switch", side=TEXTS.line(f"side_{second}")).lower()
    said = [begin(echo, exercise).text]
    while f"{exercise.name} done" not in said[-1]:
        assert len(said) < 10, "the exercise never ended"
        said.append(echo.say("NextExerciseIntent").text)
    assert sum(text.lower().count(switch) for text in said) == 1, said


# -- go back, and repeat ---------------------------------------------------------------

def test_go_back_steps_back_one_set_or_side_then_to_the_previous_exercise(echo: Echo) -> None:
    circles = EXERCISES["ankle_circles"]
    playing = begin(echo, circles)
    # Part-way through the right foot's first set: the start of that set.
    back = echo.barge_in(second_of(playing, circles, (2, 3)), "AMAZON.PreviousIntent")
    back.hears("back into position", "right foot, set 3 of 4, round 1 of 10", "say ready")
    assert back.apla is None
    # At the start of the right foot: the left foot's first set.
    echo.say("AMAZON.PreviousIntent").hears("left foot, set 1 of 4, round 1 of 10")
    again = echo.say("NextExerciseIntent")
    round_starts(again, circles, (0, 1))
    # Part-way through the left foot's second set: its start, then the set before it,
    # and only from the exercise's start the previous exercise.
    further = echo.barge_in(second_of(again, circles, (1, 4)), "AMAZON.PreviousIntent")
    further.hears("back into position", "left foot, set 2 of 4, round 1 of 10")
    echo.say("AMAZON.PreviousIntent").hears("left foot, set 1 of 4, round 1 of 10")
    echo.say("AMAZON.PreviousIntent").hears("Exercise 2 of 5: toe walking")


def test_go_back_after_part_of_a_set_restarts_that_set(echo: Echo) -> None:
    """Toe walking's six rounds are two responses: after the first, "go back" is the
    set's start again, not the exercise before."""
    walking = EXERCISES["toe_walking"]
    begin(echo, walking).hears("round three of six", "say next when you're ready")
    back = echo.say("AMAZON.PreviousIntent")
    back.hears("back into position", walking.setup, "round 1 of 6", "say ready")
    assert "toe presses" not in back.text
    check_resumes_at(echo.say("NextExerciseIntent"), walking, 0, 1)


def test_start_said_over_the_rounds_keeps_the_round(echo: Echo) -> None:
    """ "Alexa, start" over rounds that are playing must not leave the rest out: the place
    is restated, and "ready" goes on from the round that had begun."""
    walking = EXERCISES["toe_walking"]
    playing = begin(echo, walking)
    again = echo.barge_in(second_of(playing, walking, (0, 2)), "StartRoutineIntent")
    again.hears("already under way", "round 2 of 6", "say ready")
    check_resumes_at(echo.say("NextExerciseIntent"), walking, 0, 2)


def test_repeat_mid_set_repeats_the_round_and_carries_on(echo: Echo) -> None:
    walking = EXERCISES["toe_walking"]
    playing = begin(echo, walking)
    again = echo.barge_in(second_of(playing, walking, (0, 2)), "AMAZON.RepeatIntent")
    starts = round_starts(again, walking, (0, 2))
    assert list(starts) == [(0, 2), (0, 3)], "from the round on, to the end of the response"
    assert "round one of six" not in again.text.lower()
    # At the prompt after it played in full, "repeat" gives the instruction for what is
    # next: the set-up, and the round to start at.
    echo.say("AMAZON.RepeatIntent").hears(walking.setup, "round 4 of 6", "say ready")


# -- one clock: Alexa's -----------------------------------------------------------------

def test_dates_and_staleness_read_alexas_clock_not_the_skills(echo: Echo, store: MemoryStore
                                                              ) -> None:
    """The skill here is built with a clock in November; the Echo's requests say March."""
    begin(echo, EXERCISES["toe_walking"])
    echo.say("AMAZON.StopIntent")
    assert store.read(DEFAULT_USER_ID)["updated_at"].startswith(echo.clock.date().isoformat())
    echo.wait(timedelta(days=8).total_seconds())
    echo.open().hears("over a week since your last session")
