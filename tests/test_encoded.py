"""JSON built once and sent many times: a set's APL for Audio is counted and sent exactly as
if it were encoded on every turn, and a remembered result belongs to one object only."""

from __future__ import annotations

import json
import sys

import pytest
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model.interfaces.alexa.presentation.apla import RenderDocumentDirective
from ask_sdk_model.ui import SimpleCard

from skill.alexa.serializer import FastSerializer, serialized_as
from skill.conversation.encoded import EncodedJson, by_identity
from skill.conversation.speech import Pause, Say, response_size
from skill.conversation.timeline import Chime, Mark, Tick, to_apla

ROUNDS = (Say("Press down, ünïcode & <tags>."), Mark(0, 1), Tick(20), Chime(), Pause(3),
          Mark(0, 2), Say("Round two."), Tick(12.5), Chime())
OTHER = {"type": "Alexa.Presentation.APL.RenderDocument", "token": "screen",
         "document": {"type": "APL", "items": ["é", 1.5, None, True]}}


def _envelope(directives: list[object] | None) -> dict[str, object]:
    body: dict[str, object] = {"outputSpeech": {"type": "SSML", "ssml": "<speak>Hi</speak>"},
                               "shouldEndSession": False}
    if directives is not None:
        body["directives"] = directives
    return {"version": "1.0", "sessionAttributes": {"progress": {"done": ["a", "ß"]}},
            "response": body}


@pytest.mark.parametrize("directives", [
    None, [], [OTHER], [to_apla(ROUNDS)], [to_apla(ROUNDS), OTHER],
    [OTHER, to_apla(ROUNDS), to_apla(ROUNDS[:3], "other")],
    [to_apla(ROUNDS), to_apla(ROUNDS[:3], "other")],
], ids=["none", "empty", "plain-only", "encoded-only", "encoded-then-plain", "mixed",
        "two-encoded"])
def test_the_size_is_the_bytes_json_dumps_sends(directives: list[object] | None) -> None:
    envelope = _envelope(directives)
    plain = json.loads(json.dumps(envelope))  # every EncodedJson now an ordinary dict
    assert response_size(envelope) == len(json.dumps(plain).encode("utf-8"))


def test_encoded_json_knows_its_length() -> None:
    directive = to_apla(ROUNDS)
    assert isinstance(directive, EncodedJson)
    assert directive.encoded_length == len(json.dumps(dict(directive)).encode("utf-8"))


def test_a_model_serialised_as_its_json_is_what_the_sdk_would_send() -> None:
    sent = to_apla(ROUNDS, "rounds")
    model = serialized_as(RenderDocumentDirective(
        token=sent["token"], document=sent["document"], datasources=sent["datasources"]), sent)
    serialized = FastSerializer().serialize({"directives": [model], "card": SimpleCard("t", "c")})
    assert serialized["directives"][0] is sent  # sent as it is, not walked
    assert serialized == DefaultSerializer().serialize(
        {"directives": [RenderDocumentDirective(token=sent["token"], document=sent["document"],
                                                datasources=sent["datasources"])],
         "card": SimpleCard("t", "c")})


def test_a_timeline_sent_again_is_the_same_directive_and_another_one_is_not() -> None:
    assert to_apla(ROUNDS, "rounds") is to_apla(ROUNDS, "rounds")
    equal_copy = ROUNDS[:1] + ROUNDS[1:]
    assert equal_copy == ROUNDS and equal_copy is not ROUNDS
    assert to_apla(equal_copy, "rounds") is not to_apla(ROUNDS, "rounds")
    assert to_apla(equal_copy, "rounds") == to_apla(ROUNDS, "rounds")
    assert to_apla(ROUNDS, "other")["token"] == "other"


def test_by_identity_remembers_per_object_and_forgets_the_oldest() -> None:
    calls: list[object] = []

    @by_identity(maxsize=2)
    def seen(value: object, suffix: str = "") -> str:
        calls.append(value)
        return f"{len(calls)}{suffix}"

    first, second, third = [1], [1], [1]  # equal, but three objects
    assert seen(first) == seen(first) == "1"
    assert seen(second) == "2"
    assert seen(first, suffix="!") == "3!"  # other arguments are part of the key
    assert seen(third) == "4"
    assert seen(first) == "5"  # forgotten: the oldest when the third entry came
    assert len(calls) == 5


def test_a_progress_session_form_is_sent_as_it_is_and_copied_as_json() -> None:
    import copy

    from skill.alexa.serializer import JsonMap
    from skill.conversation.encoded import PlainJson
    from skill.conversation.progress import Position, Progress

    form = Progress(position=Position("toe-presses", 1, 2), done=("a",)).session()
    assert type(form) is PlainJson
    assert FastSerializer().serialize({"progress": form})["progress"] is form
    assert FastSerializer().serialize(form) == DefaultSerializer().serialize(dict(form))
    # A console or test device may hand the same object back in the next request: the
    # SDK's per-turn copy of the session attributes is then a plain, separate dict.
    copied = copy.deepcopy(JsonMap({"progress": form}))["progress"]
    assert type(copied) is dict and copied == form and copied is not form
    assert copied["done"] is not form["done"]


def test_by_identity_stays_whole_when_threads_fill_it_at_once() -> None:
    import threading

    @by_identity(maxsize=8)
    def boxed(value: object) -> list[object]:
        return [value]

    failures: list[BaseException] = []

    def fill() -> None:
        try:
            for _ in range(20_000):
                value = object()
                assert boxed(value) == [value]
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            failures.append(error)

    threads = [threading.Thread(target=fill) for _ in range(4)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switch between any two steps, as under load
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        sys.setswitchinterval(interval)
    assert not failures and not any(thread.is_alive() for thread in threads)
