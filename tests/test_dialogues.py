"""Whole conversations through the Lambda handler, as a user hears them."""

from __future__ import annotations

import pytest

from skill.content.routine import load_routine
from tests.conversation import Conversation, Heard

EXERCISES = [exercise.name for exercise in load_routine().exercises]
FULL_DISCLAIMER = "not a substitute for advice from your doctor"
SHORT_DISCLAIMER = "this isn't medical advice"
FINISHED = "finished your foot routine"
# The routine is about 20 turns of "next"; twice that means it will never finish.
MAX_TURNS = 40


def start(talk) -> Conversation:
    alexa = talk()
    alexa.launch()
    alexa.say("StartRoutineIntent")
    return alexa


def test_first_launch_summarises_and_offers_to_start(talk):
    heard = talk().launch()
    heard.hears("5 exercises", "20 minutes", "chair", "exercise band", "pencil", "start?")
    assert not heard.ended


def test_full_routine_from_launch_to_congratulations(talk):
    alexa = talk()
    alexa.launch()
    heard = alexa.say("StartRoutineIntent")
    assert heard.text.index(FULL_DISCLAIMER) < heard.text.index("Exercise 1 of 5")
    seen = {EXERCISES[0]}
    for _ in range(40):
        heard = alexa.say("NextExerciseIntent")
        seen.update(name for name in EXERCISES if f": {name}." in heard.text)
        if "finished your foot routine" in heard.text:
            break
    heard.hears("well done", *EXERCISES, "few days in a row", "twice a day")
    assert seen == set(EXERCISES)
    assert not heard.ended
    again = alexa.say("AMAZON.NextIntent")
    again.hears("already reached the end")
    assert alexa.say("AMAZON.NextIntent").text == again.text


def test_sets_play_as_one_response_with_counts_ticks_and_sides(talk):
    """A set (both sides, all rounds where they fit) is one APL for Audio response: counted
    holds keep their spoken counts, rests and timed holds tick and end with a chime."""
    alexa = start(talk)
    heard = alexa.say("NextExerciseIntent")
    assert heard.apla is not None and not heard.ssml
    heard.hears("two", "three", "five", "[tick x3] [chime]", "toe presses done")
    alexa.go_to("ankle circles", "ankle_circles")
    alexa.say("NextExerciseIntent").hears("left foot", "right foot", "ankle circles done")
    alexa.go_to("toe walking", "toe_walking")
    walk = alexa.say("NextExerciseIntent")
    walk.hears("round one of six", "round three of six", "[tick x10]", "[chime]")
    assert "round four" not in walk.text.lower(), "six rounds are over 240 s: two responses"


def test_disclaimer_is_short_the_second_time_and_replayable(talk):
    start(talk).say("AMAZON.StopIntent")
    alexa = talk()
    alexa.launch().hears("welcome back", "exercise 1, toe presses")
    heard = alexa.say("AMAZON.YesIntent")
    heard.hears(SHORT_DISCLAIMER)
    assert FULL_DISCLAIMER not in heard.text
    alexa.say("DisclaimerIntent").hears(FULL_DISCLAIMER, "check with your doctor", "hurts")


def test_repeat_at_a_prompt_says_the_last_instruction_again(talk):
    """At a prompt "repeat" repeats the last instruction: the introduction, or once a set
    was heard in full the words that closed it (mid-set: tests/test_device.py)."""
    alexa = talk()
    alexa.launch()
    intro = alexa.say("StartRoutineIntent")
    again = alexa.say("AMAZON.RepeatIntent")
    assert again.text in intro.text and again.text.startswith("Exercise 1 of 5")
    alexa.say("NextExerciseIntent")
    alexa.say("AMAZON.RepeatIntent").hears("toe presses done", "say next for exercise 2")


def test_lets_go_at_an_introduction_begins_the_set(talk):
    """ "Say ready" answered with "let's go" (StartRoutineIntent) is a ready person: the
    rounds begin, not "we're already under way" and the set-up again."""
    alexa = start(talk)
    heard = alexa.say("StartRoutineIntent")
    assert heard.apla is not None, heard.text
    heard.hears("press them down", "five")
    assert "already under way" not in heard.text.lower()


