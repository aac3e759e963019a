"""The console resolver maps what a person types to the intent Alexa would send.

`foot-routine chat` is how the skill is exercised without a device, so these tests pin the
phrases users actually say mid-routine, and check the resolver agrees with the model's own samples.
"""

from __future__ import annotations

import json

import pytest

from skill.tools.nlu import Resolved, Resolver, SlotValue, heard, model_path, normalise


@pytest.fixture(scope="module")
def resolver() -> Resolver:
    """One resolver for the module: compiling the model is the expensive part."""
    return Resolver.from_model_file(model_path())


@pytest.mark.parametrize(
    ("utterance", "intent"),
    [
        ("start my foot routine", "StartRoutineIntent"),
        ("Alexa, next!", "AMAZON.NextIntent"),
        ("repeat that", "AMAZON.RepeatIntent"),
        ("say that again", "AMAZON.RepeatIntent"),
        ("go back", "AMAZON.PreviousIntent"),
        ("skip this one", "SkipExerciseIntent"),
        ("I'm done", "SetDoneIntent"),
        ("carry on", "NextExerciseIntent"),
        ("what's next", "AMAZON.NextIntent"),
        ("wait, what?", "AMAZON.RepeatIntent"),
        ("which foot", "SideQuestionIntent"),
        ("um, can you slow down please", "SlowerIntent"),
        ("how many are left", "ProgressIntent"),
        ("where am I", "ProgressIntent"),
        ("what exercises are there", "ListExercisesIntent"),
        ("it hurts", "PainIntent"),
        ("I feel pain", "PainIntent"),
        ("pause", "AMAZON.PauseIntent"),
        ("resume", "AMAZON.ResumeIntent"),
        ("start over", "AMAZON.StartOverIntent"),
        ("help", "AMAZON.HelpIntent"),
        ("stop", "AMAZON.StopIntent"),
        ("cancel", "AMAZON.CancelIntent"),
        ("yes", "AMAZON.YesIntent"),
        ("no", "AMAZON.NoIntent"),
        ("read the disclaimer", "DisclaimerIntent"),
        ("what's my streak", "StreakIntent"),
    ],
)
def test_phrases_without_slots(resolver: Resolver, utterance: str, intent: str) -> None:
    assert resolver.resolve(utterance) == Resolved(intent=intent, slots={})


@pytest.mark.parametrize(
    ("utterance", "spoken", "value_id", "value_name"),
    [
        ("go to ankle circles", "ankle circles", "ankle_circles", "ankle circles"),
        ("pencil pickups", "pencil pickups", "toe_pencil_pickups", "toe pencil pickups"),
        ("band exercise", "band exercise", "resisted_flexion", "resisted flexion with a band"),
        ("let's do the band exercise", "band exercise", "resisted_flexion",
         "resisted flexion with a band"),
        ("Go to the ankle circles.", "ankle circles", "ankle_circles", "ankle circles"),
        # No "the" carrier for this one: the resolver tolerates the article, as Alexa does.
        ("take me back to the ankle circles", "the ankle circles", "ankle_circles",
         "ankle circles"),
        ("go to yoga", "yoga", None, None),
    ],
)
def test_go_to_exercise(
    resolver: Resolver, utterance: str, spoken: str, value_id: str | None, value_name: str | None
) -> None:
    assert resolver.resolve(utterance) == Resolved(
        intent="GoToExerciseIntent",
        slots={"exercise": SlotValue(spoken=spoken, value_id=value_id, value_name=value_name)},
    )


@pytest.mark.parametrize("utterance", ["banana split", "banana", "", "Alexa", "?!"])
def test_unknown_phrases_resolve_to_nothing(resolver: Resolver, utterance: str) -> None:
    """A bare unknown phrase must not be taken for an exercise name via the "{exercise}" sample."""
    assert resolver.resolve(utterance) is None


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Alexa, NEXT!", "next"),
        ("I\u2019m   done.", "i'm done"),
        ("'skip'", "skip"),
        ("pencil pick-ups", "pencil pick ups"),
        ("alexandra", "alexandra"),
    ],
)
def test_normalise(typed: str, expected: str) -> None:
    assert normalise(typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Um, next please.", "next"),
        ("uh  er done", "done"),
        ("please continue", "please continue"),
        ("please", ""),
        ("yes please", "yes"),
        ("humming", "humming"),
    ],
)
def test_heard_drops_fillers_and_a_trailing_please(typed: str, expected: str) -> None:
    assert heard(typed) == expected


@pytest.mark.parametrize(
    ("utterance", "intent"),
    [
        ("let's do it", "AMAZON.YesIntent"),
        ("do that again", "AMAZON.RepeatIntent"),
        ("go to the next one", "AMAZON.NextIntent"),
        ("let's do the next one", "AMAZON.NextIntent"),
        ("no thanks", "AMAZON.NoIntent"),
    ],
)
def test_carrier_phrases_do_not_swallow_fillers_as_slot_values(
    resolver: Resolver, utterance: str, intent: str
) -> None:
    """ "let's do it" was heard as an exercise called "it"; "no thanks" must not be an item."""
    assert resolver.resolve(utterance) == Resolved(intent=intent, slots={})
    assert resolver.readings(utterance) == [Resolved(intent=intent, slots={})]


def test_readings_are_literal_like_virtual_alexa(resolver: Resolver) -> None:
    """Only listed slot values count (no article dropped, no unknown words); all intents show."""
    assert resolver.readings("go to yoga") == []
    assert resolver.readings("take me back to the ankle circles") == []
    assert resolver.readings("i don't have a band") == [
        Resolved("NoEquipmentIntent", {"item": SlotValue("band", "band", "exercise band")})
    ]
    assert resolver.readings("remind me at seven pm") == [
        Resolved("SetReminderIntent", {"time": SlotValue("seven pm", None, None)})
    ]
    both = Resolver({"next": ("AMAZON.NextIntent", "NextExerciseIntent")}, [], {})
    assert [r.intent for r in both.readings("next")] == ["AMAZON.NextIntent", "NextExerciseIntent"]
    assert both.resolve("next") == Resolved("AMAZON.NextIntent", {})


def test_every_literal_sample_resolves_to_its_intent(resolver: Resolver) -> None:
    """Guards against a slot sample outranking a phrase the model lists verbatim."""
    model = json.loads(model_path().read_text(encoding="utf-8"))["interactionModel"]
    wrong = [
        (sample, intent["name"], resolver.resolve(sample))
        for intent in model["languageModel"]["intents"]
        for sample in intent.get("samples", [])
        if "{" not in sample and resolver.resolve(sample) != Resolved(intent["name"], {})
    ]
    assert wrong == []


def test_every_exercise_synonym_resolves_bare_and_in_a_carrier_phrase(resolver: Resolver) -> None:
    model = json.loads(model_path().read_text(encoding="utf-8"))["interactionModel"]
    (exercise_type,) = [t for t in model["languageModel"]["types"] if t["name"] == "EXERCISE_NAME"]
    for value in exercise_type["values"]:
        for form in [value["name"]["value"], *value["name"]["synonyms"]]:
            for utterance in (form, f"take me to {form}"):
                resolved = resolver.resolve(utterance)
                assert resolved is not None, utterance
                assert resolved.intent == "GoToExerciseIntent", utterance
                assert resolved.slots["exercise"].value_id == value["id"], utterance
