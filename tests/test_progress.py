"""Progress as a value and when it is written: the write rule through real envelopes, and the
cached forms (stored, session, fingerprints) behaving exactly as freshly built ones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from skill.conversation.progress import (
    HISTORY_LIMIT,
    Position,
    Progress,
    _completions_from,
    _history_fields,
    _kinds_from,
    progress_from_dict,
)
from skill.storage.store import MemoryStore
from skill.tools.envelopes import DEFAULT_USER_ID
from tests.conversation import Clock, Conversation

Talk = Callable[[], Conversation]
FINISHED = "finished your foot routine"
QUIET = ("AMAZON.RepeatIntent", "AMAZON.HelpIntent", "ProgressIntent", "AMAZON.FallbackIntent")


def _item(store: MemoryStore) -> dict[str, Any]:
    return json.loads(store.items[DEFAULT_USER_ID])


def _exercise(alexa: Conversation) -> str | None:
    """The exercise the session is on, as the next turn will get it back."""
    position = (alexa.device.attributes.get("progress") or {}).get("position")
    return position["exercise"] if position else None


# -- when a write is due, through real envelopes ---------------------------------------------

def test_a_routine_start_costs_no_write_and_a_crash_there_loses_nothing_done(talk: Talk,
                                                                          store: MemoryStore):
    alexa = talk()
    alexa.launch().hears("Welcome to Foot Routine")
    alexa.say("AMAZON.YesIntent").hears("Exercise 1 of 5", "an important note")
    alexa.say("NextExerciseIntent")  # the first exercise's rounds
    assert store.writes == 0, "a start is what the store's empty place means anyway"
    # The session dies without its end (a Lambda crash): the next one starts the routine
    # again, with the full disclaimer, as it would for someone who never heard it.
    alexa.launch().hears("Welcome to Foot Routine")
    alexa.say("AMAZON.YesIntent").hears("Exercise 1 of 5", "an important note")


def test_the_session_end_writes_the_start_and_the_disclaimer_heard(talk: Talk,
                                                                  store: MemoryStore):
    alexa = talk()
    alexa.launch()
    alexa.say("AMAZON.YesIntent")
    alexa.end("EXCEEDED_MAX_REPROMPTS")
    assert store.writes == 1
    item = _item(store)
    assert item["position"]["exercise"] == "toe_presses" and item["heard_disclaimer"] is True
    alexa.launch().hears("Welcome back")


def test_leaving_the_start_for_another_exercise_is_written_at_once(talk: Talk,
                                                                  store: MemoryStore):
    alexa = talk()
    alexa.launch()
    alexa.say("AMAZON.YesIntent")
    alexa.go_to("ankle circles", "ankle_circles")
    assert store.writes == 1
    assert _item(store)["position"]["exercise"] == "ankle_circles"


def test_starting_over_mid_routine_is_written_at_once(talk: Talk, store: MemoryStore):
    alexa = talk()
    alexa.launch()
    alexa.say("AMAZON.YesIntent")
    alexa.say("NextExerciseIntent")
    alexa.say("NextExerciseIntent").hears("Exercise 2 of 5")
    writes = store.writes
    alexa.say("AMAZON.StartOverIntent").hears("starting over")
    assert store.writes == writes + 1, "the place the store holds is no longer the person's"
    assert _item(store)["done"] == [] and _item(store)["position"]["exercise"] == "toe_presses"


def test_a_full_routine_writes_each_new_exercise_and_the_finish_only(talk: Talk,
                                                                    store: MemoryStore,
                                                                    clock: Clock):
    """The write rule over a whole routine, a returning user's too: no write on opening or
    starting; after that a write on exactly the turns that enter another exercise (a quiet
    turn does when the rounds before it were heard to the end) and on the finish; none at
    the end that follows it."""
    for day in range(2):
        alexa = talk()
        start = store.writes
        alexa.launch()
        alexa.say("AMAZON.YesIntent")
        assert store.writes == start, f"day {day}: opening and starting write nothing"
        entered = 0
        for turn in range(80):
            intent = QUIET[turn // 2 % len(QUIET)] if turn % 2 else "NextExerciseIntent"
            before, exercise = store.writes, _exercise(alexa)
            if FINISHED in alexa.say(intent).text.lower():
                assert store.writes == before + 1, "the finish is written at once"
                break
            moved = _exercise(alexa) != exercise
            entered += moved
            assert store.writes == before + moved, f"turn {turn} ({intent}): only on a move"
        else:
            raise AssertionError("the routine never finished")
        alexa.end()
        assert entered == 4 and store.writes == start + entered + 1
        assert len(_item(store)["history"]) == day + 1 and _item(store)["position"] is None
        clock.advance(days=1)


# -- the cached forms are the freshly built ones -------------------------------------------------

def _with_history(count: int) -> Progress:
    progress = Progress(position=Position("toe_walking", 0, 2), done=("toe_presses",))
    for day in range(count):
        progress = progress.completed_on(date(2026, 1, 1) + timedelta(days=day))
    return replace(progress, position=Position("toe_walking", 0, 2), done=("toe_presses",))


def test_stored_hands_out_a_copy_the_store_may_change():
    progress = _with_history(3)
    before = (progress.stored(), progress.session(), progress.fingerprints())
    handed = progress.stored()
    handed["expires_at"] = 1  # what a store adds to the item it writes
    handed["history"].append("2030-01-01")
    handed["position"]["rep"] = 9
    assert (progress.stored(), progress.session(), progress.fingerprints()) == before


def test_the_fingerprints_follow_what_they_stand_for():
    progress = _with_history(2)
    coarse, full = progress.fingerprints()
    next_round = replace(progress, position=Position("toe_walking", 0, 3),
                         updated_at="2026-03-02T08:00:00+00:00")
    assert next_round.fingerprints()[0] == coarse and next_round.fingerprints()[1] != full
    for changed in (replace(progress, position=Position("ankle_circles")),
                    replace(progress, done=()), replace(progress, seated=True),
                    progress.completed_on(date(2026, 3, 2))):
        assert changed.coarse_fingerprint != coarse
    # Only a start begun in this session, with nothing done, leaves the place out.
    start = Progress(position=Position("toe_presses", 0, 1), at_start=True)
    assert start.coarse_fingerprint == Progress().coarse_fingerprint
    assert replace(start, at_start=False).coarse_fingerprint != Progress().coarse_fingerprint
    assert (replace(start, done=("ankle_circles",)).coarse_fingerprint
            != replace(Progress(), done=("ankle_circles",)).coarse_fingerprint)
    assert replace(start, heard_disclaimer=True).coarse_fingerprint == start.coarse_fingerprint
    assert replace(start, heard_disclaimer=True).full_fingerprint != start.full_fingerprint


def test_the_fingerprints_are_the_same_in_every_process():
    """Another Lambda instance may answer the next turn: no per-process hash seed may count."""
    progress = _with_history(HISTORY_LIMIT + 2)
    code = ("import json, sys; from skill.conversation.progress import progress_from_dict; "
            "print(json.dumps(progress_from_dict(json.load(sys.stdin)).fingerprints()))")
    for seed in ("1", "2"):
        found = subprocess.run([sys.executable, "-c", code], input=json.dumps(progress.session()),
                               capture_output=True, text=True, check=True, timeout=60,
                               env={**os.environ, "PYTHONHASHSEED": seed})
        assert json.loads(found.stdout) == progress_from_dict(progress.session()).fingerprints()


@pytest.mark.parametrize("history", [
    {},
    {"history": ["2026-01-01", "2026-01-02"], "history_ids": ["a", "b"],
     "history_kinds": ["full", "short"]},
    {"history": ["2026-01-01", "2026-01-02"], "history_ids": ["a", "b"],
     "history_kinds": ["", "full"]},
    {"history": ["2026-01-01", "2026-01-01"], "history_ids": ["", ""],
     "history_kinds": ["short", "full"]},
    {"history": ["2026-01-01", "2026-01-02"], "history_ids": ["a", "a"],
     "history_kinds": ["short", "full"]},
    {"history": ["2026-01-01", 7, "2026-01-03"], "history_ids": ["a", "b", "c"],
     "history_kinds": ["full", "full", "full"]},
    {"history": ["2026-01-01", "2026-01-02"], "history_ids": ["a"], "history_kinds": ["full"]},
    {"history": ["2026-01-01"], "history_ids": ["a"], "history_kinds": ["weekly"]},
    {"history": ["2026-01-01"], "history_ids": ["a"], "history_kinds": [["full"]]},
    {"history": "2026-01-01", "history_ids": ["a"], "history_kinds": ["full"]},
    {"history": [f"2026-01-{day:02}" for day in range(1, 31)] * 3,
     "history_ids": [str(n) for n in range(90)], "history_kinds": ["full"] * 90},
])
def test_a_stored_history_reads_as_entry_by_entry(history: dict[str, Any]):
    """Lists as this release writes them are taken whole; every other shape still reads
    as the entry-by-entry reading does, and the stored form is the same either way."""
    days, ids, kinds = (history.get(key) for key in ("history", "history_ids", "history_kinds"))
    expected = _history_fields(_completions_from(days, ids), _kinds_from(days, ids, kinds))
    progress = progress_from_dict(history)
    assert {key: getattr(progress, key) for key in expected} == expected
    assert progress_from_dict(progress.stored()) == progress


def test_history_fields_out_of_line_are_stored_aligned_and_bounded():
    """Fields a caller built unaligned (identities or kinds from before they were kept) or
    over the limit are stored the long way: padded, aligned, the newest kept."""
    old = Progress(history=("2026-01-01", "2026-01-02", "2026-01-03"), history_ids=("x",))
    assert old.stored()["history_ids"] == ["x", "", ""]
    assert old.stored()["history_kinds"] == ["", "", ""]
    days = tuple(f"d{n:03}" for n in range(HISTORY_LIMIT + 5))
    long = Progress(history=days, history_ids=days, history_kinds=("full",) * len(days))
    assert long.stored()["history"] == list(days[-HISTORY_LIMIT:])
    assert long.stored()["history_ids"] == list(days[-HISTORY_LIMIT:])
