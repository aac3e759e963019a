"""Shared fixtures: a skill on an in-memory store with a clock the test controls."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from skill import lambda_function
from skill.alexa.app import build_skill
from skill.storage.store import MemoryStore
from tests import conversation
from tests.conversation import Clock, Conversation

pytest_plugins = ["tests.dynalite_server"]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The test's clock, which is also Alexa's: the skill reads `request.timestamp`, and
    every Conversation stamps its requests from this clock, which moves on as they play."""
    chosen = Clock()
    monkeypatch.setattr(conversation, "ALEXA", chosen)
    return chosen


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
