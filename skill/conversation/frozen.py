"""Copies of frozen values with some fields changed, for a fifth of `dataclasses.replace`.

A turn copies its Progress (31 fields) and its Event a few times. `dataclasses.replace`
walks every field's metadata in Python and then runs the frozen class's `__init__`, which
sets each field through `object.__setattr__`: ~12 us for a Progress, against ~1-3 us to copy
the fields' values into a new instance and apply the changes. Only for plain dataclasses,
whose `__init__` does nothing but assign (every field in it, no `__post_init__`, no InitVar,
values in `__dict__`); any other class goes to `dataclasses.replace` itself. Cached values
(`functools.cached_property`) live in `__dict__` too but are not fields, so a copy never
carries them over.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from typing import Any, TypeVar

Value = TypeVar("Value")


def replace(value: Value, /, **changes: Any) -> Value:
    """`dataclasses.replace(value, **changes)`: a new value, `changes` applied."""
    kind = type(value)
    names = _plain_fields(kind)
    if names is None:
        return dataclasses.replace(value, **changes)
    if not changes.keys() <= names:
        unknown = min(changes.keys() - names)
        raise TypeError(f"{kind.__name__} has no field {unknown!r}")
    copy = object.__new__(kind)
    state = copy.__dict__
    state.update(value.__dict__)
    if len(state) != len(names):  # cached values beside the fields: not carried over
        for key in [key for key in state if key not in names]:
            del state[key]
    state.update(changes)
    return copy


@cache
def _plain_fields(kind: type) -> frozenset[str] | None:
    """The field names of a dataclass whose instances a copy of their fields makes whole;
    None for any other class."""
    if not dataclasses.is_dataclass(kind) or "__slots__" in vars(kind):
        return None
    if hasattr(kind, "__post_init__"):
        return None
    every = getattr(kind, dataclasses._FIELDS).values()  # type: ignore[attr-defined]
    plain = [field for field in every if field._field_type is dataclasses._FIELD]  # type: ignore[attr-defined]
    if len(plain) != len(every) or not all(field.init for field in plain):
        return None  # an InitVar, a ClassVar or a field left out of __init__
    return frozenset(field.name for field in plain)
