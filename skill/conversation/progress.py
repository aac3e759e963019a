"""Where a user is in the routine and what they have done, as a value, plus its wire forms.

Two forms on purpose: the session form carries the whole conversation state between
turns (Alexa hands it back to us), the stored form keeps only what must outlive the
session, small and versioned so an item written by an older release still loads.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import StrEnum
from functools import cached_property, lru_cache
from itertools import zip_longest
from typing import Any

from skill.content.routine_values import KINDS
from skill.conversation.encoded import PlainJson
from skill.conversation.frozen import replace

SCHEMA_VERSION = 1
# The content's routine kinds: the full routine, and the short one for busy days.
FULL, SHORT = KINDS
# Enough days to answer "what's my streak" for two months; keeps the item tiny.
HISTORY_LIMIT = 60


class Question(StrEnum):
    """The yes/no question we last asked, so "yes" and "no" answer the right thing."""

    START = "start"
    RESUME = "resume"
    RESTART = "restart"
    REMINDER = "reminder"
    # "Does it still hurt?", first thing in the session after a pain stop: yes means it does.
    PAIN_CHECK = "pain_check"
    # A recognised voice, new to us, on an account with progress: "was that you?" (once).
    OWNER = "owner"


@dataclass(frozen=True)
class Position:
    """An exercise by id (stable if the routine is reordered) and the round within it:
    `rep` 0 means the exercise's introduction is due; otherwise round `rep` (from 1) of
    set `set_index` is the one to do next, and a `set_index` past the last set means the
    exercise is done (skill/conversation/steps.py)."""

    exercise: str
    set_index: int = 0
    rep: int = 0


@dataclass(frozen=True)
class Progress:
    """One person's progress: what is stored between sessions and what a session adds."""

    # Kept between sessions.
    position: Position | None = None
    done: tuple[str, ...] = ()
    # Finished routines, oldest first: the day of each (what streaks count) and, aligned with
    # it, an identity made when it was finished, so that two devices' merges are a set union
    # and a write retried after a lost acknowledgement is not counted twice. Entries from
    # before identities existed have "" (and `history_ids` may be shorter than `history`).
    history: tuple[str, ...] = ()
    history_ids: tuple[str, ...] = ()
    heard_disclaimer: bool = False
    updated_at: str | None = None
    version: int = 0
    reminder_id: str | None = None
    reminder_time: str | None = None
    reminder_offered_on: str | None = None
    # The device's IANA time zone, looked up once per user. "" means the lookup failed; it
    # lives only in this session's attributes (stored as None), so the next session retries.
    time_zone: str | None = None
    time_zone_checked_on: str | None = None
    # What a person told us, so it is never asked again: the items they lack (EQUIPMENT ids;
    # the content's substitute is used), the seated version of floor exercises, their pace (a
    # multiplier of the gaps between movements; None is the content's default), and a session
    # that ended on pain (the next one first asks how they feel, before anything else).
    missing: tuple[str, ...] = ()
    seated: bool = False
    pace: float | None = None
    pain_stopped: bool = False
    # Households ([household]): the person's level (a level id of the content; None is its
    # default), the kind of routine under way ("full", or "short" on a busy day; it goes with
    # the position), and, aligned with `history`, the kind of each finished routine ("" for
    # entries from before kinds were kept, which were full ones).
    level: str | None = None
    kind: str = FULL
    history_kinds: tuple[str, ...] = ()
    # An account's item: the recognised voices that have an item of their own (person ids),
    # so that deleting the account's data finds every one (SkillDisabled names no person).
    persons: tuple[str, ...] = ()
    # A recognised voice's item: the day it was last listed on the account's item (the store
    # lists it again now and then, so the account's item outlives it), and whether the
    # account's own progress is still to be offered to this person (asked once).
    listed_on: str | None = None
    offer_account: bool = False
    # Kept only for the current session.
    briefed: bool = False
    paused: bool = False
    finished: bool = False
    question: Question | None = None
    # The place is still the start of a routine begun in this session (its first exercise,
    # nothing done): to the next session that is no different from the store's item
    # without a place, so it costs no write of its own (see `fingerprints`).
    at_start: bool = False

    def stored(self) -> dict[str, Any]:
        """The part that outlives the session, in the stored (versioned) form.

        A new dict each call, its lists too: a store adds its own keys to what it is handed.
        """
        return {key: value.copy() if isinstance(value, list | dict) else value
                for key, value in self._stored.items()}

    @cached_property
    def _stored(self) -> dict[str, Any]:
        """The stored form, built once per value (a Progress never changes; `replace` makes a
        new one with an empty cache): a turn needs it for its fingerprint and its session
        form, and on a write for the item. Never handed out, so nobody can change it.

        The history stays a list of ISO dates, with the identities in a list of their own,
        so a release from before identities can still read (and count) it after a rollback.
        """
        return {
            "schema_version": SCHEMA_VERSION,
            "position": _position_dict(self.position),
            "done": list(self.done),
            **self._stored_history(),
            "heard_disclaimer": self.heard_disclaimer,
            "updated_at": utc_text(self.updated_at),
            "version": self.version,
            "reminder_id": self.reminder_id,
            "reminder_time": self.reminder_time,
            "reminder_offered_on": self.reminder_offered_on,
            "time_zone": self.time_zone or None,
            "time_zone_checked_on": self.time_zone_checked_on if self.time_zone else None,
            "missing": list(self.missing),
            "seated": self.seated,
            "pace": self.pace,
            "pain_stopped": self.pain_stopped,
            "level": self.level,
            "kind": self.kind,
            "persons": list(self.persons),
            "listed_on": self.listed_on,
            "offer_account": self.offer_account,
        }

    def _stored_history(self) -> dict[str, list[str]]:
        """The last HISTORY_LIMIT completions as three aligned lists. Aligned and within the
        limit already, as everything this release makes is, they are copied as they are."""
        days, ids, kinds = self.history, self.history_ids, self.history_kinds
        if len(days) == len(ids) == len(kinds) <= HISTORY_LIMIT:
            return {"history": list(days), "history_ids": list(ids), "history_kinds": list(kinds)}
        kept = self.completions()[-HISTORY_LIMIT:]
        return {"history": [day for day, _ in kept],
                "history_ids": [identity for _, identity in kept],
                "history_kinds": list(_padded(kinds, len(days)))[-len(kept):] if kept else []}

    @cached_property
    def coarse_fingerprint(self) -> str:
        """The identity of what a write is due for at once (see `fingerprints`)."""
        at_start = self.at_start and not self.done
        under_way = self.position.exercise if self.position and not at_start else None
        return _digest(self._stored, version=None, updated_at=None, position=under_way,
                       heard_disclaimer=None)

    @cached_property
    def full_fingerprint(self) -> str:
        """The identity of the whole stored part but its version (the store's counter)."""
        return _digest(self._stored, version=None)

    def fingerprints(self) -> list[str]:
        """[coarse, full] identities of the stored part, so an unchanged turn costs no write.

        A change of the coarse one is written at once; the full one is compared when the
        session ends, which Alexa always tells us (SessionEndedRequest), so everything is
        written then. The coarse one is what a session that dies without that end (a Lambda
        crash, a write that keeps failing) must not lose: the exercises done and the one
        under way, finished routines, reminders, what the person told us. It leaves out
        what such a session may lose:
        - the set and round within an exercise (and when the place moved): moving through
          an exercise's rounds changes only the session;
        - the place while it is the start of a routine begun in this session (`at_start`):
          the store's item without a place means the same to the next session (the
          routine from its start), so every routine's start costs no write of its own;
        - the disclaimer heard: lost, it is only said once more, in full.
        Each is computed once, and only when asked: most turns compare the coarse one alone.
        """
        return [self.coarse_fingerprint, self.full_fingerprint]

    def session(self) -> PlainJson:
        """Everything, for the session attributes Alexa returns on the next turn.

        Shares the lists of the cached stored form: the dict is for the response, which is
        only serialised (as it is: PlainJson), never changed in place.
        """
        return PlainJson({
            **self._stored,
            # A failed lookup ("") must reach the next turn as it is, or every turn of the
            # session asks (and waits on) a failing settings API again; stored, it is None.
            "time_zone": self.time_zone,
            "briefed": self.briefed,
            "paused": self.paused,
            "finished": self.finished,
            "question": self.question.value if self.question else None,
            "at_start": self.at_start,
        })

    def for_new_session(self) -> Progress:
        """The same user at the start of a new session: nothing said yet, nothing asked."""
        return replace(self, briefed=False, paused=False, finished=False, question=None,
                       at_start=False)

    def completions(self) -> tuple[tuple[str, str], ...]:
        """(day, identity) of each finished routine, oldest first ("" for no identity)."""
        return tuple(zip(self.history, _padded(self.history_ids, len(self.history)), strict=True))

    def completed_on(self, day: date, identity: str | None = None) -> Progress:
        """Record a finished routine; the history is bounded and kept in order.

        The identity is made here, once, and travels with the progress (session, store), so
        every later write of this completion carries the same one. Random rather than derived
        from the clock: two devices finishing in the same second must still differ.
        """
        entry = (day.isoformat(), identity or secrets.token_hex(6))
        kinds = {**self.kinds(), entry: self.kind}
        return replace(self, **_history_fields((*self.completions(), entry), kinds),
                       position=None, done=(), finished=True, kind=FULL)

    def kinds(self) -> dict[tuple[str, str], str]:
        """The kind of each finished routine, by (day, identity); "" where it is unknown."""
        return dict(zip(self.completions(), _padded(self.history_kinds, len(self.history)),
                        strict=True))


