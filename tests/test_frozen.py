"""The turn's fast `replace` makes exactly what `dataclasses.replace` makes."""

from __future__ import annotations

import dataclasses
from dataclasses import FrozenInstanceError

import pytest

from skill.conversation.frozen import replace
from skill.conversation.progress import Position, Progress, Question
from skill.conversation.speech import Say
from skill.conversation.values import Event, EventKind, Reply

PROGRESS = Progress(position=Position("toe_presses", 1, 2), done=("toe_walking",),
                    history=("2026-11-24",), history_ids=("abc",), history_kinds=("full",),
                    question=Question.RESUME, pace=1.5)
CASES = [
    (PROGRESS, {"paused": True, "position": None}),
    (PROGRESS, {}),
    (Event(EventKind.NEXT), {"opens_session": True, "person": "amzn1.ask.person.X"}),
    (Reply((Say("Hi."),), (Say("Say ready."),)), {"end_session": True}),
    (Position("ankle_circles", 0, 1), {"rep": 3}),
]


@pytest.mark.parametrize(("value", "changes"), CASES,
                         ids=["progress", "progress-unchanged", "event", "reply", "position"])
def test_the_same_value_as_dataclasses_replace(value, changes) -> None:
    ours, theirs = replace(value, **changes), dataclasses.replace(value, **changes)
    assert type(ours) is type(theirs) and ours == theirs and ours is not value
    assert vars(ours) == vars(theirs)
    assert hash(ours) == hash(theirs)
    with pytest.raises(FrozenInstanceError):
        ours.__setattr__(next(iter(vars(ours))), None)


def test_a_cached_value_is_not_carried_into_the_copy() -> None:
    before = PROGRESS.coarse_fingerprint  # cached on the instance
    moved = replace(PROGRESS, position=Position("ankle_circles"))
    assert "coarse_fingerprint" not in vars(moved)
    assert moved.coarse_fingerprint != before
    assert replace(PROGRESS).coarse_fingerprint == before


def test_an_unknown_field_is_refused_as_dataclasses_replace_refuses_it() -> None:
    with pytest.raises(TypeError, match="posiiton"):
        replace(PROGRESS, posiiton=None)


def test_classes_a_field_copy_would_not_make_whole_go_to_dataclasses_replace() -> None:
    @dataclasses.dataclass(frozen=True)
    class Checked:
        value: int

        def __post_init__(self) -> None:
            if self.value < 0:
                raise ValueError("negative")

    @dataclasses.dataclass(frozen=True, slots=True)
    class Slotted:
        value: int

    with pytest.raises(ValueError, match="negative"):
        replace(Checked(1), value=-1)
    assert replace(Slotted(1), value=2) == Slotted(2)
