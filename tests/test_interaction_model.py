"""Checks on interaction_model/*.json that Alexa's model build would otherwise catch late.

The voice model is only built when deployed, so structural mistakes (an utterance claimed by two
intents, a digit in a sample, a slot that isn't declared) would surface as a failed build or, worse,
as Alexa routing a phrase to the wrong intent. These tests catch them on every run, for every
locale: en-US is hand-written and the other English models are generated from it with extra
samples (infrastructure/locales.py), which must obey the same rules. The content slot types
(EXERCISE_NAME, EQUIPMENT) are written from skill/content/routine.yaml by the same generator.
"""

from __future__ import annotations

import json
import pathlib
import re
from typing import Any

import pytest

from skill.content.routine import load_routine
from skill.tools.nlu import Resolver

MODEL_PATHS = sorted(
    (pathlib.Path(__file__).resolve().parent.parent / "interaction_model").glob("*.json")
)

DESIGN_INTENTS = {
    "StartRoutineIntent",
    "NextExerciseIntent",
    "GoToExerciseIntent",
    "PainIntent",
    "ProgressIntent",
    "ListExercisesIntent",
    "AMAZON.RepeatIntent",
    "AMAZON.PreviousIntent",
    "AMAZON.NextIntent",
    "AMAZON.PauseIntent",
    "AMAZON.ResumeIntent",
    "AMAZON.StartOverIntent",
    "AMAZON.YesIntent",
    "AMAZON.NoIntent",
    "AMAZON.HelpIntent",
    "AMAZON.StopIntent",
    "AMAZON.CancelIntent",
    "AMAZON.FallbackIntent",
    "AMAZON.NavigateHomeIntent",
}
MIN_CUSTOM_SAMPLES = 12
# A sample that is nothing but a slot catches whatever Alexa cannot place elsewhere; only a
# bare exercise name ("pencil pickups") is worth that.
SLOT_ONLY_SAMPLES = {("GoToExerciseIntent", "{exercise}")}

# Lowercase words (apostrophes only inside a word, as in "i'm") or {slot} references, one space
# apart. Alexa rejects digits and other punctuation; numbers have to be spelled out.
_WORD = r"[a-z]+(?:'[a-z]+)*"
_SAMPLE_RULE = re.compile(rf"^(?:{_WORD}|\{{\w+\}})(?: (?:{_WORD}|\{{\w+\}}))*$")
_VALUE_RULE = re.compile(rf"^{_WORD}(?: {_WORD})*$")
_SLOT_REF = re.compile(r"\{(\w+)\}")


def _key(sample: str) -> str:
    """Comparison key for utterances: case-insensitive, punctuation stripped, spaces collapsed."""
    return " ".join(re.sub(r"[^\w'{} ]", " ", sample.lower()).split())


@pytest.fixture(scope="module", params=MODEL_PATHS, ids=lambda path: path.stem)
def language_model(request: pytest.FixtureRequest) -> dict[str, Any]:
    """One locale's parsed languageModel section; parsing itself is the first check."""
    path: pathlib.Path = request.param
    return json.loads(path.read_text(encoding="utf-8"))["interactionModel"]["languageModel"]


