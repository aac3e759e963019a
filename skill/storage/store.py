"""Where progress lives between sessions: the one module that knows about storage.

Every store speaks ask-sdk's persistence-adapter interface and shares these rules, kept
here once so that DynamoDB, SQLite and the in-memory store behave alike:

- Writes are conditional on what was read (a `version` number); on conflict (the same user
  on two devices) a re-read, a merge and another write, so neither device's work is lost.
- Deletion (the user disabled the skill) replaces the item with a tombstone holding only
  the deletion time; it expires on its own. A write from a session that began before the
  deletion is refused, so a session still open on another device cannot bring the data
  back; a session begun after it starts fresh and replaces the tombstone.
- A recognised voice (a `personId` in the request) has an item of its own, keyed by account
  and person; the account's item serves an unrecognised voice and lists the account's
  voices, so that deleting an account (SkillDisabled names no person) deletes each of them.
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
from datetime import UTC, datetime
from typing import Any, NamedTuple

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_model import RequestEnvelope

from skill.conversation.frozen import replace
from skill.conversation.progress import Progress, is_version, merge_stored, progress_from_dict

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
# A recognised voice's key: the account's, this, and the person id.
PERSON_KEY = "#person#"
# A voice is listed on its account's item again when its listing is this old, and an account
# item that lists voices lives this much longer than RETENTION_DAYS: so the list deletion
# reads always outlives the items on it, whatever TTL removes first.
RELIST_DAYS = 30

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


def person_id_of(request_envelope: RequestEnvelope) -> str | None:
    """The recognised speaker's id (Alexa sends it only with personalisation on), or None."""
    person = getattr(request_envelope.context.system, "person", None)
    return getattr(person, "person_id", None) or None


def person_key(account: str, person: str) -> str:
    return f"{account}{PERSON_KEY}{person}"


def record_key(request_envelope: RequestEnvelope) -> str:
    """Whose item a request reads and writes: a recognised voice's own, else the account's."""
    account, person = user_id_of(request_envelope), person_id_of(request_envelope)
    return person_key(account, person) if person else account


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


class Found(NamedTuple):
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


