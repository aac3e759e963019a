"""JSON built once and sent many times, with its encoded length known; JSON we built that
needs no serialising.

A set's APL for Audio directive is several hundred JSON values, and a warm Lambda sends the
same one again for every user who reaches that set. Walking it on every turn (the
serializer) and encoding it again (the 24 KB check) cost more than the rest of the turn;
as an `EncodedJson` it is built once, passed through the serializer as it is, and counted
by its known length.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

Result = TypeVar("Result")


class EncodedJson(dict):
    """A JSON object shared read-only between responses: nobody may change it after it is
    made (its length would be wrong and every later response would carry the change)."""

    __slots__ = ("encoded_length",)

    def __init__(self, value: dict[str, Any]) -> None:
        super().__init__(value)
        # As Lambda and the web endpoint write it: json.dumps' defaults, ASCII escapes,
        # so characters and bytes are the same count.
        self.encoded_length = len(json.dumps(self))


class PlainJson(dict):
    """A dict we built of JSON values only (text, numbers, booleans, None, lists and dicts
    of them), such as a progress's session form: its serialised form is itself, so the
    serializer sends it as it is instead of copying it value by value on every turn. Like
    EncodedJson, nobody changes it once it is handed to a response."""

    __slots__ = ()


def json_bytes(value: Any) -> int:
    """Bytes of `value` as json.dumps writes it (ASCII, so one byte a character); a value
    JSON has no form for, as in a model's `to_dict`, counts as its text."""
    return len(json.dumps(value, default=str))


def by_identity(maxsize: int) -> Callable[[Callable[..., Result]], Callable[..., Result]]:
    """Remember a function's result per first argument *object* (and equal other arguments).

    For timelines: a set's timeline is a tuple of a hundred frozen cues, so hashing it (each
    cue's generated __hash__) costs about what the work it would save does; but the steps
    are rendered once per process (steps.StepBuilder), so the same tuple object comes back
    turn after turn. The argument is held, so its id cannot be reused while remembered;
    the oldest entry goes once `maxsize` are held.
    """

    def decorate(function: Callable[..., Result]) -> Callable[..., Result]:
        remembered: dict[tuple[Any, ...], tuple[Any, Result]] = {}
        # The web endpoint answers on several threads: reads need no lock, but making room
        # (find the oldest, drop it) must not interleave with another thread's.
        changing = threading.Lock()

        @wraps(function)
        def memo(first: Any, *rest: Any, **named: Any) -> Result:
            key = (id(first), *rest, *sorted(named.items()))
            held = remembered.get(key)
            if held is not None:
                return held[1]
            result = function(first, *rest, **named)
            with changing:
                if len(remembered) >= maxsize:
                    remembered.pop(next(iter(remembered)), None)
                remembered[key] = (first, result)
            return result

        return memo

    return decorate
