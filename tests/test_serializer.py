"""The faster serializer decodes exactly what the SDK's own does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import RequestEnvelope

from skill.alexa.serializer import FastSerializer

EVENTS = sorted((Path(__file__).parent / "events").glob("*.json"))


def test_the_sdk_still_has_the_hooks_we_override():
    for name in ("_DefaultSerializer__deserialize_datetime",
                 "_DefaultSerializer__load_class_from_name"):
        assert callable(getattr(DefaultSerializer, name, None)), name


@pytest.mark.parametrize("path", EVENTS, ids=lambda p: p.name)
def test_same_envelope_as_the_default_serializer(path):
    payload = path.read_text()
    ours = FastSerializer().deserialize(payload, "ask_sdk_model.RequestEnvelope")
    theirs = DefaultSerializer().deserialize(payload, "ask_sdk_model.RequestEnvelope")
    assert ours == theirs
    assert ours.request.timestamp == theirs.request.timestamp
    from_dict = FastSerializer().deserialize_parsed(json.loads(payload), RequestEnvelope)
    assert from_dict == theirs and from_dict.request.timestamp == theirs.request.timestamp
    assert json.dumps(FastSerializer().serialize(ours), sort_keys=True) == json.dumps(
        DefaultSerializer().serialize(theirs), sort_keys=True)


def test_odd_timestamps_fall_back_to_the_sdk_parser():
    envelope = json.loads(EVENTS[0].read_text())
    envelope["request"]["timestamp"] = "Tue, 24 Nov 2026 08:00:00 GMT"
    parsed = FastSerializer().deserialize(json.dumps(envelope), "ask_sdk_model.RequestEnvelope")
    assert parsed.request.timestamp.year == 2026


def _routine_envelopes() -> list[dict]:
    """Every request and response of a full routine through the Lambda handler: sessions
    with attributes, slots, APL for Audio documents, cards, reprompts."""
    from bench.dialogue import full_routine, lambda_handler_on, new_device
    from skill.alexa.app import build_skill
    from skill.storage.store import MemoryStore

    with lambda_handler_on(build_skill(MemoryStore())) as handler:
        turns = full_routine(handler, new_device("serializer"))
    return [turn.envelope for turn in turns] + [turn.response for turn in turns]


def test_a_routine_decodes_and_encodes_as_the_sdk_does():
    ours, theirs = FastSerializer(), DefaultSerializer()
    for payload in _routine_envelopes():
        kind = "ask_sdk_model.RequestEnvelope" if "request" in payload else (
            "ask_sdk_model.ResponseEnvelope")
        text = json.dumps(payload)
        mine, sdk = ours.deserialize(text, kind), theirs.deserialize(text, kind)
        assert mine == sdk
        # Lambda's path: the event as the dict Lambda hands over, never written out as text.
        assert ours.deserialize_parsed(json.loads(text), kind) == sdk
        # Key order too: what is sent is byte for byte what the SDK would send.
        assert json.dumps(ours.serialize(mine)) == json.dumps(theirs.serialize(sdk))


def test_values_that_are_not_plain_json_take_the_sdks_path():
    from datetime import UTC, date, datetime
    from decimal import Decimal
    from enum import Enum

    from ask_sdk_model.ui import PlayBehavior

    class Word(str):
        pass

    class Colour(Enum):
        RED = "red"

    value = {"when": datetime(2026, 11, 24, 8, 0, tzinfo=UTC), "day": date(2026, 11, 24),
             "pair": (1, Word("two")), "price": Decimal("2.50"), "count": Decimal(3),
             "enum": Colour.RED, "sdk_enum": PlayBehavior.ENQUEUE, "nothing": None,
             "nested": [{"a": [1.5, True, None]}]}
    assert FastSerializer().serialize(value) == DefaultSerializer().serialize(value)


def test_unknown_keys_and_bad_payloads_decode_as_the_sdk_does():
    from ask_sdk_core.exceptions import SerializationException

    envelope = json.loads(EVENTS[0].read_text())
    envelope["request"]["somethingNew"] = {"x": 1}
    text = json.dumps(envelope)
    ours = FastSerializer().deserialize(text, "ask_sdk_model.RequestEnvelope")
    theirs = DefaultSerializer().deserialize(text, "ask_sdk_model.RequestEnvelope")
    parsed = FastSerializer().deserialize_parsed(json.loads(text), RequestEnvelope)
    assert ours.request.somethingNew == theirs.request.somethingNew == {"x": 1}
    assert parsed == theirs and parsed.request.somethingNew == {"x": 1}
    envelope["request"]["type"] = "NoSuchRequest"
    for serializer in (FastSerializer(), DefaultSerializer()):
        with pytest.raises(SerializationException):
            serializer.deserialize(json.dumps(envelope), "ask_sdk_model.RequestEnvelope")
    with pytest.raises(SerializationException):
        FastSerializer().deserialize_parsed(envelope, RequestEnvelope)


def test_session_attributes_copy_deeply_and_cheaply():
    import copy

    envelope = json.loads(EVENTS[0].read_text())
    envelope["session"]["attributes"] = {"progress": {"done": ["a"], "position": {"set": 1}},
                                         "n": 1.5}
    parsed = FastSerializer().deserialize(json.dumps(envelope), "ask_sdk_model.RequestEnvelope")
    attributes = parsed.session.attributes
    copied = copy.deepcopy(attributes)
    assert copied == attributes and type(copied) is dict
    copied["progress"]["done"].append("b")
    copied["progress"]["position"]["set"] = 2
    assert attributes["progress"] == {"done": ["a"], "position": {"set": 1}}
    # Anything that is not JSON (only a caller's own dict could hold it) still copies deeply.
    attributes["odd"] = {"a set": {1, 2}}
    odd = copy.deepcopy(attributes)["odd"]["a set"]
    assert odd == {1, 2} and odd is not attributes["odd"]["a set"]


def test_an_envelope_of_the_measured_parts_is_sent_as_measured_and_another_is_not():
    """CustomSkill.invoke builds its own envelope from the response and session attributes
    the size check measured: that one is not walked again; a changed part is."""
    from ask_sdk_model import Response, ResponseEnvelope
    from ask_sdk_model.ui import SsmlOutputSpeech

    serializer = FastSerializer()
    response = Response(output_speech=SsmlOutputSpeech(ssml="<speak>Hi</speak>"))
    session = {"progress": {"done": ["toe-presses"]}}

    def envelope(**changes):
        parts = {"response": response, "version": "1.0", "session_attributes": session,
                 "user_agent": "ask-python/1.0"}
        return ResponseEnvelope(**{**parts, **changes})

    measured = serializer.measured(envelope())
    assert serializer.serialize(envelope(version=str(1.0))) is measured
    changed = serializer.serialize(envelope(session_attributes={"progress": {}}))
    assert changed is not measured and changed["sessionAttributes"] == {"progress": {}}
    assert serializer.serialize(envelope(response=Response())) is not measured
    assert measured == DefaultSerializer().serialize(envelope())