class Expect(NamedTuple):
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
        user_id = record_key(request_envelope)
        started = session_started(request_envelope)
        item, expect = self._current(user_id, started)
        person = person_id_of(request_envelope)
        if person and expect.replacing is None and VERSION_ATTRIBUTE not in item:
            return self._first_contact(request_envelope, person, started)
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
        person = person_id_of(request_envelope)
        if person and _listing_due(attributes, expect, request_instant(request_envelope)):
            # Listed first: an item written before its voice is listed could outlive a deletion.
            attributes["listed_on"] = self._list(request_envelope, person)
        attributes.update(self._write(record_key(request_envelope), dict(attributes), expect))

    def delete_attributes(self, request_envelope: RequestEnvelope) -> None:
        """Every voice of the account, then the account's item (which lists them), so a
        failure part-way leaves the list for Alexa's retry of the event."""
        account = user_id_of(request_envelope)
        grave = tombstone(request_instant(request_envelope))
        found = self.fetch(account)
        listed = progress_from_dict(found.item).persons if found is not None else ()
        for person in listed:
            self.bury(person_key(account, person), grave)
        self.bury(account, grave)

    def take_account_progress(self, request_envelope: RequestEnvelope, own: dict[str, Any]
                              ) -> dict[str, Any]:
        """A recognised voice said the account's progress is theirs: it moves to their item.

        Their item is written first, as a merge (finished routines by identity, so nothing
        counts twice, even when this is retried), then the account's progress is cleared on
        the condition that it is still what was moved; if the account changed in between,
        the new part is moved too. The account keeps its list of voices.
        """
        account, started = user_id_of(request_envelope), session_started(request_envelope)
        key = record_key(request_envelope)
        version = own.get(VERSION_ATTRIBUTE, 0)
        person = person_id_of(request_envelope)
        if person and _listing_due(own, Expect(version if is_version(version) else 0, started),
                                   request_instant(request_envelope)):
            own = {**own, "listed_on": self._list(request_envelope, person)}
        for _ in range(_MAX_MERGES):
            theirs, account_expect = self._current(account, started)
            kept = progress_from_dict(theirs).persons
            moved = {**theirs, "persons": [], "offer_account": False}
            version = own.get(VERSION_ATTRIBUTE, 0)
            own = self._write(key, merge_stored(own, moved),
                              Expect(version if is_version(version) else 0, started))
            emptied = Progress(persons=kept).stored()
            emptied.update({VERSION_ATTRIBUTE: _next_version(account_expect),
                            TTL_ATTRIBUTE: _expiry(emptied)})
            if self.put(account, emptied, account_expect):
                return own
        raise StoreError("gave up moving the account's progress after repeated conflicts")

    def read(self, user_id: str) -> dict[str, Any] | None:
        """The user's item as stored, or None for a new user (or one whose data was deleted)."""
        found = self.fetch(user_id)
        if found is None or not isinstance(found.item, dict) or DELETED_ATTRIBUTE in found.item:
            return None
        return found.item

    def _first_contact(self, request_envelope: RequestEnvelope, person: str, started: float
                       ) -> dict[str, Any]:
        """A voice new to us: listed on the account's item, then given an item of its own at
        once, so the account's progress is offered to them once (if there is any) and their
        later writes need no listing. A second read and two writes, once per voice."""
        account = user_id_of(request_envelope)
        current = self._current(account, started)
        offer = _has_progress(progress_from_dict(current[0]))
        own = Progress(offer_account=offer,
                       listed_on=self._list(request_envelope, person, current)).stored()
        return self._write(person_key(account, person), own, Expect(0, started))

    def _list(self, request_envelope: RequestEnvelope, person: str,
              current: tuple[dict[str, Any], Expect] | None = None) -> str:
        """Put the voice on its account's list (a merge with concurrent writers, refused
        after a deletion that came after this session began); returns the day it was listed.
        `current`: the account's item as just read, if it was."""
        account, started = user_id_of(request_envelope), session_started(request_envelope)
        theirs, expect = current or self._current(account, started)
        progress = progress_from_dict(theirs)
        listed = replace(progress, persons=tuple(dict.fromkeys((*progress.persons, person))))
        self._write(account, {**theirs, **listed.stored()}, expect)
        return datetime.fromtimestamp(request_instant(request_envelope), UTC).date().isoformat()

    def _write(self, user_id: str, item: dict[str, Any], expect: Expect) -> dict[str, Any]:
        for _ in range(_MAX_MERGES):
            item.update({VERSION_ATTRIBUTE: _next_version(expect), TTL_ATTRIBUTE: _expiry(item)})
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


def _next_version(expect: Expect) -> int:
    """The version a write carries: one past the one it replaces (an unreadable item's
    version, whatever it was, counts as none)."""
    return (0 if expect.replacing is not None else expect.version) + 1


def _expiry(item: dict[str, Any]) -> int:
    """When an untouched item expires (TTL): an account's item listing voices lives longer
    than any of them can (see RELIST_DAYS)."""
    days = RETENTION_DAYS + (RELIST_DAYS if item.get("persons") else 0)
    return int(time.time()) + days * 86400


def _has_progress(progress: Progress) -> bool:
    """Something worth offering to a voice: routines done, or one under way."""
    return bool(progress.history or progress.position)


def _listing_due(attributes: dict[str, Any], expect: Expect, now: float) -> bool:
    """A voice's item is written only while it is listed: its first write (its item was
    never made, or is gone), and again once the listing is RELIST_DAYS old."""
    if expect.version == 0 or expect.replacing is not None:
        return True
    try:
        listed = datetime.fromisoformat(str(attributes.get("listed_on"))).replace(tzinfo=UTC)
    except ValueError:
        return True
    return now - listed.timestamp() >= RELIST_DAYS * 86400


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
