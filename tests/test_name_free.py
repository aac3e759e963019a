"""The name-free interaction container in every interaction model, against Amazon's rules.

Amazon's Name-free Interaction Toolkit ("Use the Name-free Interaction Toolkit in CLI / SMAPI /
the developer console", developer.amazon.com/docs/custom-skills/using-nfi-toolkit-cli.html)
puts a ``_nameFreeInteraction`` container in the interaction model, beside ``languageModel``,
holding ``ingressPoints``:

* a skill launch phrase: ``type`` LAUNCH and no ``name``; up to five per skill;
* an intent launch phrase: ``type`` INTENT and ``name`` an existing (custom) intent of the
  language model; up to five per ingress point;
* each sample utterance ``{"format": "RAW_TEXT", "value": ...}``, a complete phrase, no slots.

The model build only reports a broken container at deploy time, so these checks run on every
test run. Each phrase must also be one the skill itself understands (via the same resolver the
console uses), so a user who says it again inside a session gets what they asked for.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from skill.tools.nlu import Resolver
from tests.template_loader import REPO_ROOT

MODEL_PATHS = sorted((REPO_ROOT / "interaction_model").glob("*.json"))
MAX_PHRASES = 5
START_INTENT = "StartRoutineIntent"
# Lowercase words, apostrophes only inside a word, one space apart: the sample-utterance rule,
# without slots.
_PHRASE_RULE = re.compile(r"^[a-z]+(?:'[a-z]+)*(?: [a-z]+(?:'[a-z]+)*)*$")


@pytest.fixture(scope="module", params=MODEL_PATHS, ids=lambda path: path.stem)
def model_path(request: pytest.FixtureRequest) -> Path:
    return request.param


@pytest.fixture(scope="module")
def interaction_model(model_path: Path) -> dict[str, Any]:
    return json.loads(model_path.read_text(encoding="utf-8"))["interactionModel"]


@pytest.fixture(scope="module")
def ingress_points(interaction_model: dict[str, Any]) -> list[dict[str, Any]]:
    return interaction_model["_nameFreeInteraction"]["ingressPoints"]


def _phrases(point: dict[str, Any]) -> list[str]:
    return [utterance["value"] for utterance in point["sampleUtterances"]]


def test_container_sits_beside_the_language_model(interaction_model: dict[str, Any]) -> None:
    assert "_nameFreeInteraction" not in interaction_model["languageModel"]
    assert set(interaction_model["_nameFreeInteraction"]) == {"ingressPoints"}


def test_ingress_points_have_the_documented_fields(ingress_points: list[dict[str, Any]]) -> None:
    for point in ingress_points:
        assert point["type"] in {"LAUNCH", "INTENT"}, point
        expected = {"type", "sampleUtterances"} | ({"name"} if point["type"] == "INTENT" else set())
        assert set(point) == expected, point


def test_one_skill_launch_point_without_a_name(ingress_points: list[dict[str, Any]]) -> None:
    launches = [point for point in ingress_points if point["type"] == "LAUNCH"]
    assert len(launches) == 1
    assert "name" not in launches[0]


def test_intent_points_name_existing_custom_intents(
    interaction_model: dict[str, Any], ingress_points: list[dict[str, Any]]
) -> None:
    intents = {intent["name"] for intent in interaction_model["languageModel"]["intents"]}
    names = [point["name"] for point in ingress_points if point["type"] == "INTENT"]
    assert len(names) == len(set(names))
    assert set(names) <= intents
    assert [name for name in names if name.startswith("AMAZON.")] == []
    assert START_INTENT in names


def test_intent_points_need_no_slots(
    interaction_model: dict[str, Any], ingress_points: list[dict[str, Any]]
) -> None:
    """A phrase cannot carry slots, so an intent that needs one cannot be an ingress point."""
    slots = {
        intent["name"]: intent.get("slots", [])
        for intent in interaction_model["languageModel"]["intents"]
    }
    for point in ingress_points:
        if point["type"] == "INTENT":
            assert slots[point["name"]] == [], point["name"]


def test_utterances_are_raw_text_without_slots(ingress_points: list[dict[str, Any]]) -> None:
    for point in ingress_points:
        for utterance in point["sampleUtterances"]:
            assert utterance.keys() == {"format", "value"}, utterance
            assert utterance["format"] == "RAW_TEXT", utterance
            assert "{" not in utterance["value"] and "}" not in utterance["value"], utterance
            assert _PHRASE_RULE.match(utterance["value"]), utterance


def test_at_most_five_phrases_per_ingress_point(ingress_points: list[dict[str, Any]]) -> None:
    for point in ingress_points:
        assert 1 <= len(point["sampleUtterances"]) <= MAX_PHRASES, point


def test_phrases_are_complete_distinct_and_about_feet(
    ingress_points: list[dict[str, Any]],
) -> None:
    """Complete phrases (no bare "start"), each used once, and specific enough to be ours."""
    phrases = [phrase for point in ingress_points for phrase in _phrases(point)]
    assert len(phrases) == len(set(phrases))
    assert [p for p in phrases if len(p.split()) < 3] == []
    assert [p for p in phrases if "foot" not in p.split()] == []


def test_every_phrase_is_understood_by_the_skill(
    model_path: Path, ingress_points: list[dict[str, Any]]
) -> None:
    """Intent phrases resolve to their intent, skill launch phrases to starting the routine."""
    resolver = Resolver.from_model_file(model_path)
    for point in ingress_points:
        expected = point.get("name", START_INTENT)
        for phrase in _phrases(point):
            resolved = resolver.resolve(phrase)
            assert resolved is not None and resolved.intent == expected, (phrase, resolved)
            assert resolved.slots == {}
