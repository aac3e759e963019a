"""Speech as values (text and pauses), rendered to SSML within Alexa's limits, and read back.

The coach speaks in segments rather than SSML strings so that it never has to escape
anything, the console can show pauses as `[10s]`, and the limits below are enforced in
one place for every reply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from skill.conversation.encoded import EncodedJson, by_identity, json_bytes

# Alexa's documented hard limits for a custom skill response.
MAX_SPEECH_CHARS = 8000
MAX_BREAK_SECONDS = 10.0
MAX_RESPONSE_BYTES = 24 * 1024

# The five XML specials. str.translate instead of xml.sax.saxutils, whose import pulls in
# urllib.request and costs ~40 ms of every Lambda cold start.
_SSML_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"}
)
# Their inverse, "&amp;" last so that an escaped "&lt;" ("&amp;lt;") stays "&lt;".
_SSML_UNESCAPES = (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"),
                   ("&amp;", "&"))
# What to_ssml writes between <speak> and </speak>: breaks, name tags and escaped text.
_SSML_PART = re.compile(r'<break time="(?P<ms>\d+)ms"/>'
                        r'|<alexa:name type="first" personId="(?P<person>[^"]*)"/>'
                        r"|(?P<text>[^<]+)")


class SpeechLimitError(ValueError):
    """A reply that Alexa would reject; raised instead of sending it."""


@dataclass(frozen=True)
class Say:
    """Words, as plain text (escaped only when rendered)."""

    text: str


@dataclass(frozen=True)
class Pause:
    """Silence of `seconds`, split into breaks Alexa accepts when rendered."""

    seconds: float


@dataclass(frozen=True)
class Name:
    """A recognised speaker's first name, which Alexa fills in from the person id: the skill
    never learns or stores the name itself. The one piece of markup that passes through
    unescaped, and only as this tag (Alexa allows it in outputSpeech only, not in APLA)."""

    person_id: str


# What Alexa says in place of a Name where the console shows the speech as text.
NAME_PLACEHOLDER = "[name]"
_JOINS_NAME = frozenset(".,!?;:")

Segment = Say | Pause | Name
Speech = tuple[Segment, ...]


def _breaks(seconds: float) -> list[str]:
    """A long pause as several breaks, because Alexa rejects any single break over 10 s."""
    tags = []
    remaining = round(seconds * 1000)
    while remaining > 0:
        chunk = min(remaining, int(MAX_BREAK_SECONDS * 1000))
        tags.append(f'<break time="{chunk}ms"/>')
        remaining -= chunk
    return tags


@by_identity(1024)
def to_ssml(speech: Speech) -> str:
    """Render speech as SSML; refuse output Alexa would reject rather than send it.
    Remembered per speech object: a step's words and reprompt are rendered once per process
    (steps.StepBuilder), so the same tuples come back turn after turn."""
    parts: list[str] = []
    for index, segment in enumerate(speech):
        if isinstance(segment, Say):
            text = segment.text.translate(_SSML_ESCAPES)
            parts.append(after_name(parts, text, index > 0 and isinstance(speech[index - 1], Name)))
        elif isinstance(segment, Name):
            person = segment.person_id.translate(_SSML_ESCAPES)
            parts.append(f'<alexa:name type="first" personId="{person}"/>')
        else:
            parts.extend(_breaks(segment.seconds))
    ssml = "<speak>" + " ".join(part for part in parts if part) + "</speak>"
    if len(ssml) > MAX_SPEECH_CHARS:
        raise SpeechLimitError(f"speech is {len(ssml)} characters; Alexa allows {MAX_SPEECH_CHARS}")
    return ssml


def from_ssml(ssml: str) -> Speech:
    """Speech read back from the SSML `to_ssml` made, for tools that see only the response
    (the console, the local voice): neighbouring breaks are one pause again, as a listener
    hears them, and a name tag is the Name it came from."""
    speech: list[Segment] = []
    for match in _SSML_PART.finditer(ssml.removeprefix("<speak>").removesuffix("</speak>")):
        if match["ms"] is not None:
            seconds = int(match["ms"]) / 1000
            if speech and isinstance(speech[-1], Pause):
                seconds += speech.pop().seconds
            speech.append(Pause(seconds))
        elif match["person"] is not None:
            speech.append(Name(_unescaped(match["person"])))
        elif match["text"].strip():
            speech.append(Say(_unescaped(match["text"].strip())))
    return tuple(speech)


def _unescaped(text: str) -> str:
    for escaped, plain in _SSML_UNESCAPES:
        text = text.replace(escaped, plain)
    return text


def after_name(parts: list[str], text: str, follows_name: bool) -> str:
    """Punctuation right after a name joins it ("Hello, Ann."): the name is a part of its
    own, and a space before the full stop would show in the console and cards."""
    if follows_name and parts and text[:1] in _JOINS_NAME:
        parts[-1] += text[0]
        return text[1:].lstrip()
    return text


def response_size(response: dict) -> int:
    """Bytes of a response envelope as Lambda and our web endpoint send it: `json.dumps`
    with its default separators and ASCII escapes (so a character is a byte). Directives
    built once (EncodedJson, a set's APL for Audio) count by their known length instead of
    being encoded again: each adds its length and the ", " before it, the first of them in
    an otherwise empty list no separator."""
    body = response.get("response")
    directives = body.get("directives") if isinstance(body, dict) else None
    encoded = [item for item in directives or () if type(item) is EncodedJson]
    if not encoded:
        return json_bytes(response)
    others = [item for item in directives if type(item) is not EncodedJson]
    rest = {**response, "response": {**body, "directives": others}}
    separators = 2 * (len(encoded) - (0 if others else 1))
    return json_bytes(rest) + sum(item.encoded_length for item in encoded) + separators


def check_response_size(response: dict) -> int:
    """Size of the serialised response; raises when it is over Alexa's 24 KB."""
    size = response_size(response)
    if size > MAX_RESPONSE_BYTES:
        raise SpeechLimitError(f"response is {size} bytes; Alexa allows {MAX_RESPONSE_BYTES}")
    return size
