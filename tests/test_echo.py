"""The simulated Echo itself: its clock, playback length, time-outs and limit checks."""

from __future__ import annotations

import pytest

from skill.conversation.speech import Pause, Say, to_ssml
from skill.conversation.timeline import Tick, to_apla
from tests.echo import DeviceRuleBroken, Echo, check_device_rules, playback_seconds


def _response(ssml: str = "<speak>Hi.</speak>", end: bool = False, **extra) -> dict:
    body = {"outputSpeech": {"type": "SSML", "ssml": ssml}, "shouldEndSession": end, **extra}
    if not end:
        body.setdefault("reprompt", {"outputSpeech": {"type": "SSML", "ssml": ssml}})
    return {"version": "1.0", "response": body}


def test_playback_counts_breaks_words_and_apla_silences() -> None:
    ssml = to_ssml((Say("one two three four five"), Pause(12)))
    directive = to_apla((Say("Hold."), Tick(20)))
    seconds = playback_seconds(_response(ssml, directives=[directive]))
    assert 12 + 20 < seconds < 12 + 20 + 5


@pytest.mark.parametrize(
    "response",
    [
        _response(reprompt=None) | {"response": {"shouldEndSession": False}},
        _response('<speak><break time="11000ms"/></speak>'),
        _response("<speak>" + "<audio src='x'/>" * 6 + "</speak>"),
        _response("<speak>" + "word " * 2000 + "</speak>"),
        _response(directives=[{"type": "Alexa.Presentation.APLA.RenderDocument",
                               "document": {"type": "APL", "version": "0.91"}}]),
    ],
    ids=["open-without-reprompt", "long-break", "six-clips", "too-long", "not-apla"],
)
def test_a_response_a_device_would_reject_is_caught(response: dict) -> None:
    with pytest.raises(DeviceRuleBroken):
        check_device_rules(response)


def test_requests_carry_the_simulated_clock_and_silence_ends_the_session() -> None:
    seen: list[dict] = []

    def handler(envelope: dict, context: object) -> dict:
        seen.append(envelope)
        return _response('<speak>Ready? <break time="5000ms"/> Go.</speak>')

    echo = Echo(handler)
    echo.open()
    echo.barge_in(3, "AMAZON.PauseIntent")
    echo.stay_silent()
    stamps = [envelope["request"]["timestamp"] for envelope in seen]
    assert stamps == sorted(stamps) and len(set(stamps)) == 3
    assert seen[-1]["request"] == seen[-1]["request"] | {
        "type": "SessionEndedRequest", "reason": "EXCEEDED_MAX_REPROMPTS"}
    assert not echo.in_session