def _padded(ids: tuple[str, ...], length: int) -> tuple[str, ...]:
    return (*ids, *("",) * (length - len(ids)))[:length]


def _history_fields(completions: tuple[tuple[str, str], ...],
                    kinds: dict[tuple[str, str], str] | None = None) -> dict[str, tuple[str, ...]]:
    kept = completions[-HISTORY_LIMIT:]
    return {"history": tuple(day for day, _ in kept),
            "history_ids": tuple(identity for _, identity in kept),
            "history_kinds": tuple((kinds or {}).get(entry, "") for entry in kept)}


def _digest(stored: dict[str, Any], **overrides: Any) -> str:
    """A short identity of a stored form with `overrides` applied: the repr of its values in
    their fixed order, the same in every process and Lambda instance (unlike hash()) and
    about twice as fast as a sorted json.dumps. The history lists, up to 60 entries each and
    the same on every turn of a session, go in by a cached identity of their own."""
    values = {**stored, **overrides}
    for key in _HISTORY_KEYS:
        values[key] = _history_digest(tuple(values[key]))
    return _sha(repr(tuple(values.values())))


_HISTORY_KEYS = ("history", "history_ids", "history_kinds")


@lru_cache(maxsize=256)
def _history_digest(entries: tuple[str, ...]) -> str:
    return _sha(repr(entries))


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _position_dict(position: Position | None) -> dict[str, Any] | None:
    if position is None:
        return None
    return {"exercise": position.exercise, "set": position.set_index, "rep": position.rep}


