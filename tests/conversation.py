"""Talking to the skill in tests the way a device does: envelopes in, speech out.

A Conversation is a person who listens to each response to the end before answering:
every request is stamped on Alexa's clock (`ALEXA`, the test's `clock` fixture), which
moves on as each response plays, so a set's rounds heard in full count as heard (the
skill reads `request.timestamp`). For barge-ins and microphone time-outs, see
tests/echo.py.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from skill.content.routine import Routine
from skill.conversation.progress import Position
from skill.conversation.speech import MAX_RESPONSE_BYTES
from skill.conversation.timeline import CHIME_SECONDS, apla_of, apla_text, spoken_seconds
from skill.tools.cli import readable
from skill.tools.envelopes import Device, slot

# A person takes about a second to answer once a response has played.
ANSWER_SECONDS = 1.0
_BREAK = re.compile(r'<break time="(\d+)ms"/>')
_TAG = re.compile(r"<[^>]+>")


class Clock:
    """Alexa's clock in tests: it moves when a test says so, and as responses play."""

    def __init__(self, start: datetime = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)) -> None:
        self.now = start
        # Two devices' threads move it at once (tests/test_store_faults.py): no move is lost.
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        with self._lock:
            self.now += timedelta(**delta)


class WallClock(Clock):
    """The real time, which playback does not move: for devices used at once from several
    threads, whose requests must be dated in the order they are made (a simulated clock
    dates a request when it is built, minutes of another device's playback away from when
    it is handled). A set's rounds then count as interrupted at once."""

    def __call__(self) -> datetime:
        return datetime.now(UTC)

    def advance(self, **delta: float) -> None:
        """Real time moves by itself."""


# The clock every Conversation's requests are stamped from; tests/conftest.py's `clock`
# fixture puts a fresh one here for each test. Shared by all devices of a test, so two
# devices' requests are in the order they were made.
ALEXA = Clock()


def stamp(moment: datetime) -> str:
    """As Alexa writes `request.timestamp`: UTC, to the second."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ssml_seconds(ssml: str) -> float:
    breaks = sum(int(ms) for ms in _BREAK.findall(ssml)) / 1000
    return breaks + spoken_seconds(_TAG.sub(" ", ssml))


def apla_seconds(item: dict[str, Any]) -> float:
    """How long an APLA component plays: silences and clips exactly, words estimated, a
    Mixer as long as its longest child (a clip trimmed to its parent does not count)."""
    kind = item.get("type")
    if kind == "Speech":
        return spoken_seconds(_TAG.sub(" ", item.get("content", "")))
    if kind == "Silence":
        return item["duration"] / 1000
    if kind == "Audio":
        return CHIME_SECONDS
    children = [child for child in item.get("items", []) if child.get("duration") != "trimToParent"]
    if kind == "Sequencer":
        return sum(apla_seconds(child) for child in children)
    if kind == "Mixer":
        return max((apla_seconds(child) for child in children), default=0.0)
    raise AssertionError(f"unknown APLA component {kind!r}")


def apla_directive(response: dict[str, Any]) -> dict[str, Any] | None:
    return apla_of(response["response"])


def playback_seconds(response: dict[str, Any]) -> float:
    """How long the device plays this response: its speech, then its APLA document."""
    seconds = _ssml_seconds(response["response"].get("outputSpeech", {}).get("ssml", ""))
    directive = apla_directive(response)
    if directive is not None:
        seconds += sum(apla_seconds(item) for item in directive["document"]["mainTemplate"]["items"])
    return seconds


def places(routine: Routine) -> list[Position]:
    """Representative places in each exercise: before its introduction, the first and
    second round of each set, and (only where it is kept, after the last exercise) past
    its last set; an earlier exercise's end is the next one's introduction."""
    found = []
    for exercise in routine.exercises:
        found.append(Position(exercise.id))
        for set_index, exercise_set in enumerate(exercise.sets):
            found.extend(Position(exercise.id, set_index, rep)
                         for rep in range(1, min(exercise_set.reps, 2) + 1))
    last = routine.exercises[-1]
    found.append(Position(last.id, len(last.sets), 1))
    return found


def exists(routine: Routine, position: Position) -> bool:
    """A place the routine has (see skill/conversation/steps.py for what they mean)."""
    index = routine.index_of(position.exercise)
    if index is None:
        return False
    sets = routine.exercises[index].sets
    if position.rep == 0:
        return position.set_index == 0
    if position.set_index == len(sets):
        return position.rep == 1
    return position.set_index < len(sets) and 1 <= position.rep <= sets[position.set_index].reps


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
    def apla(self) -> dict[str, Any] | None:
        """The APL for Audio document a set's rounds are sent as, if this response has one."""
        return apla_directive(self.response)

    @property
    def text(self) -> str:
        """Everything the device plays: the speech, then the APLA document (as Alexa plays
        them), sounds and silences shown the console's way (`[tick x10]`, `[chime]`)."""
        played = [readable(self.ssml)] if self.ssml else []
        if self.apla is not None:
            played.append(apla_text(self.apla))
        return " ".join(played)

    @property
    def seconds(self) -> float:
        return playback_seconds(self.response)

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
        # Requests the test does not date itself are stamped on Alexa's clock.
        self.device.clock = lambda: ALEXA()

    @property
    def clock(self) -> datetime:
        """Alexa's time for the next request: after everything played so far."""
        return ALEXA()

    def send(self, envelope: dict[str, Any]) -> Heard:
        """Exactly this envelope (a test that dates one itself keeps its date)."""
        response = self.handler(json.loads(json.dumps(envelope)), None)
        assert len(json.dumps(response).encode()) <= MAX_RESPONSE_BYTES
        self.device.receive(response)
        heard = Heard(response)
        if heard.body.get("shouldEndSession") is False:
            assert heard.reprompt, f"open session without a reprompt: {heard.text}"
        ALEXA.advance(seconds=heard.seconds + ANSWER_SECONDS)
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
