"""Talking to the skill in tests the way a device does: envelopes in, speech out."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from skill.cli import readable
from skill.envelopes import Device, slot
from skill.speech import MAX_RESPONSE_BYTES


@dataclass
class Heard:
    response: dict[str, Any]

    @property
    def body(self) -> dict[str, Any]:
        return self.response["response"]

    @property
    def ssml(self) -> str:
        return self.body.get("outputSpeech", {}).get("ssml", "")

    @property
    def text(self) -> str:
        return readable(self.ssml)

    @property
    def reprompt(self) -> str:
        return readable(self.body.get("reprompt", {}).get("outputSpeech", {}).get("ssml", ""))

    @property
    def ended(self) -> bool:
        return self.body.get("shouldEndSession") is not False

    def hears(self, *phrases: str) -> Heard:
        for phrase in phrases:
            assert phrase.lower() in self.text.lower(), f"{phrase!r} not in: {self.text}"
        return self


class Conversation:
    """One user on one device, talking through `skill.lambda_function.handler`."""

    def __init__(self, handler: Any, device: Device | None = None) -> None:
        self.handler = handler
        self.device = device or Device()

    def send(self, envelope: dict[str, Any]) -> Heard:
        response = self.handler(json.loads(json.dumps(envelope)), None)
        assert len(json.dumps(response).encode()) <= MAX_RESPONSE_BYTES
        self.device.receive(response)
        heard = Heard(response)
        if heard.body.get("shouldEndSession") is False:
            assert heard.reprompt, f"open session without a reprompt: {heard.text}"
        return heard

    def launch(self) -> Heard:
        return self.send(self.device.launch())

    def say(self, intent: str, **slots: str) -> Heard:
        filled = {}
        for name, spoken in slots.items():
            filled[name] = slot(name, spoken)
        return self.send(self.device.intent(intent, filled))

    def go_to(self, spoken: str, value_id: str | None) -> Heard:
        return self.send(self.device.intent(
            "GoToExerciseIntent", {"exercise": slot("exercise", spoken, value_id)}))

    def end(self, reason: str = "USER_INITIATED") -> Heard:
        return self.send(self.device.session_ended(reason))