def _position_from(raw: Any) -> Position | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("exercise"), str):
        return None
    if "set" not in raw and "rep" not in raw:
        # Written before places were kept to the round: step 0 was the introduction, any
        # later step a part of the exercise, now its first round with the set-up restated.
        return Position(raw["exercise"], 0, 1 if _whole(raw.get("step")) > 0 else 0)
    return Position(raw["exercise"], _whole(raw.get("set")), _whole(raw.get("rep")))


def _whole(raw: Any) -> int:
    """A stored count from 0 up; anything else (NaN or 1e400 would make int() raise on
    every launch, a negative number is no place) is 0."""
    usable = isinstance(raw, int | float) and not isinstance(raw, bool) and math.isfinite(raw)
    return max(int(raw), 0) if usable else 0


def _text(raw: Any) -> str | None:
    return raw if isinstance(raw, str) else None


def _strings(raw: Any) -> tuple[str, ...]:
    return tuple(item for item in raw if isinstance(item, str)) if isinstance(raw, list) else ()


def _completions_from(days: Any, ids: Any) -> tuple[tuple[str, str], ...]:
    """Days and identities read side by side; an old item's plain list of dates gives
    completions without identity, one per entry."""
    if not isinstance(days, list):
        return ()
    ids = ids if isinstance(ids, list) else []
    return tuple(
        (day, identity if isinstance(identity, str) else "")
        for day, identity in zip_longest(days, ids[:len(days)], fillvalue="")
        if isinstance(day, str)
    )


def instant(text: str | None) -> datetime | None:
    """An ISO time as an aware instant; one written without an offset is UTC."""
    if not isinstance(text, str):
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


