"""The faster serializer decodes exactly what the SDK's own does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ask_sdk_core.serialize import DefaultSerializer

from skill.serializer import FastSerializer

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
    assert json.dumps(FastSerializer().serialize(ours), sort_keys=True) == json.dumps(
        DefaultSerializer().serialize(theirs), sort_keys=True)


def test_odd_timestamps_fall_back_to_the_sdk_parser():
    envelope = json.loads(EVENTS[0].read_text())
    envelope["request"]["timestamp"] = "Tue, 24 Nov 2026 08:00:00 GMT"
    parsed = FastSerializer().deserialize(json.dumps(envelope), "ask_sdk_model.RequestEnvelope")
    assert parsed.request.timestamp.year == 2026
