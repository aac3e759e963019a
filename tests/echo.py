"""A simulated Echo for dialogue tests: Alexa's clock, playback time, barge-in, time-outs.

It behaves as a device does (see README "How a session sounds on a device"):
- every request carries `request.timestamp` from a simulated clock, so multi-day behaviour
  is tested by moving the clock, and interruptions by where in a response they land;
- a response plays for as long as its audio lasts (APLA silences and clips exactly, words
  estimated); the next request comes after playback unless the test barges in at second N;
- after a response that keeps the session open the microphone listens ~8 s, the reprompt
  plays, it listens ~8 s more, then the session ends with EXCEEDED_MAX_REPROMPTS;
- outside a session only a launch or a one-shot ("ask foot routine to resume") reaches us;
- every response is checked against Alexa's limits before the test sees it.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from skill.conversation.speech import MAX_BREAK_SECONDS, MAX_RESPONSE_BYTES, MAX_SPEECH_CHARS
from skill.conversation.timeline import MAX_AUDIO_SECONDS
from skill.tools.envelopes import Device, slot
from tests.conversation import Heard, apla_directive, playback_seconds, stamp

LISTEN_SECONDS = 8.0
MAX_SSML_AUDIO_CLIPS = 5
_BREAK = re.compile(r'<break time="(\d+)ms"/>')


class DeviceRuleBroken(AssertionError):
    """The skill sent something a real device would reject or play wrongly."""


def check_device_rules(response: dict[str, Any]) -> None:
    """Alexa's limits, as the device enforces them."""
    size = len(json.dumps(response, separators=(",", ":")).encode())
    if size > MAX_RESPONSE_BYTES:
        raise DeviceRuleBroken(f"response is {size} bytes")
    body = response["response"]
    for where in (body.get("outputSpeech"), body.get("reprompt", {}).get("outputSpeech")):
        ssml = (where or {}).get("ssml", "")
        if len(ssml) > MAX_SPEECH_CHARS:
            raise DeviceRuleBroken(f"speech is {len(ssml)} characters")
        if any(int(ms) > MAX_BREAK_SECONDS * 1000 for ms in _BREAK.findall(ssml)):
            raise DeviceRuleBroken("a break over 10 s")
        if ssml.count("<audio") > MAX_SSML_AUDIO_CLIPS:
            raise DeviceRuleBroken("more than five SSML audio clips")
    directive = apla_directive(response)
    if directive is not None:
        document = directive.get("document", {})
        if (document.get("type"), document.get("version")) != ("APLA", "0.91"):
            raise DeviceRuleBroken(f"not an APLA 0.91 document: {document.get('type')}")
        if not document.get("mainTemplate", {}).get("items"):
            raise DeviceRuleBroken("APLA document without items")
    if playback_seconds(response) > MAX_AUDIO_SECONDS:
        raise DeviceRuleBroken(f"{playback_seconds(response):.0f} s of audio in one response")
    if body.get("shouldEndSession") is False and not body.get("reprompt"):
        raise DeviceRuleBroken("the session stays open without a reprompt")


@dataclass
class Echo:
    """One person at one Echo; the clock only moves forward."""

    handler: Any
    device: Device = field(default_factory=Device)
    clock: datetime = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    last: Heard | None = None
    _playing_from: datetime | None = None
    _playing_seconds: float = 0.0

    # -- time ------------------------------------------------------------------------

    def wait(self, seconds: float) -> Echo:
        self.clock += timedelta(seconds=seconds)
        return self

    def next_day(self, hour: int = 8) -> Echo:
        following = (self.clock + timedelta(days=1)).replace(hour=hour, minute=0, second=0)
        self.clock = following
        return self

    def _after_playback(self) -> None:
        """Speaking normally: the person answers once the response has played. The clock
        stays on whole seconds, as Alexa's timestamps are, so a barge-in at second N is
        exactly N seconds after the request the response answered."""
        if self._playing_from is not None:
            end = self._playing_from + timedelta(seconds=math.ceil(self._playing_seconds) + 1)
            self.clock = max(self.clock, end)

    # -- requests --------------------------------------------------------------------

    def _send(self, envelope: dict[str, Any]) -> Heard:
        envelope["request"]["timestamp"] = stamp(self.clock)
        response = self.handler(json.loads(json.dumps(envelope)), None)
        check_device_rules(response)
        self.device.receive(response)
        heard = Heard(response)
        self.last = heard
        self._playing_from = self.clock
        self._playing_seconds = playback_seconds(response)
        return heard

    @property
    def in_session(self) -> bool:
        return self.device.session_id is not None

    def open(self) -> Heard:
        """ "Alexa, open foot routine"."""
        self._after_playback()
        return self._send(self.device.launch())

    def say(self, intent: str, **slots: str) -> Heard:
        """The person answers after the response has played."""
        self._after_playback()
        return self._intent(intent, slots)

    def barge_in(self, at_second: float, intent: str, **slots: str) -> Heard:
        """ "Alexa, pause" said `at_second` into the response that is playing."""
        if self._playing_from is None or not self.in_session:
            raise AssertionError("nothing is playing in an open session to interrupt")
        self.clock = max(self.clock, self._playing_from + timedelta(seconds=at_second))
        return self._intent(intent, slots)

    def ask(self, intent: str, **slots: str) -> Heard:
        """A one-shot from outside a session: "Alexa, ask foot routine to resume"."""
        if self.in_session:
            raise AssertionError("a one-shot needs the session to have ended")
        self._after_playback()
        return self._intent(intent, slots)

    def _intent(self, intent: str, slots: dict[str, str]) -> Heard:
        filled = {name: slot(name, spoken) for name, spoken in slots.items()}
        return self._send(self.device.intent(intent, filled))

    def stay_silent(self) -> Heard | None:
        """Say nothing: an open session hears its reprompt, then times out."""
        if not self.in_session:
            return None
        self._after_playback()
        self.wait(2 * LISTEN_SECONDS)
        ended = self._send(self.device.session_ended("EXCEEDED_MAX_REPROMPTS"))
        self._playing_from = None
        return ended