def test_previous_at_the_first_exercise(talk):
    alexa = start(talk)
    heard = alexa.say("AMAZON.PreviousIntent")
    heard.hears("already the first exercise")
    assert not heard.ended
    alexa.go_to("ankle circles", "ankle_circles")
    alexa.say("AMAZON.PreviousIntent").hears("Exercise 2 of 5: toe walking")
    alexa.go_to("ankle circles", "ankle_circles")
    alexa.say("NextExerciseIntent")  # both feet's circles, heard in full
    alexa.say("AMAZON.PreviousIntent").hears("back into position", "right foot, set 3 of 4")
    alexa.say("AMAZON.PreviousIntent").hears("back into position", "left foot, set 1 of 4")
    alexa.say("AMAZON.PreviousIntent").hears("Exercise 2 of 5: toe walking")


def test_skip_moves_to_the_next_exercise(talk):
    alexa = start(talk)
    alexa.say("SkipExerciseIntent").hears("skipping toe presses", "Exercise 2 of 5")


def test_go_to_by_synonym_with_and_without_entity_resolution(talk):
    alexa = start(talk)
    alexa.go_to("pencil pickups", "toe_pencil_pickups").hears("Exercise 5 of 5")
    alexa.say("GoToExerciseIntent", exercise="band exercise").hears("Exercise 4 of 5")
    heard = alexa.go_to("yoga", None)
    heard.hears("don't have an exercise called yoga", "toe walking")
    assert not heard.ended


def test_pain_stops_at_once_and_advises_a_doctor(talk):
    alexa = start(talk)
    alexa.say("NextExerciseIntent")
    heard = alexa.say("PainIntent")
    heard.hears("stop", "doctor")
    assert heard.ended


def test_stop_then_a_new_session_resumes_at_the_same_exercise(talk):
    alexa = start(talk)
    alexa.go_to("ankle circles", "ankle_circles")
    heard = alexa.say("AMAZON.StopIntent")
    heard.hears("saved your place at ankle circles")
    assert heard.ended
    alexa = talk()
    alexa.launch().hears("you were on exercise 3, ankle circles, left foot, set 1 of 4",
                         "pick up")
    alexa.say("AMAZON.YesIntent").hears(SHORT_DISCLAIMER, "back into position", "say ready")


def test_after_an_exercise_heard_in_full_the_place_is_the_next_one(talk):
    alexa = start(talk)
    alexa.go_to("ankle circles", "ankle_circles")
    alexa.say("NextExerciseIntent").hears("ankle circles done")
    alexa.say("AMAZON.StopIntent").hears("saved your place at resisted flexion")
    alexa = talk()
    alexa.launch().hears("you finished ankle circles; next is exercise 4, resisted flexion")
    alexa.say("AMAZON.YesIntent").hears(SHORT_DISCLAIMER, "Exercise 4 of 5")


def test_no_to_resume_offers_a_fresh_start(talk):
    start(talk).say("AMAZON.CancelIntent")
    alexa = talk()
    alexa.launch()
    alexa.say("AMAZON.NoIntent").hears("from the beginning instead?")
    alexa.say("AMAZON.YesIntent").hears("Exercise 1 of 5")


def test_fallback_reprompts_without_ending(talk):
    alexa = talk()
    alexa.launch()
    heard = alexa.say("AMAZON.FallbackIntent")
    heard.hears("didn't catch that")
    assert not heard.ended
    alexa.say("NextExerciseIntent")
    heard = alexa.say("AMAZON.FallbackIntent")
    heard.hears("didn't catch that", "ready", "repeat", "pause")


def test_unknown_intent_name_is_treated_as_fallback(talk):
    alexa = talk()
    alexa.launch()
    alexa.say("SomeOldIntent").hears("didn't catch that")


def test_help_in_each_state(talk):
    alexa = talk()
    alexa.launch()
    alexa.say("AMAZON.HelpIntent").hears("yes or no")
    alexa.say("AMAZON.YesIntent")
    alexa.say("AMAZON.HelpIntent").hears("next", "repeat", "go back", "skip", "pause", "hurts")
    paused = alexa.say("AMAZON.PauseIntent")
    paused.hears("saved your place", "ask foot routine to resume")
    assert paused.ended, "a device cannot wait in a paused session"
    alexa.say("AMAZON.ResumeIntent").hears("picking up with toe presses")
    alexa.go_to("pencil pickups", "toe_pencil_pickups")
    alexa.say("SkipExerciseIntent").hears("end of the routine")
    alexa.say("AMAZON.HelpIntent").hears("finished the routine")
    fresh = talk()
    fresh.device.user_id = "amzn1.ask.account.SOMEONE-NEW"
    fresh.say("AMAZON.HelpIntent").hears("coach you through five foot exercises")


