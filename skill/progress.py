"""Where a user is in the routine and what they have done, as a value, plus its wire forms.

Two forms on purpose: the session form carries the whole conversation state between
turns (Alexa hands it back to us), the stored form keeps only what must outlive the
session, small and versioned so an item written by an older release still loads.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

SCHEMA_VERSION = 1
# Enough days to answer "what's my streak" for two months; keeps the item tiny.
HISTORY_LIMIT = 60


class Question(StrEnum):
    """The yes/no question we last asked, so "yes" and "no" answer the right thing."""

    START = "start"
    RESUME = "resume"
    RESTART = "restart"
    REMINDER = "reminder"


@dataclass(frozen=True)
class Position:
    """An exercise by id (stable if the routine is reordered) and a step within it."""

    exercise: str
    step: int = 0


@dataclass(frozen=True)
class Progress:
    # Kept between sessions.
    position: Position | None = None
    done: tuple[str, ...] = ()
    history: tuple[str, ...] = ()
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
    # Kept only for the current session.
    briefed: bool = False
    paused: bool = False
    finished: bool = False
    question: Question | None = None

    def stored(self) -> dict[str, Any]:
        """The part that outlives the session, in the stored (versioned) form."""
        return {
            "schema_version": SCHEMA_VERSION,
            "position": _position_dict(self.position),
            "done": list(self.done),
            "history": list(self.history[-HISTORY_LIMIT:]),
            "heard_disclaimer": self.heard_disclaimer,
            "updated_at": self.updated_at,
            "version": self.version,
            "reminder_id": self.reminder_id,
            "reminder_time": self.reminder_time,
            "reminder_offered_on": self.reminder_offered_on,
            "time_zone": self.time_zone or None,
            "time_zone_checked_on": self.time_zone_checked_on if self.time_zone else None,
        }

    def fingerprints(self) -> list[str]:
        """[coarse, full] identities of the stored part, so an unchanged turn costs no write.

        The coarse one leaves out the step within an exercise (and when it moved): moving
        through an exercise's sets changes only the session, and the exact step is written
        when the session ends.
        """
        stored = self.stored()
        del stored["version"]
        full = _digest(stored)
        stored.update(updated_at=None, position=_position_dict(
            replace(self.position, step=0) if self.position else None))
        return [_digest(stored), full]

    def session(self) -> dict[str, Any]:
        """Everything, for the session attributes Alexa returns on the next turn."""
        return {
            **self.stored(),
            "briefed": self.briefed,
            "paused": self.paused,
            "finished": self.finished,
            "question": self.question.value if self.question else None,
        }

    def for_new_session(self) -> Progress:
        """The same user at the start of a new session: nothing said yet, nothing asked."""
        return replace(self, briefed=False, paused=False, finished=False, question=None)

    def completed_on(self, day: date) -> Progress:
        """Record a finished routine; the history is bounded and kept in order."""
        history = (*self.history, day.isoformat())[-HISTORY_LIMIT:]
        return replace(self, history=history, position=None, done=(), finished=True)


def _digest(stored: dict[str, Any]) -> str:
    encoded = json.dumps(stored, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()[:16]


def _position_dict(position: Position | None) -> dict[str, Any] | None:
    if position is None:
        return None
    return {"exercise": position.exercise, "step": position.step}


def _position_from(raw: Any) -> Position | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("exercise"), str):
        return None
    step = raw.get("step", 0)
    return Position(raw["exercise"], int(step) if isinstance(step, int | float) else 0)


def _text(raw: Any) -> str | None:
    return raw if isinstance(raw, str) else None


def _strings(raw: Any) -> tuple[str, ...]:
    return tuple(item for item in raw if isinstance(item, str)) if isinstance(raw, list) else ()


def progress_from_dict(raw: Any) -> Progress:
    """Read either form, tolerating missing fields and older schemas (never raises)."""
    if not isinstance(raw, dict):
        return Progress()
    question = raw.get("question")
    return Progress(
        position=_position_from(raw.get("position")),
        done=_strings(raw.get("done")),
        history=_strings(raw.get("history")),
        heard_disclaimer=bool(raw.get("heard_disclaimer", False)),
        updated_at=_text(raw.get("updated_at")),
        version=raw["version"] if isinstance(raw.get("version"), int) else 0,
        reminder_id=_text(raw.get("reminder_id")),
        reminder_time=_text(raw.get("reminder_time")),
        reminder_offered_on=_text(raw.get("reminder_offered_on")),
        time_zone=_text(raw.get("time_zone")),
        time_zone_checked_on=_text(raw.get("time_zone_checked_on")),
        briefed=bool(raw.get("briefed", False)),
        paused=bool(raw.get("paused", False)),
        finished=bool(raw.get("finished", False)),
        question=Question(question) if question in Question._value2member_map_ else None,
    )


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
    try:
        then = datetime.fromisoformat(updated_at)
    except ValueError:
        return True
    return now - then > timedelta(days=days)


def merge_stored(ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    """Two devices wrote at once: keep every finished routine, and the newest position.

    History is a union (as a multiset, so two routines on one day both count), the
    position comes from whichever side changed it last, and a disclaimer heard on either
    device counts as heard.
    """
    mine, other = progress_from_dict(ours), progress_from_dict(theirs)
    newest = mine if (mine.updated_at or "") >= (other.updated_at or "") else other
    history = sorted(mine.history + tuple(_missing(other.history, mine.history)))
    merged = replace(
        newest,
        history=tuple(history[-HISTORY_LIMIT:]),
        heard_disclaimer=mine.heard_disclaimer or other.heard_disclaimer,
        version=max(mine.version, other.version),
    )
    return merged.stored()


def _missing(extra: tuple[str, ...], base: tuple[str, ...]) -> list[str]:
    """Items of `extra` not already in `base`, counting repeats."""
    remaining = list(base)
    missing = []
    for item in extra:
        if item in remaining:
            remaining.remove(item)
        else:
            missing.append(item)
    return missing


def time_zone_due(progress: Progress, today: date, every_days: int) -> bool:
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
