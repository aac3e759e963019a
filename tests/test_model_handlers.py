"""The interaction model and the handlers agree: nothing said goes unhandled."""

from __future__ import annotations

import json
from pathlib import Path

from skill.alexa.handlers import INTENT_EVENTS
from skill.content.routine import load_routine

MODELS = sorted((Path(__file__).resolve().parents[1] / "interaction_model").glob("*.json"))


def _model(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))["interactionModel"]["languageModel"]


def test_every_model_intent_has_a_handler_and_back():
    assert MODELS
    for path in MODELS:
        intents = {intent["name"] for intent in _model(path)["intents"]}
        assert intents == set(INTENT_EVENTS), path.name


def test_every_exercise_slot_value_resolves_to_an_exercise():
    routine = load_routine()
    for path in MODELS:
        (exercises,) = [t for t in _model(path)["types"] if t["name"] == "EXERCISE_NAME"]
        for value in exercises["values"]:
            assert routine.index_of(value["id"]) is not None, value["id"]
            assert routine.find(value["name"]["value"]) == routine.index_of(value["id"])