def test_progress_and_list(talk):
    alexa = start(talk)
    alexa.go_to("toe walking", "toe_walking")
    alexa.say("ProgressIntent").hears("exercise 2 of 5", "3 more exercises")
    alexa.say("ListExercisesIntent").hears(*EXERCISES)


def test_one_shot_question_answers_and_ends(talk):
    start(talk).say("AMAZON.StopIntent")
    heard = talk().say("ProgressIntent")
    heard.hears("exercise 1 of 5")
    assert heard.ended


def test_one_shot_start_speaks_the_disclaimer_first(talk):
    heard = talk().say("StartRoutineIntent")
    assert heard.text.index(FULL_DISCLAIMER) < heard.text.index("Exercise 1 of 5")
    assert not heard.ended


def test_navigate_home_and_cancel_end_politely(talk):
    for intent in ("AMAZON.NavigateHomeIntent", "AMAZON.CancelIntent", "AMAZON.StopIntent"):
        alexa = talk()
        alexa.launch()
        heard = alexa.say(intent)
        assert heard.ended and heard.text


def test_session_ended_is_answered_without_speech(talk):
    alexa = start(talk)
    for reason in ("USER_INITIATED", "EXCEEDED_MAX_REPROMPTS", "ERROR"):
        heard = alexa.end(reason)
        assert "outputSpeech" not in heard.body
        alexa.launch()


def test_relaunch_says_the_exercise_and_the_round(talk):
    alexa = start(talk)
    alexa.go_to("toe walking", "toe_walking")
    alexa.say("NextExerciseIntent")  # rounds 1 to 3, heard in full
    alexa.say("AMAZON.StopIntent")
    talk().launch().hears("you were on exercise 2, toe walking, round 4 of 6")


def test_one_shot_go_to_for_a_new_and_a_returning_user(talk):
    heard = talk().go_to("ankle circles", "ankle_circles")
    assert heard.text.index(FULL_DISCLAIMER) < heard.text.index("Exercise 3 of 5")
    heard.hears("ankle circles")
    assert not heard.ended
    again = talk().go_to("pencil pickups", "toe_pencil_pickups")
    assert again.text.index(SHORT_DISCLAIMER) < again.text.index("Exercise 5 of 5")


def test_one_shot_questions_end_for_new_and_returning_users(talk):
    for intent, phrase in (("StreakIntent", "haven't finished a whole routine"),
                           ("ProgressIntent", "haven't started yet")):
        heard = talk().say(intent)
        heard.hears(phrase)
        assert heard.ended and "reprompt" not in heard.body
    start(talk).say("AMAZON.StopIntent")
    heard = talk().say("StreakIntent")
    assert heard.ended


def next_until_finished(alexa: Conversation, heard: Heard) -> list[Heard]:
    """Says "next" until the routine is finished: every turn from `heard` on. Bounded, so a
    regression that never finishes fails here instead of hanging the suite."""
    turns = [heard]
    for _ in range(MAX_TURNS):
        if FINISHED in turns[-1].text:
            return turns
        turns.append(alexa.say("NextExerciseIntent"))
    pytest.fail(f"not finished after {MAX_TURNS} turns: {turns[-1].text}")


def finish_routine(alexa: Conversation) -> Heard:
    alexa.launch()
    alexa.say("StartRoutineIntent")
    return next_until_finished(alexa, alexa.say("NextExerciseIntent"))[-1]


def test_streak_on_completion_and_launch_and_twice_a_day(talk, clock):
    finish_routine(talk())
    clock.advance(days=1)
    finish_routine(talk()).hears("two days in a row")
    clock.advance(days=1)
    talk().launch().hears("two days in a row")
    heard = finish_routine(talk())
    heard.hears("three days in a row")
    talk().launch().hears("already done it once today")
    finish_routine(talk()).hears("second round today")
    talk().say("StreakIntent").hears("finished the routine 4 times", "three days in a row")


def test_other_english_locales_and_an_unsupported_one(talk):
    for locale, phrase in (("en-GB", "physiotherapist"), ("en-IN", "physiotherapist"),
                           ("fr-FR", "physical therapist")):
        alexa = talk()
        alexa.device.locale = locale
        alexa.device.user_id = f"amzn1.ask.account.{locale}"
        alexa.launch()
        alexa.say("StartRoutineIntent").hears(phrase, "Exercise 1 of 5")
