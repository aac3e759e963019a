"""SSML rendering and Alexa's hard limits."""

from __future__ import annotations

import json
import re
from xml.etree import ElementTree

import pytest
from ask_sdk_core.attributes_manager import AttributesManager
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import RequestEnvelope, Response, ResponseEnvelope, Session
from ask_sdk_model.interfaces.alexa.presentation.apl import RenderDocumentDirective
from ask_sdk_model.ui import SimpleCard, SsmlOutputSpeech

from skill.alexa.handlers import KeepResponseUnderLimit
from skill.conversation.speech import (
    MAX_RESPONSE_BYTES,
    Name,
    Pause,
    Say,
    SpeechLimitError,
    check_response_size,
    from_ssml,
    to_ssml,
)
from skill.conversation.timeline import to_console


def test_escapes_every_xml_special_character():
    ssml = to_ssml((Say("""Toes & heels < > "quoted" it's"""),))
    root = ElementTree.fromstring(ssml)
    assert root.text == """Toes & heels < > "quoted" it's"""


def test_long_pauses_become_several_breaks_of_at_most_ten_seconds():
    ssml = to_ssml((Say("Walk."), Pause(25), Say("Rest.")))
    breaks = [int(ms) for ms in re.findall(r'<break time="(\d+)ms"/>', ssml)]
    assert breaks == [10_000, 10_000, 5_000]
    ElementTree.fromstring(ssml)


def test_fractional_pauses_keep_their_length():
    assert '<break time="600ms"/>' in to_ssml((Pause(0.6),))


def test_speech_over_eight_thousand_characters_is_refused():
    with pytest.raises(SpeechLimitError):
        to_ssml((Say("x" * 8000),))


def test_response_over_24_kb_is_refused():
    assert check_response_size({"a": "x" * 100}) < MAX_RESPONSE_BYTES
    with pytest.raises(SpeechLimitError):
        check_response_size({"a": "x" * MAX_RESPONSE_BYTES})


def test_text_form_shows_pauses():
    assert to_console((Say("Hold."), Pause(10), Say("Relax."))) == "Hold. [10s] Relax."


def test_ssml_reads_back_as_the_speech_a_listener_hears():
    """Alexa's 10 s limit splits a 25 s pause into three breaks; read back, it is one."""
    speech = (Say("Hello,"), Name("amzn1.ask.person.A&B"), Say(". Toes & heels <up>."),
              Pause(25), Say("Relax, it's done."))
    assert from_ssml(to_ssml(speech)) == speech
    assert to_console(from_ssml(to_ssml(speech)), {"amzn1.ask.person.A&B": "Ann"}) == (
        "Hello, [Ann]. Toes & heels <up>. [25s] Relax, it's done.")


# The 24 KB limit at runtime: optional parts go before an oversize response is ever sent.

def _turn(response: Response, session_attributes: dict | None = None) -> HandlerInput:
    envelope = RequestEnvelope(session=Session(new=False, session_id="s",
                                               attributes=session_attributes or {}))
    return HandlerInput(request_envelope=envelope, attributes_manager=AttributesManager(
        request_envelope=envelope))


def _response(screen_bytes: int, card_bytes: int) -> Response:
    return Response(
        output_speech=SsmlOutputSpeech(ssml="<speak>Rest.</speak>"),
        card=SimpleCard(title="Toe walking", content="x" * card_bytes),
        directives=[
            RenderDocumentDirective(token="t", document={"filler": "x" * screen_bytes}),
            {"type": "Alexa.Presentation.APLA.RenderDocument", "document": {}},
        ],
    )


def _types(response: Response) -> list[str]:
    return [d["type"] if isinstance(d, dict) else d.object_type for d in response.directives or []]


def _sent_bytes(response: Response, handler_input: HandlerInput) -> int:
    envelope = ResponseEnvelope(response=response, version="1.0", session_attributes=(
        handler_input.attributes_manager.session_attributes), user_agent="ua")
    return len(json.dumps(DefaultSerializer().serialize(envelope)))


def test_a_response_just_under_the_limit_is_sent_whole():
    small = _response(screen_bytes=0, card_bytes=2_000)
    filler = MAX_RESPONSE_BYTES - _sent_bytes(small, _turn(small)) - 200  # room for the agent
    response = _response(screen_bytes=filler, card_bytes=2_000)
    KeepResponseUnderLimit().process(_turn(response), response)
    assert response.card is not None
    assert _types(response) == ["Alexa.Presentation.APL.RenderDocument",
                                "Alexa.Presentation.APLA.RenderDocument"]


def test_an_oversize_response_loses_its_screen_first(caplog):
    response = _response(screen_bytes=MAX_RESPONSE_BYTES, card_bytes=2_000)
    KeepResponseUnderLimit().process(_turn(response), response)
    assert _types(response) == ["Alexa.Presentation.APLA.RenderDocument"], "the sound stays"
    assert response.card is not None and response.output_speech is not None
    assert "without its screen" in caplog.text


def test_then_its_card():
    response = _response(screen_bytes=MAX_RESPONSE_BYTES, card_bytes=MAX_RESPONSE_BYTES)
    KeepResponseUnderLimit().process(_turn(response), response)
    assert response.card is None
    assert response.output_speech.ssml == "<speak>Rest.</speak>"


def test_a_response_too_big_without_them_is_refused():
    response = _response(screen_bytes=0, card_bytes=0)
    handler_input = _turn(response, {"filler": "x" * MAX_RESPONSE_BYTES})
    with pytest.raises(SpeechLimitError):
        KeepResponseUnderLimit().process(handler_input, response)


def test_a_turn_walks_its_response_once_and_sends_what_was_measured(monkeypatch):
    """The size check and the answer share one serialisation of the response (a set's turn
    carries a few hundred values of APL for Audio), and what is sent is what was measured."""
    from bench.dialogue import LAUNCH, full_routine, lambda_handler_on, new_device, send
    from skill.alexa.app import build_skill
    from skill.alexa.serializer import FastSerializer
    from skill.storage.store import MemoryStore

    walks: list[object] = []
    serialize, to_dict = FastSerializer.serialize, SsmlOutputSpeech.to_dict

    def counted_serialize(self, obj):
        if isinstance(obj, SsmlOutputSpeech):
            walks.append(obj)
        return serialize(self, obj)

    def counted_to_dict(self):
        walks.append(self)
        return to_dict(self)

    with lambda_handler_on(build_skill(MemoryStore())) as handler:
        full_routine(handler, new_device("warm-up"))
        monkeypatch.setattr(FastSerializer, "serialize", counted_serialize)
        monkeypatch.setattr(SsmlOutputSpeech, "to_dict", counted_to_dict)
        turn = send(handler, new_device("once"), LAUNCH)
    assert walks, "the response was never serialised"
    assert len(walks) == len({id(speech) for speech in walks}), "a speech walked twice"
    assert turn.response["response"]["outputSpeech"]["ssml"] == walks[0].ssml


def test_the_answer_after_a_trim_is_the_trimmed_response():
    response = _response(screen_bytes=MAX_RESPONSE_BYTES, card_bytes=2_000)
    handler_input = _turn(response)
    KeepResponseUnderLimit().process(handler_input, response)
    from skill.alexa.serializer import FastSerializer

    sent = ResponseEnvelope(response=response, version="1.0", session_attributes=(
        handler_input.attributes_manager.session_attributes), user_agent="ua")
    assert FastSerializer().serialize(sent) == DefaultSerializer().serialize(sent)
    assert len(json.dumps(FastSerializer().serialize(sent))) <= MAX_RESPONSE_BYTES
