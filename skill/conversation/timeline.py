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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from skill.conversation.encoded import EncodedJson, PlainJson, by_identity
from skill.conversation.speech import NAME_PLACEHOLDER, Name, Pause, Say, Speech, after_name

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


Cue = Say | Pause | Name | Tick | Chime | Mark
Timeline = tuple[Cue, ...]


@lru_cache(maxsize=2048)
def spoken_seconds(text: str) -> float:
    """An estimate of how long Alexa takes to say `text`. Remembered: a set's turn adds up
    the same few cues many times (planning which rounds fit, marks, the total)."""
    words = len(text.split())
    sentences = len(_SENTENCE_END.findall(text))
    return words * SECONDS_PER_WORD + sentences * SECONDS_PER_SENTENCE


def cue_seconds(cue: Cue) -> float:
    if isinstance(cue, Say):
        return spoken_seconds(cue.text)
    if isinstance(cue, Name):  # a first name: about a word
        return SECONDS_PER_WORD
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


def marks_at(timeline: Timeline) -> tuple[tuple[float, Mark], ...]:
    """Each place mark with the second it starts at."""
    return tuple((start, cue) for start, cue in offsets(timeline) if isinstance(cue, Mark))


def _last_started(marks: tuple[tuple[float, Mark], ...], elapsed: float) -> Mark | None:
    last = None
    for start, mark in marks:
        if start > elapsed:
            break
        last = mark
    return last


def reached(timeline: Timeline, elapsed: float) -> Mark | None:
    """The last place that had started `elapsed` seconds into the response (a round that
    had begun counts as begun); None before the first mark."""
    return _last_started(marks_at(timeline), elapsed)


@dataclass(frozen=True)
class Reached:
    """Where the person was when their next request came: `mark` had begun; `interrupted`
    when they spoke before the response had played in full."""

    mark: Mark
    interrupted: bool


@dataclass(frozen=True)
class Played:
    """A sent response's timeline as the session keeps it, small: when the request it
    answered arrived (Alexa's clock), how long it plays, and where each place begins."""

    answered_at: datetime
    seconds: float
    marks: tuple[tuple[float, Mark], ...]

    @classmethod
    def of(cls, timeline: Timeline, answered_at: datetime) -> Played | None:
        """None for a response without places (a question, a prompt)."""
        seconds, found = _placed(timeline)
        return cls(answered_at, seconds, found) if found else None

    def reached(self, now: datetime) -> Reached:
        """Where the person is at `now`, Alexa's timestamp of their next request: both
        times are Alexa's, so the skill's own clock may be skewed. The response starts
        playing a moment after the request it answered, so a barge-in lands at most that
        moment later in the response than it really did; one during words before the
        first place is at the first place."""
        elapsed = (now - self.answered_at).total_seconds()
        if elapsed < self.seconds:
            mark = _last_started(self.marks, elapsed) or self.marks[0][1]
            return Reached(mark, interrupted=True)
        return Reached(self.marks[-1][1], interrupted=False)

    def session(self) -> PlainJson:
        """The session's form: JSON we built (see PlainJson), the marks shared read-only by
        every response that sends this timeline."""
        return PlainJson({"at": self.answered_at.isoformat(), "seconds": round(self.seconds, 2),
                          "marks": _session_marks(self.marks)})

    @classmethod
    def from_session(cls, raw: Any) -> Played | None:
        """The session's form read back; anything unreadable is no timeline (the place in
        the progress then stands, as if nothing had been heard)."""
        try:
            answered_at = datetime.fromisoformat(raw["at"])
            marks = tuple((float(start), Mark(int(set_index), int(rep)))
                          for start, set_index, rep in raw["marks"])
            played = cls(answered_at, float(raw["seconds"]), marks)
        except (TypeError, KeyError, ValueError, OverflowError):
            return None
        return played if marks and answered_at.tzinfo is not None else None


# A warm process sends the same few sets' timelines again and again (see by_identity).
REMEMBERED_TIMELINES = 512


@by_identity(REMEMBERED_TIMELINES)
def _placed(timeline: Timeline) -> tuple[float, tuple[tuple[float, Mark], ...]]:
    return total_seconds(timeline), marks_at(timeline)


