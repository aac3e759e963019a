"""Captured-shape Alexa JSON, straight through `skill.lambda_function.handler`."""

from __future__ import annotations

import json
from pathlib import Path

from skill import lambda_function

EVENTS = Path(__file__).parent / "events"
USER = "amzn1.ask.account.AEXAMPLEUSERID"


def load(name: str) -> dict:
    return json.loads((EVENTS / f"{name}.json").read_text())


def test_launch_from_an_echo_show(talk):
    response = lambda_function.handler(load("launch_echo_show"), None)
    assert "Welcome to Foot Routine" in response["response"]["outputSpeech"]["ssml"]
    assert response["response"]["shouldEndSession"] is False


def test_go_to_with_entity_resolution(talk):
    response = lambda_function.handler(load("go_to_pencil_pickups"), None)
    assert "Exercise 5 of 5" in response["response"]["outputSpeech"]["ssml"]


def test_session_ended_with_error_saves_the_place(talk, store):
    response = lambda_function.handler(load("session_ended_error"), None)
    assert "outputSpeech" not in response["response"]
    # The event's session holds a place from before rounds were kept: its first round.
    assert store.read(USER)["position"] == {"exercise": "ankle_circles", "set": 0, "rep": 1}


def test_skill_disabled_forgets_the_user(talk, store):
    lambda_function.handler(load("session_ended_error"), None)
    lambda_function.handler(load("skill_disabled"), None)
    assert store.read(USER) is None
