"""Shared fixtures: a skill on an in-memory store with a clock the test controls."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from skill import lambda_function
from skill.app import build_skill
from skill.store import MemoryStore
from tests.conversation import Conversation

pytest_plugins = ["tests.dynalite_server"]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def use_store(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> Callable[[object], None]:
    """Point the Lambda entry point at a given store, keeping the real `handler`."""

    def use(chosen: object) -> None:
        monkeypatch.setattr(lambda_function, "_skill", build_skill(chosen, clock))

    return use


@pytest.fixture
def talk(use_store: Callable[[object], None], store: MemoryStore) -> Callable[[], Conversation]:
    """A new conversation (same user, same device) through the Lambda handler."""
    use_store(store)
    return lambda: Conversation(lambda_function.handler)
