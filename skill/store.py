"""Where progress lives between sessions: the one module that knows about storage.

Every store speaks ask-sdk's persistence-adapter interface and shares these rules, kept
here once so that DynamoDB, SQLite and the in-memory store behave alike:

- Writes are conditional on what was read (a `version` number); on conflict (the same user
  on two devices) a re-read, a merge and another write, so neither device's work is lost.
- Deletion (the user disabled the skill) replaces the item with a tombstone holding only
  the deletion time; it expires on its own. A write from a session that began before the
  deletion is refused, so a session still open on another device cannot bring the data
  back; a session begun after it starts fresh and replaces the tombstone.
- A stored item that cannot be what we wrote (not an object, a version that is not a whole
  number, unreadable text) is replaced by what can be salvaged from it, on the condition that
  it is still exactly that item, and logged once, instead of failing every turn.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
import time
from abc import abstractmethod
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_model import RequestEnvelope

from skill.progress import is_version, merge_stored, progress_from_dict

# Records of users who stop using the skill expire on their own (DynamoDB TTL).
RETENTION_DAYS = 400
# A tombstone only has to outlive the sessions that began before the deletion (minutes);
# a month also covers a delayed retry of the SkillDisabled event.
TOMBSTONE_DAYS = 30
TTL_ATTRIBUTE = "expires_at"
KEY_ATTRIBUTE = "user_id"
VERSION_ATTRIBUTE = "version"
DELETED_ATTRIBUTE = "deleted_at"
# Session attribute: when the session began (epoch seconds, Alexa's clock), so each write
# of the session can be held against a deletion.
SESSION_STARTED = "session_started"
_MAX_MERGES = 3

log = logging.getLogger(__name__)


class StoreError(Exception):
    """Storage could not be read or written; the turn goes on from session attributes."""


class DeletedError(StoreError):
    """The user's progress was deleted after this session began: its writes are refused."""


def user_ref(user_id: str) -> str:
    """A short hash of a user id, so logs can correlate turns without holding the id."""
    return hashlib.sha256(user_id.encode()).hexdigest()[:12]


def user_id_of(request_envelope: RequestEnvelope) -> str:
    return request_envelope.context.system.user.user_id


def request_instant(request_envelope: RequestEnvelope) -> float:
    """When Alexa sent the request (epoch seconds): the one clock that both a deletion and
    every session's start are read from, so they compare even if our servers' clocks drift."""
    stamp = getattr(request_envelope.request, "timestamp", None)
    if stamp is None or isinstance(stamp, str):
        return time.time()
    return (stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)).timestamp()


def session_started(request_envelope: RequestEnvelope) -> float:
    """When this request's session began: its first request's time, carried in the session
    attributes (see `SESSION_STARTED`). A session that began before we kept its start
    counts as older than any deletion, the safe side."""
    session = request_envelope.session
    if session is None or session.new:
        return request_instant(request_envelope)
    started = (session.attributes or {}).get(SESSION_STARTED)
    return float(started) if _is_time(started) else 0.0


