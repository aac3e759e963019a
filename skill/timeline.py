"""A response as a timeline: spoken words, silences, sounds and place marks with their offsets.

An Echo plays a whole response and lets the person interrupt it at any second ("Alexa,
pause"). To know where they were, the skill needs, for every response it sends, when each
cue starts: words are estimated from their length, silences and sound clips are exact.
The same timeline renders to APL for Audio (what the device plays), to the console's text
(`[tick x10]`, `[10s]`, `[chime]`), and answers "which round had started at second N?".

Why APL for Audio rather than SSML: SSML allows at most five `<audio>` clips and breaks of
at most 10 s per response, so a 20 s hold with a ticking cue cannot be expressed; APLA's
Mixer plays a quiet tick loop under a silence of any length, on every Alexa device, with no
manifest interface. The limit that remains is 240 s of audio per response.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

from skill.speech import Pause, Say

# Alexa's limit on the audio of one response (speech, silences and clips together).
MAX_AUDIO_SECONDS = 240.0
# Alexa's voice runs at roughly 150 words a minute; a sentence end adds a short breath.
SECONDS_PER_WORD = 0.4
SECONDS_PER_SENTENCE = 0.3

# Amazon's sound library (soundbank URLs need no hosting and play on every device).
# The tick loop is 6.48 s long; it is repeated and trimmed to the hold it sits under.
TICK_SOURCE = "soundbank://soundlibrary/clocks/ticks/ticks_01"
TICK_CLIP_SECONDS = 6.48
TICK_VOLUME = 0.35
CHIME_SOURCE = "soundbank://soundlibrary/musical/amzn_sfx_bell_short_chime_02"
CHIME_SECONDS = 0.71

_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")


@dataclass(frozen=True)
class Tick:
    """A steady, quiet time cue under a timed hold or rest, so silence never sounds like
    the skill has stopped."""

    seconds: float


@dataclass(frozen=True)
class Chime:
    """The distinct sound that says a hold or rest is over."""

    seconds: float = CHIME_SECONDS


@dataclass(frozen=True)
class Mark:
    """Zero-length: "this place starts here" (a set and a round or rep within it), so a
    barge-in can be mapped to the round the person had reached."""

    set_index: int
    rep: int


Cue = Say | Pause | Tick | Chime | Mark
Timeline = tuple[Cue, ...]


def spoken_seconds(text: str) -> float:
    """An estimate of how long Alexa takes to say `text`."""
    words = len(text.split())
    sentences = len(_SENTENCE_END.findall(text))
    return words * SECONDS_PER_WORD + sentences * SECONDS_PER_SENTENCE


def cue_seconds(cue: Cue) -> float:
    if isinstance(cue, Say):
        return spoken_seconds(cue.text)
    if isinstance(cue, Mark):
        return 0.0
    return cue.seconds


def offsets(timeline: Timeline) -> Iterator[tuple[float, Cue]]:
    """Each cue with the second it starts at, from the start of the response."""
    start = 0.0
    for cue in timeline:
        yield start, cue
        start += cue_seconds(cue)


def total_seconds(timeline: Timeline) -> float:
    return sum(cue_seconds(cue) for cue in timeline)


def reached(timeline: Timeline, elapsed: float) -> Mark | None:
    """The last place that had started `elapsed` seconds into the response (a round that
    had begun counts as begun); None before the first mark."""
    last = None
    for start, cue in offsets(timeline):
        if start > elapsed:
            break
        if isinstance(cue, Mark):
            last = cue
    return last


def marks(timeline: Timeline) -> tuple[Mark, ...]:
    return tuple(cue for cue in timeline if isinstance(cue, Mark))


def has_sounds(timeline: Timeline) -> bool:
    return any(isinstance(cue, Tick | Chime) for cue in timeline)


def to_console(timeline: Timeline) -> str:
    """The timeline as a person reads it: `[tick x10]`, `[10s]`, `[chime]`."""
    parts: list[str] = []
    for cue in timeline:
        if isinstance(cue, Say):
            parts.append(cue.text)
        elif isinstance(cue, Pause):
            parts.append(f"[{cue.seconds:g}s]")
        elif isinstance(cue, Tick):
            parts.append(f"[tick x{round(cue.seconds)}]")
        elif isinstance(cue, Chime):
            parts.append("[chime]")
    return " ".join(parts)


def _speech_item(text: str) -> dict:
    return {"type": "Speech", "contentType": "PlainText", "content": text}


def _tick_item(seconds: float) -> dict:
    """A quiet tick loop as long as the silence it is mixed with: the Mixer lasts as long
    as its Silence, and the Audio, repeated enough times, is trimmed to it."""
    milliseconds = round(seconds * 1000)
    repeats = max(0, math.ceil(seconds / TICK_CLIP_SECONDS) - 1)
    return {
        "type": "Mixer",
        "items": [
            {"type": "Silence", "duration": milliseconds},
            {
                "type": "Audio",
                "source": TICK_SOURCE,
                "duration": "trimToParent",
                "filters": [
                    {"type": "Volume", "amount": TICK_VOLUME},
                    {"type": "Repeat", "repeatCount": repeats},
                ],
            },
        ],
    }


def _items(timeline: Timeline) -> Iterator[dict]:
    pending: list[str] = []
    for cue in timeline:
        if isinstance(cue, Say):
            pending.append(cue.text)
            continue
        if isinstance(cue, Mark):
            continue
        if pending:
            yield _speech_item(" ".join(pending))
            pending = []
        if isinstance(cue, Pause):
            yield {"type": "Silence", "duration": round(cue.seconds * 1000)}
        elif isinstance(cue, Tick):
            yield _tick_item(cue.seconds)
        else:
            yield {"type": "Audio", "source": CHIME_SOURCE}
    if pending:
        yield _speech_item(" ".join(pending))


def to_apla(timeline: Timeline, token: str = "timeline") -> dict:
    """An `Alexa.Presentation.APLA.RenderDocument` directive that plays the timeline."""
    if total_seconds(timeline) > MAX_AUDIO_SECONDS:
        raise ValueError(
            f"{total_seconds(timeline):.0f} s of audio; Alexa plays at most {MAX_AUDIO_SECONDS:g}"
        )
    return {
        "type": "Alexa.Presentation.APLA.RenderDocument",
        "token": token,
        "document": {
            "type": "APLA",
            "version": "0.91",
            "mainTemplate": {
                "parameters": ["payload"],
                "items": [{"type": "Sequencer", "items": list(_items(timeline))}],
            },
        },
        "datasources": {},
    }
