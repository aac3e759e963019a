"""The faster serializer decodes exactly what the SDK's own does."""

from __future__ import annotations

import ast
import inspect
import json
import textwrap
import warnings
from enum import Enum
from pathlib import Path

import pytest
from ask_sdk_core.exceptions import SerializationException
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import RequestEnvelope

from skill.alexa.serializer import FastSerializer, JsonMap, _plan
from skill.tools.envelopes import Device, slot

EVENTS = sorted((Path(__file__).parent / "events").glob("*.json"))


def test_the_sdk_still_has_the_hooks_we_override_and_use():
    for name in ("_DefaultSerializer__deserialize", "_DefaultSerializer__deserialize_model",
                 "_DefaultSerializer__deserialize_primitive",
                 "_DefaultSerializer__deserialize_datetime",
                 "_DefaultSerializer__get_obj_by_discriminator",
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
    attributes["odd"] = {"a set": {1, 2}, "in a list": [1, {3}]}
    odd = copy.deepcopy(attributes)["odd"]
    assert odd == {"a set": {1, 2}, "in a list": [1, {3}]}
    assert odd["a set"] is not attributes["odd"]["a set"]
    assert odd["in a list"][1] is not attributes["odd"]["in a list"][1]


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


def _assert_same(ours, theirs, where="envelope"):
    """The same classes holding the same attributes in the same order, all the way down
    (more than ==, which lets a subclass pass); session attributes may be our JsonMap."""
    if type(ours) is JsonMap and type(theirs) is dict:
        assert ours == theirs, where
        return
    assert type(ours) is type(theirs), where
    if isinstance(theirs, list):
        assert len(ours) == len(theirs), where
        for index, (mine, sdk) in enumerate(zip(ours, theirs, strict=True)):
            _assert_same(mine, sdk, f"{where}[{index}]")
    elif isinstance(theirs, dict):
        assert list(ours) == list(theirs), where
        for key in theirs:
            _assert_same(ours[key], theirs[key], f"{where}[{key!r}]")
    elif hasattr(theirs, "deserialized_types") and not isinstance(theirs, Enum):
        assert list(vars(ours)) == list(vars(theirs)), where
        for name, value in vars(theirs).items():
            _assert_same(vars(ours)[name], value, f"{where}.{name}")
    else:
        assert ours == theirs, where


def _decodes_as_the_sdk_does(payload: dict, kind: str = "ask_sdk_model.RequestEnvelope"):
    """`payload` decoded by the SDK, and by us from its text and from the parsed dict:
    the same models, or a SerializationException with the same message."""
    text = json.dumps(payload)
    try:
        theirs = DefaultSerializer().deserialize(text, kind)
    except SerializationException as error:
        for decode in (lambda: FastSerializer().deserialize(text, kind),
                       lambda: FastSerializer().deserialize_parsed(json.loads(text), kind)):
            with pytest.raises(SerializationException) as ours:
                decode()
            assert str(ours.value) == str(error)
        return None
    _assert_same(FastSerializer().deserialize(text, kind), theirs)
    _assert_same(FastSerializer().deserialize_parsed(json.loads(text), kind), theirs)
    return theirs


def _devices() -> list[Device]:
    """A bare device, and one with every interface, a voice and a permission."""
    screen = Device(user_id="amzn1.ask.account.SCREEN", person_id="amzn1.ask.person.ANN",
                    consent_token="token", interfaces={
                        "Alexa.Presentation.APL": {"runtime": {"maxVersion": "2023.3"}},
                        "Alexa.Presentation.APLA": {"runtime": {"maxVersion": "0.1"}},
                        "AudioPlayer": {}, "Display": {"templateVersion": "1.0"}})
    return [Device(), screen]


def _requests(device: Device) -> list[dict]:
    """An envelope of every kind the skill is sent, from one device."""
    found = slot("exercise", "toe presses", "toe_presses", "toe presses")
    made = [device.launch(), device.intent("AMAZON.YesIntent"),
            device.intent("JumpToExerciseIntent", {"exercise": found}),
            device.intent("JumpToExerciseIntent", {"exercise": slot("exercise", "toes")}),
            device.touch("next", "toe_presses"), device.session_ended("ERROR"),
            device.can_fulfill("StartRoutineIntent", {"exercise": found}),
            device.skill_disabled()]
    connections = device.launch()
    connections["request"] = {
        "type": "Connections.Response", "requestId": "amzn1.echo-api.request.1",
        "timestamp": "2026-11-24T08:00:00Z", "locale": "en-US", "name": "AskFor",
        "status": {"code": "200", "message": "OK"}, "token": "reminders",
        "payload": {"permissionScope": "alexa::alerts:reminders:skill:readwrite",
                    "status": "ACCEPTED"}}
    viewport = device.launch()
    viewport["context"]["Viewport"] = {"experiences": [{"canRotate": False, "canResize": False}],
                                       "shape": "RECTANGLE", "pixelWidth": 1024,
                                       "pixelHeight": 600, "dpi": 160, "currentPixelWidth": 1024,
                                       "currentPixelHeight": 600, "touch": ["SINGLE"],
                                       "keyboard": ["DIRECTION"]}
    return [*made, connections, viewport]


@pytest.mark.parametrize("device", _devices(), ids=["bare", "screen"])
def test_every_kind_of_request_decodes_as_the_sdk_does(device):
    for payload in _requests(device):
        decoded = _decodes_as_the_sdk_does(payload)
        assert decoded is not None and decoded.request.object_type == payload["request"]["type"]


def test_events_and_a_routine_decode_to_the_very_same_models():
    for payload in [json.loads(path.read_text()) for path in EVENTS] + _routine_envelopes():
        kind = "ask_sdk_model.RequestEnvelope" if "request" in payload else (
            "ask_sdk_model.ResponseEnvelope")
        assert _decodes_as_the_sdk_does(payload, kind) is not None


# (path in the envelope, value put there): values of the wrong type or unknown, at every
# level and of every kind of field; the SDK makes a model of some, fails on others.
ODD_VALUES = [
    (("version",), 1), (("version",), {"a": 1}), (("session",), "abc"), (("session",), ["x"]),
    (("session",), 5), (("session",), None), (("session", "new"), "yes"),
    (("session", "attributes"), ["not", "a", "map"]), (("session", "attributes"), "text"),
    (("session", "attributes"), None), (("session", "user"), "sessionId"),
    (("request", "timestamp"), "not a date"), (("request", "timestamp"), 12345),
    (("request", "timestamp"), "Tue, 24 Nov 2026 08:00:00 GMT"),
    (("request", "dialogState"), "NOT_A_STATE"), (("request", "dialogState"), ["x"]),
    (("request", "dialogState"), None), (("request", "type"), "NoSuchRequest"),
    (("request", "type"), None), (("request", "type"), ["IntentRequest"]),
    (("request",), {"requestId": "no type"}), (("request",), "IntentRequest"),
    (("request", "intent"), None), (("request", "intent"), []),
    (("request", "intent", "slots"), ["a"]), (("request", "intent", "slots"), {"a": "b"}),
    (("request", "intent", "slots"), {"a": None}), (("request", "intent", "slots"), "slots"),
    (("request", "intent", "slots", "exercise", "resolutions", "resolutionsPerAuthority"),
     "text"),
    (("request", "intent", "slots", "exercise", "resolutions", "resolutionsPerAuthority"),
     [None, {"status": {"code": "NOPE"}}]),
    (("request", "intent", "confirmationStatus"), 3),
    (("context", "System", "device", "supportedInterfaces"), {"Display": 3}),
    (("context", "System", "device", "supportedInterfaces"), {"AudioPlayer": []}),
    (("context", "System", "user", "userId"), None), (("context", "System"), []),
    (("request", "locale"), {"a": 1}), (("request", "locale"), 2.5),
    # Keys the SDK does not know: kept as they are, after the known ones.
    (("request", "somethingNew"), {"x": 1}), (("request", "object_type"), "odd"),
    (("request", "_IntentRequest__discriminator_value"), "odd"),
    (("session", "brandNew"), [1]), (("context", "Some.Interface"), {"v": 1}),
    (("context", "System", "device", "supportedInterfaces", "Future.Interface"), {}),
]


@pytest.mark.parametrize(("path", "value"), ODD_VALUES, ids=lambda v: repr(v)[:40])
def test_odd_values_decode_or_fail_as_the_sdk_does(path, value):
    payload = Device(interfaces={"AudioPlayer": {}}).intent(
        "JumpToExerciseIntent", {"exercise": slot("exercise", "toes", "toe_presses")})
    payload["session"]["new"] = False
    payload["session"]["attributes"] = {"progress": {"done": ["a"]}}
    *parents, last = path
    place = payload
    for key in parents:
        place = place[key]
    place[last] = value
    _decodes_as_the_sdk_does(payload)


def _reachable_models() -> list[type]:
    """Every model class an envelope (request or response) can decode to: the types its
    fields name, and every subclass a discriminator can choose, all the way down."""
    serializer = FastSerializer()
    seen: dict[str, type] = {}
    names = ["ask_sdk_model.RequestEnvelope", "ask_sdk_model.ResponseEnvelope"]
    while names:
        name = names.pop()
        if name in seen or name in DefaultSerializer.NATIVE_TYPES_MAPPING:
            continue
        if name.startswith(("list[", "dict(")):
            inner = name[5:-1].split(", ", 1)[-1] if name.startswith("dict(") else name[5:-1]
            names.extend(part.strip() for part in inner.split(","))
            continue
        kind = seen[name] = serializer._DefaultSerializer__load_class_from_name(name)
        if not issubclass(kind, Enum):
            names.extend(kind.deserialized_types.values())
            names.extend(getattr(kind, "discriminator_value_class_map", {}).values())
    return [kind for kind in seen.values() if not issubclass(kind, Enum)]


def _only_assigns(function) -> list[str]:
    """The statements of `function` other than a docstring, `self.x = <a parameter, a
    constant or self.y>` and `super(...).__init__(<such values>)`."""
    def plain(node: ast.AST) -> bool:
        return isinstance(node, ast.Name | ast.Constant) or (
            isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id == "self")

    with warnings.catch_warnings():  # the SDK's docstrings hold escapes such as "\&"
        warnings.simplefilter("ignore", DeprecationWarning)
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    odd = []
    for statement in tree.body[0].body:
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue
        if (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Attribute)
                and plain(statement.targets[0]) and plain(statement.value)):
            continue
        call = statement.value if isinstance(statement, ast.Expr) else None
        if (isinstance(call, ast.Call) and ast.unparse(call.func).startswith("super(")
                and ast.unparse(call.func).endswith(".__init__")
                and all(plain(argument) for argument in call.args)
                and all(plain(keyword.value) for keyword in call.keywords)):
            continue
        odd.append(ast.unparse(statement))
    return odd