@by_identity(REMEMBERED_TIMELINES)
def _session_marks(marks: tuple[tuple[float, Mark], ...]) -> list[list[float | int]]:
    return [[round(start, 2), mark.set_index, mark.rep] for start, mark in marks]


def marks(timeline: Timeline) -> tuple[Mark, ...]:
    return tuple(cue for cue in timeline if isinstance(cue, Mark))


def has_sounds(timeline: Timeline) -> bool:
    return any(isinstance(cue, Tick | Chime) for cue in timeline)


@by_identity(REMEMBERED_TIMELINES)
def as_speech(timeline: Timeline) -> Speech | None:
    """The timeline as plain speech (SSML can say it), or None when it has sounds or
    places, which only APL for Audio plays and only a timeline can locate."""
    speech = tuple(cue for cue in timeline if isinstance(cue, Say | Pause | Name))
    return speech if len(speech) == len(timeline) else None


def to_console(timeline: Timeline, names: Mapping[str, str] | None = None) -> str:
    """The one text form of what the skill plays, for the console and the tests:
    `[tick x10]`, `[10s]`, `[chime]`, and the name Alexa fills in for a recognised voice
    as `[name]` (or `[Ann]`, from `names`: person id -> the name the console was given)."""
    parts: list[str] = []
    for index, cue in enumerate(timeline):
        if isinstance(cue, Say):
            follows_name = index > 0 and isinstance(timeline[index - 1], Name)
            parts.append(after_name(parts, cue.text, follows_name))
        elif isinstance(cue, Pause):
            parts.append(f"[{cue.seconds:g}s]")
        elif isinstance(cue, Name):
            name = (names or {}).get(cue.person_id)
            parts.append(f"[{name}]" if name else NAME_PLACEHOLDER)
        elif isinstance(cue, Tick):
            parts.append(f"[tick x{round(cue.seconds)}]")
        elif isinstance(cue, Chime):
            parts.append("[chime]")
    return " ".join(part for part in parts if part)


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
        # Alexa fills in a name in outputSpeech only, so a greeting never goes into APLA.
        if isinstance(cue, Mark | Name):
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


@by_identity(REMEMBERED_TIMELINES)
def to_apla(timeline: Timeline, token: str = "timeline") -> EncodedJson:
    """An `Alexa.Presentation.APLA.RenderDocument` directive that plays the timeline,
    shared read-only by every response that sends this timeline."""
    if total_seconds(timeline) > MAX_AUDIO_SECONDS:
        raise ValueError(
            f"{total_seconds(timeline):.0f} s of audio; Alexa plays at most {MAX_AUDIO_SECONDS:g}"
        )
    return EncodedJson({
        "type": APLA_DIRECTIVE,
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
    })


APLA_DIRECTIVE = "Alexa.Presentation.APLA.RenderDocument"


def apla_of(response: dict[str, Any]) -> dict[str, Any] | None:
    """The APL for Audio directive of a response (its `response` body), if it has one."""
    for directive in response.get("directives") or []:
        if isinstance(directive, dict) and directive.get("type") == APLA_DIRECTIVE:
            return directive
    return None


def from_apla(directive: dict[str, Any]) -> Timeline:
    """The timeline an APLA document that `to_apla` made plays, read back from what was
    sent, so the console, the local voice and the tests play and show what a device would.
    A component `to_apla` never makes is an error: the two sides must agree."""
    cues: list[Cue] = []

    def read(item: dict[str, Any]) -> None:
        kind = item.get("type")
        if kind == "Sequencer":
            for child in item.get("items", []):
                read(child)
        elif kind == "Speech":
            cues.append(Say(str(item["content"])))
        elif kind == "Silence":
            cues.append(Pause(item["duration"] / 1000))
        elif kind == "Audio" and item.get("source") == CHIME_SOURCE:
            cues.append(Chime())
        elif kind == "Mixer":  # the tick loop under a silence, as long as the silence
            silence = next(child for child in item["items"] if child["type"] == "Silence")
            cues.append(Tick(silence["duration"] / 1000))
        else:
            raise ValueError(f"an APLA component to_apla does not make: {item}")

    for item in directive["document"]["mainTemplate"]["items"]:
        read(item)
    return tuple(cues)


def apla_text(directive: dict[str, Any]) -> str:
    """An APLA document as the console shows it (`[tick x10]`, `[10s]`, `[chime]`)."""
    return to_console(from_apla(directive))