@lru_cache(maxsize=256)
def utc_text(text: str | None) -> str | None:
    """The same instant written in UTC, so stored times compare as instants and as text;
    text that is not a time is kept as it is (and reads as stale). Cached: a session reads
    and writes the same few times (when the place last moved) on every turn."""
    parsed = instant(text)
    if parsed is None:
        return text
    try:
        return parsed.astimezone(UTC).isoformat()
    except OverflowError:  # year 1 with a positive offset has no UTC form
        return text


def progress_from_dict(raw: Any) -> Progress:
    """Read either form, tolerating missing fields and older schemas (never raises)."""
    if not isinstance(raw, dict):
        return Progress()
    question = raw.get("question")
    version = raw.get("version")
    return Progress(
        position=_position_from(raw.get("position")),
        done=_strings(raw.get("done")),
        **_history_from(raw.get("history"), raw.get("history_ids"), raw.get("history_kinds")),
        heard_disclaimer=bool(raw.get("heard_disclaimer", False)),
        updated_at=utc_text(_text(raw.get("updated_at"))),
        version=version if is_version(version) else 0,
        reminder_id=_text(raw.get("reminder_id")),
        reminder_time=_text(raw.get("reminder_time")),
        reminder_offered_on=_text(raw.get("reminder_offered_on")),
        time_zone=_text(raw.get("time_zone")),
        time_zone_checked_on=_text(raw.get("time_zone_checked_on")),
        missing=_strings(raw.get("missing")),
        seated=raw.get("seated") is True,
        pace=_pace(raw.get("pace")),
        pain_stopped=raw.get("pain_stopped") is True,
        level=_text(raw.get("level")),
        kind=raw["kind"] if raw.get("kind") in KINDS else FULL,
        persons=_strings(raw.get("persons")),
        listed_on=_text(raw.get("listed_on")),
        offer_account=raw.get("offer_account") is True,
        briefed=bool(raw.get("briefed", False)),
        paused=bool(raw.get("paused", False)),
        finished=bool(raw.get("finished", False)),
        at_start=raw.get("at_start") is True,
        question=Question(question) if isinstance(question, str)
        and question in Question._value2member_map_ else None,
    )


# A completion's kind as stored: a routine kind, or "" for one finished before kinds were kept.
_STORED_KINDS = frozenset((*KINDS, ""))


def _history_from(days: Any, ids: Any, kinds: Any) -> dict[str, tuple[str, ...]]:
    """The history fields from their stored lists. Lists as this release writes them (text
    only, aligned, within the limit, every identity there and distinct) are taken as they
    are, checked by C-level set operations: reading them entry by entry gives the same
    result at several times the cost, on every turn of a user with months of history."""
    if (type(days) is list and type(ids) is list and type(kinds) is list
            and len(days) == len(ids) == len(kinds) <= HISTORY_LIMIT
            and set(map(type, (*days, *ids, *kinds))) <= {str}
            and "" not in ids and len(set(ids)) == len(ids) and set(kinds) <= _STORED_KINDS):
        return {"history": tuple(days), "history_ids": tuple(ids), "history_kinds": tuple(kinds)}
    return _history_fields(_completions_from(days, ids), _kinds_from(days, ids, kinds))


def _kinds_from(days: Any, ids: Any, kinds: Any) -> dict[tuple[str, str], str]:
    """The stored kind of each completion, by (day, identity), read side by side with the
    days as `_completions_from` reads them; an item from before kinds has none."""
    if not isinstance(days, list) or not isinstance(kinds, list):
        return {}
    ids = ids if isinstance(ids, list) else []
    return {
        (day, identity if isinstance(identity, str) else ""): kind
        for day, identity, kind in zip_longest(days, ids[:len(days)], kinds[:len(days)],
                                               fillvalue="")
        if isinstance(day, str) and kind in KINDS
    }


def _pace(raw: Any) -> float | None:
    """A stored pace, or None (the default) for anything that is not a usable multiplier;
    the routine snaps it to the content's nearest step."""
    usable = isinstance(raw, int | float) and not isinstance(raw, bool) and math.isfinite(raw)
    return float(raw) if usable and raw > 0 else None


