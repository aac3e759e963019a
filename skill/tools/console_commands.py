"""The console's own commands: what a person does at an Echo besides answering in turn.

On a device the person can cut in while a response plays ("Alexa, pause" 95 s into a set),
say nothing until the microphone closes, or come back days later. The console keeps
Alexa's clock (`request.timestamp`) itself, so these are typed as commands starting with
"!"; anything else is words said once the response has played.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HELP = """\
Type what you would say to Alexa ("open foot routine", "ready", "pause"). The console keeps
Alexa's clock: each reply plays for as long as its audio lasts, and you answer after it.
  !<words> after <N>s  cut in N seconds into the reply that is playing, as "Alexa, <words>"
                       would on an Echo (e.g. !pause after 95s, !repeat that after 20s)
  !silence             say nothing: Alexa plays the reprompt, listens again, then ends the
                       session (SessionEndedRequest, reason EXCEEDED_MAX_REPROMPTS)
  !wait <N>d|h|m|s     let time pass (e.g. !wait 2d, !wait 3h) before the next thing you
                       say; an open session times out first, as it would on a device
  !help                this list
  quit                 leave (the session ends as if you walked away)
Sounds are shown as [tick x10] (a quiet tick under a 10 s hold or rest), [10s] (silence)
and [chime] (a hold or rest is over)."""

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_BARGE_IN = re.compile(r"^!(?P<words>.+?)\s+after\s+(?P<seconds>\d+)\s*s(?:ec(?:ond)?s?)?$")
_WAIT = re.compile(r"^!wait\s+(?P<amount>\d+)\s*(?P<unit>[smhd])$")


@dataclass(frozen=True)
class BargeIn:
    """Words said `seconds` after the last response began to play."""

    words: str
    seconds: int


@dataclass(frozen=True)
class Silence:
    """Nothing said: the microphone times out."""


@dataclass(frozen=True)
class Wait:
    seconds: int


@dataclass(frozen=True)
class Help:
    pass


Command = BargeIn | Silence | Wait | Help


class CommandError(ValueError):
    """A line starting with "!" that is no command; the message shows the right form."""


def parse(line: str) -> Command | None:
    """The command a line types, or None for words to say."""
    text = " ".join(line.lower().split())
    if not text.startswith("!"):
        return None
    if text == "!silence":
        return Silence()
    if text == "!help":
        return Help()
    wait = _WAIT.match(text)
    if wait:
        return Wait(int(wait["amount"]) * _UNIT_SECONDS[wait["unit"]])
    if text.startswith("!wait"):
        raise CommandError("say how long to wait, such as !wait 2d, !wait 3h or !wait 90s")
    barge_in = _BARGE_IN.match(text)
    if barge_in:
        return BargeIn(barge_in["words"].strip(), int(barge_in["seconds"]))
    raise CommandError(f"{line.strip()!r} is not a console command (see !help); to cut in, "
                       "type words then when, such as !pause after 95s")