def test_every_model_an_envelope_can_hold_is_made_from_its_defaults():
    """What the fast path relies on, over every class it can meet: a model's __init__ only
    assigns (so a copy of a default instance's attributes, updated, is what the SDK's
    `kind()` and setattr calls make), and the plan is there for each."""
    models = _reachable_models()
    assert len(models) > 300  # the walk found the SDK's models, not just a few
    for kind in models:
        for klass in kind.__mro__[:-1]:
            if "__init__" in vars(klass):
                assert _only_assigns(vars(klass)["__init__"]) == [], klass
        assert _plan(kind) is not None, kind


def test_a_decoded_model_shares_nothing_with_the_next():
    """The defaults are copied, never shared: a model changed by a turn does not change
    the next request's."""
    device = Device()
    first = FastSerializer().deserialize_parsed(device.intent("AMAZON.HelpIntent"),
                                                RequestEnvelope)
    first.request.dialog_state = "changed"
    first.context.system.device.supported_interfaces.audio_player = "changed"
    payload = device.intent("AMAZON.HelpIntent")
    del payload["request"]["dialogState"]
    second = FastSerializer().deserialize_parsed(payload, RequestEnvelope)
    assert second.request.dialog_state is None
    assert second.context.system.device.supported_interfaces.audio_player is None
    assert second == DefaultSerializer().deserialize(json.dumps(payload),
                                                     "ask_sdk_model.RequestEnvelope")