def is_version(value: Any) -> bool:
    """A version as we write it: a whole number from 0 up (True is not one)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def streak(history: tuple[str, ...], today: date) -> int:
    """Days in a row with a finished routine, ending today or yesterday."""
    days = set()
    for item in history:
        try:
            days.add(date.fromisoformat(item))
        except ValueError:
            continue
    day = today if today in days else today - timedelta(days=1)
    count = 0
    while day in days:
        count += 1
        day -= timedelta(days=1)
    return count


def is_stale(updated_at: str | None, now: datetime, days: int) -> bool:
    """True when a half-done routine is too old to pick up mid-way."""
    if updated_at is None:
        return False
    then = instant(updated_at)
    return then is None or now - then > timedelta(days=days)


def merge_stored(ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    """Two devices wrote at once: keep every finished routine, and the newest position.

    Completions are a set union by identity (so two routines finished at the same moment
    on two devices both count, and our own write seen again after a lost acknowledgement
    counts once); entries without identity, from older items, are merged as a multiset
    per day as before. The position comes from whichever side changed it last (compared
    as instants, whatever offsets they were written with), and a disclaimer heard on
    either device counts as heard.
    """
    mine, other = progress_from_dict(ours), progress_from_dict(theirs)
    newest = mine if _when(mine) >= _when(other) else other
    merged = replace(
        newest,
        **_history_fields(_union(mine.completions(), other.completions()),
                          {**other.kinds(), **mine.kinds()}),
        heard_disclaimer=mine.heard_disclaimer or other.heard_disclaimer,
        version=max(mine.version, other.version),
        # What a person told us on either device still holds (nobody says "I have a band
        # now"), and a pain stop on either one is asked about: missing a check is worse than
        # asking once too often. The pace is the newest side's.
        missing=tuple(dict.fromkeys((*mine.missing, *other.missing))),
        seated=mine.seated or other.seated,
        pain_stopped=mine.pain_stopped or other.pain_stopped,
        # An account's list of voices only grows (deletion replaces the whole item), and the
        # offer of an account's progress, once made on either side, has been made.
        persons=tuple(dict.fromkeys((*mine.persons, *other.persons))),
        listed_on=max(mine.listed_on or "", other.listed_on or "") or None,
        offer_account=mine.offer_account and other.offer_account,
    )
    return merged.stored()


_NEVER = datetime.min.replace(tzinfo=UTC)


def _when(progress: Progress) -> datetime:
    return instant(progress.updated_at) or _NEVER


def _union(
    ours: tuple[tuple[str, str], ...], theirs: tuple[tuple[str, str], ...]
) -> tuple[tuple[str, str], ...]:
    """Both sides' completions, each once, in day order (stable: ties keep our order)."""
    known = {entry for entry in ours if entry[1]}
    extra = [entry for entry in theirs if entry[1] and entry not in known]
    plain_ours = [entry for entry in ours if not entry[1]]
    extra += _missing([entry for entry in theirs if not entry[1]], plain_ours)
    return tuple(sorted((*ours, *extra), key=lambda entry: entry[0]))


def _missing(extra: list[tuple[str, str]], base: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Items of `extra` not already in `base`, counting repeats."""
    remaining = list(base)
    missing = []
    for item in extra:
        if item in remaining:
            remaining.remove(item)
        else:
            missing.append(item)
    return missing


# People move: the device's time zone is asked again after this many days.
TIME_ZONE_EVERY_DAYS = 30


def with_time_zone(progress: Progress, found: str | None, today: date) -> Progress:
    """The settings API's answer applied: None means it was not asked this turn. A failed
    lookup ("") keeps a zone we already had (asked again in a month); without one, "" means
    UTC for this session and a new try next session."""
    if found is None:
        return progress
    if found or progress.time_zone:
        return replace(progress, time_zone=found or progress.time_zone,
                       time_zone_checked_on=today.isoformat())
    return replace(progress, time_zone="")


def zone_of(name: str | None) -> tzinfo:
    """The zone "today" is counted in; UTC until the device's zone is known."""
    if not name:
        return UTC
    # Imported here: zoneinfo's import reads sysconfig (~10 ms) on every cold start otherwise.
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def time_zone_due(progress: Progress, today: date, every_days: int = TIME_ZONE_EVERY_DAYS) -> bool:
    """Ask for the device's time zone for a new user, and again now and then (people move);
    not again in a session where the first lookup failed ("")."""
    if progress.time_zone == "":
        return False
    if progress.time_zone is None or progress.time_zone_checked_on is None:
        return True
    try:
        checked = date.fromisoformat(progress.time_zone_checked_on)
    except ValueError:
        return True
    return (today - checked).days >= every_days
