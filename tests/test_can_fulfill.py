"""CanFulfillIntentRequest: honest YES/MAYBE/NO, and never a side effect."""

from __future__ import annotations

import pytest

from skill.tools.envelopes import slot
from tests.conversation import Conversation


def ask(alexa: Conversation, intent: str, **slots: dict) -> dict:
    response = alexa.send(alexa.device.can_fulfill(intent, slots)).body
    assert "outputSpeech" not in response
    return response["canFulfillIntent"]


@pytest.mark.parametrize(
    "intent,answer",
    [
        ("StartRoutineIntent", "YES"),
        ("ProgressIntent", "YES"),
        ("StreakIntent", "YES"),
        ("ListExercisesIntent", "YES"),
        ("NextExerciseIntent", "MAYBE"),
        ("PainIntent", "NO"),
        ("SomethingElseIntent", "NO"),
    ],
)
def test_intent_answers(talk, intent, answer):
    assert ask(talk(), intent)["canFulfill"] == answer


def test_known_exercise_is_yes_for_intent_and_slot(talk):
    answer = ask(talk(), "GoToExerciseIntent",
                 exercise=slot("exercise", "pencil pickups", "toe_pencil_pickups"))
    assert answer["canFulfill"] == "YES"
    assert answer["slots"]["exercise"] == {"canUnderstand": "YES", "canFulfill": "YES"}


def test_unknown_exercise_is_no(talk):
    answer = ask(talk(), "GoToExerciseIntent", exercise=slot("exercise", "yoga"))
    assert answer["canFulfill"] == "NO"
    assert answer["slots"]["exercise"] == {"canUnderstand": "NO", "canFulfill": "NO"}


def test_synonym_without_entity_resolution_is_understood(talk):
    answer = ask(talk(), "GoToExerciseIntent", exercise=slot("exercise", "band exercise"))
    assert answer["canFulfill"] == "YES"


def test_no_progress_is_read_or_written(talk, store):
    alexa = talk()
    ask(alexa, "StartRoutineIntent")
    ask(alexa, "GoToExerciseIntent", exercise=slot("exercise", "ankle circles", "ankle_circles"))
    assert (store.reads, store.writes, store.items) == (0, 0, {})