def _is_time(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class Found:
    """One stored record as read: decoded (`item`, None when it could not be, then `error`
    says why) and `raw`, the backend's exact form, which a write replacing it must find
    unchanged."""

    item: Any
    raw: Any
    error: str | None = None


def found_in_json(raw: Any) -> Found:
    """A record kept as JSON text (SQLite, memory); any text at all decodes to a Found."""
    try:
        return Found(json.loads(raw), raw)
    except (TypeError, ValueError, RecursionError) as error:
        return Found(None, raw, f"not JSON ({type(error).__name__})")


def problem(found: Found) -> str | None:
    """Why a record cannot be used as an item of ours (a tolerable oddity, such as an
    unknown field or a time without offset, is not a problem: reading normalises it)."""
    item = found.item
    if found.error is not None:
        return found.error
    if not isinstance(item, dict):
        return f"a JSON {type(item).__name__}, not an object"
    if DELETED_ATTRIBUTE in item and not _is_time(item[DELETED_ATTRIBUTE]):
        return "a deletion time that is not a number"
    if VERSION_ATTRIBUTE in item and not is_version(item[VERSION_ATTRIBUTE]):
        return f"a version of type {type(item[VERSION_ATTRIBUTE]).__name__}"
    return None


@dataclass(frozen=True)
class Expect:
    """What a write must find stored to go ahead.

    Normally our item at `version`; version 0 also accepts no item, an item from before
    versions existed, or a tombstone older than `started` (the session's start). With
    `replacing`, exactly that unreadable record and nothing else.
    """

    version: int = 0
    started: float = 0.0
    replacing: Found | None = None

    def allows(self, current: Found | None) -> bool:
        """The rule checked in code, by stores that hold a lock while they check and write
        (DynamoDB states the same rule as a ConditionExpression)."""
        if self.replacing is not None:
            return current is not None and current.raw == self.replacing.raw
        if current is None:
            return self.version == 0
        item = current.item
        if not isinstance(item, dict):
            return False
        if DELETED_ATTRIBUTE in item:
            deleted = item[DELETED_ATTRIBUTE]
            return self.version == 0 and _is_time(deleted) and deleted < self.started
        stored = item.get(VERSION_ATTRIBUTE, 0)
        return is_version(stored) and stored == self.version


def tombstone(deleted_at: float) -> dict[str, Any]:
    return {DELETED_ATTRIBUTE: deleted_at,
            TTL_ATTRIBUTE: int(time.time()) + TOMBSTONE_DAYS * 86400}


class ProgressStore(AbstractPersistenceAdapter):
    """Versioned reads and writes of one small item per user."""

    def get_attributes(self, request_envelope: RequestEnvelope) -> dict[str, Any]:
        user_id = user_id_of(request_envelope)
        item, expect = self._current(user_id, session_started(request_envelope))
        if expect.replacing is None:
            return item
        # Replaced now, on the read, so an unreadable item is fixed (and logged) once even
        # if this session never writes; if that fails, the session's first write retries.
        try:
            return self._write(user_id, item, expect)
        except StoreError as error:
            log.warning("unreadable progress for %s not replaced yet: %s", user_ref(user_id), error)
            return item

    def save_attributes(self, request_envelope: RequestEnvelope, attributes: dict) -> None:
        """Write, merging with a concurrent writer's item; sets the new `version` in place.

        Raises DeletedError when the user's progress was deleted after this session began.
        """
        version = attributes.get(VERSION_ATTRIBUTE, 0)
        expect = Expect(version if is_version(version) else 0, session_started(request_envelope))
        attributes.update(self._write(user_id_of(request_envelope), dict(attributes), expect))

    def delete_attributes(self, request_envelope: RequestEnvelope) -> None:
        self.bury(user_id_of(request_envelope), tombstone(request_instant(request_envelope)))

    def read(self, user_id: str) -> dict[str, Any] | None:
        """The user's item as stored, or None for a new user (or one whose data was deleted)."""
        found = self.fetch(user_id)
        if found is None or not isinstance(found.item, dict) or DELETED_ATTRIBUTE in found.item:
            return None
        return found.item

    def _write(self, user_id: str, item: dict[str, Any], expect: Expect) -> dict[str, Any]:
        for _ in range(_MAX_MERGES):
            base = 0 if expect.replacing is not None else expect.version
            item.update({VERSION_ATTRIBUTE: base + 1,
                         TTL_ATTRIBUTE: int(time.time()) + RETENTION_DAYS * 86400})
            if self.put(user_id, item, expect):
                if expect.replacing is not None:
                    log.warning("replaced unreadable progress for %s (%s)", user_ref(user_id),
                                problem(expect.replacing))
                return item
            theirs, expect = self._current(user_id, expect.started)
            item = merge_stored(item, theirs)
        raise StoreError("gave up after repeated write conflicts")

    def _current(self, user_id: str, started: float) -> tuple[dict[str, Any], Expect]:
        """The stored item as a usable dict, and what a write over it must expect."""
        found = self.fetch(user_id)
        if found is None:
            return {}, Expect(0, started)
        if problem(found) is not None:
            return progress_from_dict(found.item).stored(), Expect(0, started, replacing=found)
        item = found.item
        if DELETED_ATTRIBUTE in item:
            if item[DELETED_ATTRIBUTE] >= started:
                raise DeletedError("progress was deleted after this session began")
            return {}, Expect(0, started)
        return item, Expect(item.get(VERSION_ATTRIBUTE, 0), started)

    @abstractmethod
    def fetch(self, user_id: str) -> Found | None:
        """The stored record exactly as found, or None when there is none."""

    @abstractmethod
    def put(self, user_id: str, item: dict[str, Any], expect: Expect) -> bool:
        """Store the item if what is stored meets `expect`; False if it does not."""

    @abstractmethod
    def bury(self, user_id: str, grave: dict[str, Any]) -> None:
        """Replace whatever is stored with the tombstone, unconditionally: deletion wins."""


class MemoryStore(ProgressStore):
    """For tests and benchmarks: the same rules, no I/O. Items are kept as JSON text, as
    SQLite keeps them, so a test can plant any text."""

    def __init__(self) -> None:
        self.items: dict[str, Any] = {}
        self.reads = 0
        self.writes = 0
        self._lock = threading.Lock()  # the check and the write are one step, as in SQLite

    def fetch(self, user_id: str) -> Found | None:
        self.reads += 1
        raw = self.items.get(user_id)
        return found_in_json(raw) if raw is not None else None

    def put(self, user_id: str, item: dict[str, Any], expect: Expect) -> bool:
        with self._lock:
            self.writes += 1
            raw = self.items.get(user_id)
            if not expect.allows(found_in_json(raw) if raw is not None else None):
                return False
            self.items[user_id] = json.dumps(item)
            return True

    def bury(self, user_id: str, grave: dict[str, Any]) -> None:
        with self._lock:
            self.items[user_id] = json.dumps(grave)
