"""SSML rendering and Alexa's hard limits."""

from __future__ import annotations

import re
from xml.etree import ElementTree

import pytest

from skill.speech import (
    MAX_RESPONSE_BYTES,
    Pause,
    Say,
    SpeechLimitError,
    check_response_size,
    to_ssml,
    to_text,
)


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
    assert to_text((Say("Hold."), Pause(10), Say("Relax."))) == "Hold. [10s] Relax."
