"""Screens (APL) and Alexa app cards."""

from __future__ import annotations

import json
import re

import pytest

from skill.alexa.screens import APL_DIR, apl_document, data_source
from skill.conversation.coach import coach_for
from skill.conversation.progress import Progress
from skill.conversation.speech import MAX_RESPONSE_BYTES
from skill.conversation.values import Event, EventKind
from skill.tools.envelopes import Device
from tests.conversation import Conversation, places
from tests.test_coach import NOW

APL = {"Alexa.Presentation.APL": {"runtime": {"maxVersion": "2023.3"}}}
BINDING = re.compile(r"\$\{([^}]*)\}")


def screen_device(talk) -> Conversation:
    conversation = talk()
    conversation.device = Device(interfaces=APL)
    return conversation


def every_screen():
    coach = coach_for("en-US")
    for position in places(coach.routine):
        progress = Progress(position=position, briefed=True)
        _, reply = coach.handle(progress, Event(EventKind.REPEAT), NOW)
        yield reply.screen


@pytest.mark.parametrize("path", sorted(APL_DIR.glob("*.json")), ids=lambda p: p.name)
def test_documents_are_valid_apl_json(path):
    document = json.loads(path.read_text())
    assert document["type"] == "APL"
    assert re.fullmatch(r"\d{4}\.\d", document["version"])
    assert document["mainTemplate"]["parameters"] == ["payload"]
    assert document["mainTemplate"]["items"]


def test_every_bound_payload_field_exists_in_the_data_source():
    text = json.dumps(apl_document())
    fields = set(re.findall(r"payload\.([A-Za-z]+)\.([A-Za-z]+)", text))
    assert fields
    for screen in every_screen():
        source = data_source(screen)
        for group, name in fields:
            assert name in source[group], f"payload.{group}.{name} is not in the data source"


def test_every_binding_is_a_known_name():
    known = {"payload", "remaining", "Math"}
    for expression in BINDING.findall(json.dumps(apl_document())):
        names = set(re.findall(r"[A-Za-z_]+", expression.split("?")[0])) - {"floor"}
        assert names <= known | {"exercise", "countdownSeconds"} | set(
            data_source(next(every_screen()))["exercise"]), expression


def test_screen_device_gets_the_directive_and_a_card_under_24_kb(talk):
    alexa = screen_device(talk)
    alexa.launch()
    turns = [alexa.say("StartRoutineIntent")]
    for _ in range(20):
        turns.append(alexa.say("NextExerciseIntent"))
    exercise_turns = [t for t in turns if "card" in t.body]
    assert len(exercise_turns) >= 10
    for turn in exercise_turns:
        # A set's rounds also carry their APL for Audio document: the screen is the other.
        [directive] = [d for d in turn.body["directives"]
                       if d["type"] == "Alexa.Presentation.APL.RenderDocument"]
        assert directive["datasources"]["exercise"]["position"].startswith("Exercise ")
        assert len(json.dumps(turn.response).encode()) <= MAX_RESPONSE_BYTES
    walk = next(t for t in exercise_turns if "Round one of six" in t.text)
    [screen] = [d for d in walk.body["directives"] if d["type"].endswith("APL.RenderDocument")]
    assert screen["datasources"]["exercise"]["countdownSeconds"] > 60


def test_headless_device_gets_speech_and_a_card_only(talk):
    alexa = talk()
    alexa.launch()
    heard = alexa.say("StartRoutineIntent")
    assert "directives" not in heard.body
    card = heard.body["card"]
    assert card["type"] == "Simple" and card["title"] == "Exercise 1 of 5: Toe presses"
    assert "not a substitute" in card["content"], "the first card carries the disclaimer"
    assert "10 times: hold for 5 seconds" in card["content"]
    later = alexa.say("NextExerciseIntent").body["card"]["content"]
    assert "not a substitute" not in later


def test_buttons_work_like_the_words(talk):
    alexa = screen_device(talk)
    alexa.launch()
    alexa.say("StartRoutineIntent")
    pressed = alexa.send(alexa.device.touch("next"))
    assert "Spread your toes" in pressed.text
    again = alexa.send(alexa.device.touch("repeat"))
    assert again.ssml == pressed.ssml
    odd = alexa.send(alexa.device.touch("dance"))
    assert "didn't catch that" in odd.text