@pytest.fixture(scope="module")
def intents(language_model: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Intents by name."""
    return {intent["name"]: intent for intent in language_model["intents"]}


@pytest.fixture(scope="module")
def exercise_values(language_model: dict[str, Any]) -> list[dict[str, Any]]:
    """The EXERCISE_NAME slot type's values."""
    (exercise_type,) = [t for t in language_model["types"] if t["name"] == "EXERCISE_NAME"]
    return exercise_type["values"]


def _spoken_forms(values: list[dict[str, Any]]) -> list[str]:
    """Every name and synonym of a slot type's values."""
    return [form for v in values for form in [v["name"]["value"], *v["name"].get("synonyms", [])]]


def test_invocation_name(language_model: dict[str, Any]) -> None:
    assert language_model["invocationName"] == "foot routine"


def test_intent_names_are_unique(language_model: dict[str, Any]) -> None:
    names = [intent["name"] for intent in language_model["intents"]]
    assert len(names) == len(set(names))


def test_design_intents_present(intents: dict[str, dict[str, Any]]) -> None:
    assert DESIGN_INTENTS - intents.keys() == set()


def test_custom_intents_have_enough_distinct_samples(intents: dict[str, dict[str, Any]]) -> None:
    counts = {
        name: len({_key(s) for s in intent["samples"]})
        for name, intent in intents.items()
        if not name.startswith("AMAZON.")
    }
    assert {name: n for name, n in counts.items() if n < MIN_CUSTOM_SAMPLES} == {}


def test_no_duplicate_samples_within_an_intent(intents: dict[str, dict[str, Any]]) -> None:
    for name, intent in intents.items():
        keys = [_key(s) for s in intent.get("samples", [])]
        assert len(keys) == len(set(keys)), name


def test_no_sample_belongs_to_two_intents(intents: dict[str, dict[str, Any]]) -> None:
    owners: dict[str, set[str]] = {}
    for name, intent in intents.items():
        for sample in intent.get("samples", []):
            owners.setdefault(_key(sample), set()).add(name)
    assert {s: o for s, o in owners.items() if len(o) > 1} == {}


def test_filled_slot_samples_do_not_shadow_other_intents(
    language_model: dict[str, Any], intents: dict[str, dict[str, Any]]
) -> None:
    """A slot sample filled with a listed value must not equal another intent's sample.

    "{exercise}" alone means every synonym is effectively a GoToExerciseIntent utterance, so a
    synonym like "next one" would silently steal NextExerciseIntent's phrase; "no {item}" must
    not take "no thanks" from AMAZON.NoIntent.
    """
    forms = {t["name"]: _spoken_forms(t["values"]) for t in language_model["types"]}
    literal = {
        _key(s): name
        for name, intent in intents.items()
        for s in intent.get("samples", [])
        if "{" not in s
    }
    clashes = []
    for name, intent in intents.items():
        declared = {slot["name"]: slot["type"] for slot in intent.get("slots", [])}
        for sample in intent.get("samples", []):
            for slot in _SLOT_REF.findall(sample):
                for form in forms.get(declared[slot], []):
                    owner = literal.get(_key(sample.replace(f"{{{slot}}}", form)), name)
                    if owner != name:
                        clashes.append((sample, form, owner))
    assert clashes == []


def test_only_a_bare_exercise_name_is_a_slot_only_sample(
    intents: dict[str, dict[str, Any]],
) -> None:
    slot_only = {
        (name, sample)
        for name, intent in intents.items()
        for sample in intent.get("samples", [])
        if _SLOT_REF.fullmatch(sample)
    }
    assert slot_only == SLOT_ONLY_SAMPLES


def test_samples_follow_alexa_character_rules(intents: dict[str, dict[str, Any]]) -> None:
    bad = [
        s
        for intent in intents.values()
        for s in intent.get("samples", [])
        if not _SAMPLE_RULE.match(s)
    ]
    assert bad == []


def test_sample_slots_are_declared_on_their_intent(
    language_model: dict[str, Any], intents: dict[str, dict[str, Any]]
) -> None:
    custom_types = {t["name"] for t in language_model["types"]}
    for name, intent in intents.items():
        declared = {slot["name"]: slot["type"] for slot in intent.get("slots", [])}
        for slot_type in declared.values():
            assert slot_type in custom_types or slot_type.startswith("AMAZON."), (name, slot_type)
        for sample in intent.get("samples", []):
            assert set(_SLOT_REF.findall(sample)) <= declared.keys(), (name, sample)


def test_go_to_exercise_slot_uses_exercise_name(intents: dict[str, dict[str, Any]]) -> None:
    assert intents["GoToExerciseIntent"]["slots"] == [{"name": "exercise", "type": "EXERCISE_NAME"}]


def test_next_belongs_only_to_amazon_next_intent(intents: dict[str, dict[str, Any]]) -> None:
    """Both next-ish intents advance, but one word must not carry two meanings."""
    owners = [name for name, i in intents.items() if "next" in map(_key, i.get("samples", []))]
    assert owners == ["AMAZON.NextIntent"]


def test_fallback_and_navigate_home_keep_builtin_behaviour(
    intents: dict[str, dict[str, Any]],
) -> None:
    assert intents["AMAZON.FallbackIntent"].get("samples", []) == []
    assert intents["AMAZON.NavigateHomeIntent"].get("samples", []) == []


def test_exercise_values_are_the_routines_exercises_in_order(
    exercise_values: list[dict[str, Any]],
) -> None:
    assert [value["id"] for value in exercise_values] == [
        exercise.id for exercise in load_routine().exercises
    ]


def test_no_equipment_slot_uses_equipment(intents: dict[str, dict[str, Any]]) -> None:
    assert intents["NoEquipmentIntent"]["slots"] == [{"name": "item", "type": "EQUIPMENT"}]


@pytest.mark.parametrize("path", MODEL_PATHS, ids=lambda path: path.stem)
def test_the_routines_equipment_fills_the_item_slot(path: pathlib.Path) -> None:
    """"I don't have" + what the routine asks for names that item, in every model."""
    resolver = Resolver.from_model_file(path)
    needed = {
        choice
        for exercise in load_routine().exercises
        for item in exercise.equipment
        for choice in item.split(" or ")
    }
    assert needed
    for choice in needed:
        readings = resolver.readings(f"i don't have {choice}")
        assert [(r.intent, r.slots["item"].value_id is not None) for r in readings] == [
            ("NoEquipmentIntent", True)
        ], choice


def test_exercise_names_and_synonyms_are_unique(exercise_values: list[dict[str, Any]]) -> None:
    forms = [_key(form) for form in _spoken_forms(exercise_values)]
    assert [f for f in set(forms) if forms.count(f) > 1] == []


def test_exercise_names_follow_alexa_character_rules(
    exercise_values: list[dict[str, Any]],
) -> None:
    assert [f for f in _spoken_forms(exercise_values) if not _VALUE_RULE.match(f)] == []
