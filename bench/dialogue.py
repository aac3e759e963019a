"""The scripted dialogue every section drives: one user doing the whole routine.

launch -> "yes" (start) -> "next" until the routine is finished, with repeat, help,
progress, fallback and one "go back" mixed in at fixed points -> SessionEndedRequest.
Ours is driven live (it stops when the skill says the routine is finished); a baseline
replays the same request kinds, so both answer exactly the same number and mix of turns.

Only the standard library and `skill.tools.envelopes` are imported: the memory child process
uses this module too, and must not load anything the measured skill would not.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from skill.tools.envelopes import Device

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]

LAUNCH = "LaunchRequest"
SESSION_ENDED = "SessionEndedRequest"
START = "AMAZON.YesIntent"
NEXT = "NextExerciseIntent"
FINISHED = "finished your foot routine"
# After the n-th "next", the user also says this (the quiet turns that must not write).
MIX_INS = {
    2: "AMAZON.RepeatIntent",
    4: "AMAZON.HelpIntent",
    6: "ProgressIntent",
    8: "AMAZON.FallbackIntent",
    10: "AMAZON.PreviousIntent",
    13: "AMAZON.RepeatIntent",
}
MAX_NEXTS = 80  # the routine has about 20 steps; a content change cannot loop us forever
# Alexa's API host in every envelope is replaced by a closed loopback port: should a skill
# call an Alexa API (time zone, reminders), it fails at once on 127.0.0.1, never leaves it.
LOOPBACK_API_ENDPOINT = "http://127.0.0.1:9"


@dataclass(frozen=True)
class Turn:
    """One request and its answer, with the time the handler took (envelope building excluded)."""

    kind: str
    envelope: dict[str, Any]
    response: dict[str, Any]
    seconds: float


def new_device(prefix: str = "bench") -> Device:
    """A device for a user nobody has seen, so every routine starts from the beginning."""
    return Device(user_id=f"amzn1.ask.account.{prefix.upper()}-{uuid.uuid4().hex}")


def speech(response: dict[str, Any]) -> str:
    return str(response.get("response", {}).get("outputSpeech", {}).get("ssml", ""))


def envelope_for(device: Device, kind: str) -> dict[str, Any]:
    """The envelope a device sends for a request kind (an intent name or a request type)."""
    if kind == LAUNCH:
        envelope = device.launch()
    elif kind == SESSION_ENDED:
        envelope = device.session_ended()
    else:
        envelope = device.intent(kind)
    envelope["context"]["System"]["apiEndpoint"] = LOOPBACK_API_ENDPOINT
    return envelope


def send(handler: Handler, device: Device, kind: str) -> Turn:
    envelope = envelope_for(device, kind)
    started = time.perf_counter()
    response = handler(envelope, None)
    elapsed = time.perf_counter() - started
    device.receive(response)
    return Turn(kind, envelope, response, elapsed)


def full_routine(handler: Handler, device: Device) -> list[Turn]:
    """Drive our skill through the whole routine; raises if it never says it is finished."""
    turns = [send(handler, device, LAUNCH), send(handler, device, START)]
    for count in range(1, MAX_NEXTS + 1):
        turns.append(send(handler, device, NEXT))
        if FINISHED in speech(turns[-1].response).lower():
            turns.append(send(handler, device, SESSION_ENDED))
            return turns
        if count in MIX_INS:
            turns.append(send(handler, device, MIX_INS[count]))
    raise RuntimeError(f"the skill never said {FINISHED!r} after {MAX_NEXTS} nexts")


def replay(handler: Handler, device: Device, kinds: Iterable[str]) -> list[Turn]:
    """Send the same request kinds to another skill (a baseline), in the same order."""
    return [send(handler, device, kind) for kind in kinds]


@contextmanager
def lambda_handler_on(skill: Any) -> Iterator[Handler]:
    """`skill.lambda_function.handler` answering with `skill` (another store) for a while.

    The same swap tests/conftest.py's `use_store` makes: the measured code path stays the
    real Lambda entry point, only the store behind it changes. Imported lazily so the memory
    child, which imports this module, does not load our skill when measuring the baseline.
    """
    from skill import lambda_function

    previous = lambda_function._skill
    lambda_function._skill = skill
    try:
        yield lambda_function.handler
    finally:
        lambda_function._skill = previous
