"""Where progress lives between sessions: the one module that knows about storage.

Every store speaks ask-sdk's persistence-adapter interface and shares one write rule:
a conditional write on a `version` number, and on conflict (the same user on two
devices) a re-read, a merge and a second write, so neither device's work is lost.
"""

from __future__ import annotations

import hashlib
import json
import time
from abc import abstractmethod
from typing import Any

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_model import RequestEnvelope

from skill.progress import merge_stored

# Records of users who stop using the skill expire on their own (DynamoDB TTL).
RETENTION_DAYS = 400
TTL_ATTRIBUTE = "expires_at"
KEY_ATTRIBUTE = "user_id"
_MAX_MERGES = 3


class StoreError(Exception):
    """Storage could not be read or written; the turn goes on from session attributes."""


def user_ref(user_id: str) -> str:
    """A short hash of a user id, so logs can correlate turns without holding the id."""
    return hashlib.sha256(user_id.encode()).hexdigest()[:12]


def user_id_of(request_envelope: RequestEnvelope) -> str:
    return request_envelope.context.system.user.user_id


class ProgressStore(AbstractPersistenceAdapter):
    """Versioned reads and writes of one small item per user."""

    def get_attributes(self, request_envelope: RequestEnvelope) -> dict[str, Any]:
        return self.read(user_id_of(request_envelope)) or {}

    def save_attributes(self, request_envelope: RequestEnvelope, attributes: dict) -> None:
        """Write, merging with a concurrent writer's item; sets the new `version` in place."""
        user_id = user_id_of(request_envelope)
        item = dict(attributes)
        for _ in range(_MAX_MERGES):
            expected = int(item.get("version", 0))
            item["version"] = expected + 1
            item[TTL_ATTRIBUTE] = int(time.time()) + RETENTION_DAYS * 86400
            if self.write(user_id, item, expected):
                attributes.update(item)
                return
            theirs = self.read(user_id) or {}
            item = merge_stored({**item, "version": expected}, theirs)
            item["version"] = int(theirs.get("version", 0))
        raise StoreError("gave up after repeated write conflicts")

    def delete_attributes(self, request_envelope: RequestEnvelope) -> None:
        self.delete(user_id_of(request_envelope))

    @abstractmethod
    def read(self, user_id: str) -> dict[str, Any] | None:
        """The stored item, or None for a new user."""

    @abstractmethod
    def write(self, user_id: str, item: dict[str, Any], expected_version: int) -> bool:
        """Store the item if the stored version is still `expected_version` (0: none)."""

    @abstractmethod
    def delete(self, user_id: str) -> None:
        """Forget the user entirely (the skill was disabled)."""


class MemoryStore(ProgressStore):
    """For tests and benchmarks: the same rules, no I/O."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.reads = 0
        self.writes = 0

    def read(self, user_id: str) -> dict[str, Any] | None:
        self.reads += 1
        item = self.items.get(user_id)
        return json.loads(json.dumps(item)) if item is not None else None

    def write(self, user_id: str, item: dict[str, Any], expected_version: int) -> bool:
        self.writes += 1
        current = self.items.get(user_id, {}).get("version", 0)
        if current != expected_version:
            return False
        self.items[user_id] = json.loads(json.dumps(item))
        return True

    def delete(self, user_id: str) -> None:
        self.items.pop(user_id, None)
