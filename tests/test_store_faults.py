"""Storage under faults, on real stores: two devices finishing at once, a lost
acknowledgement, a deletion while a session is still open elsewhere, and stored data that is
not what we wrote.

DynamoDB runs on dynalite over HTTP on 127.0.0.1 (tests/dynalite_server.py), SQLite on a
file, the in-memory store where the rule is the same; the skill is always driven through the
Lambda handler, as a device drives it.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from skill import lambda_function
from skill.storage.store import MemoryStore, ProgressStore, StoreError
from skill.storage.store_dynamodb import DynamoDbStore, decode, encode
from skill.storage.store_sqlite import SqliteStore
from skill.tools.envelopes import DEFAULT_USER_ID, Device
from tests import conversation
from tests.conversation import Conversation, Heard, WallClock
from tests.dynalite_server import dynamodb_client
from tests.storage import CountingClient, plant_item, read_timeout, template_table, throttled

ROUNDS = 4  # per device: 8 routines in all
WAIT_S = 60  # bound on every wait for the other thread
FINISHED = "finished your foot routine"
TROUBLE = ("went wrong", "can't reach")


@dataclass
class Backend:
    store: ProgressStore
    plant: Callable[[Any], None]  # stores a record for the default user, exactly as given
    record: Callable[[], Any]  # the default user's record as stored, decoded


def _dynalite(endpoint: str, fault: Any = None, lost_ack: Any = None) -> tuple[Backend, Any]:
    client = dynamodb_client(endpoint)
    table = template_table(client)
    counting = CountingClient(client, fault, lost_ack)
    store = DynamoDbStore(table, client=counting)

    def record() -> Any:
        found = client.get_item(TableName=table, Key={"user_id": {"S": DEFAULT_USER_ID}},
                                ConsistentRead=True).get("Item")
        return {key: decode(value) for key, value in found.items()} if found else None

    plant = functools.partial(plant_item, client, table, DEFAULT_USER_ID)
    return Backend(store, plant, record), counting


def _sqlite(path: Any) -> Backend:
    import sqlite3

    store = SqliteStore(path)
    store.read(DEFAULT_USER_ID)  # creates the table

    def plant(text: Any) -> None:
        with sqlite3.connect(path) as db:
            db.execute("INSERT OR REPLACE INTO progress VALUES (?, 0, ?)", (DEFAULT_USER_ID, text))

    def record() -> Any:
        with sqlite3.connect(path) as db:
            row = db.execute("SELECT item FROM progress WHERE user_id = ?",
                             (DEFAULT_USER_ID,)).fetchone()
        return json.loads(row[0]) if row else None

    return Backend(store, plant, record)


def _memory() -> Backend:
    store = MemoryStore()

    def plant(text: Any) -> None:
        store.items[DEFAULT_USER_ID] = text

    def record() -> Any:
        text = store.items.get(DEFAULT_USER_ID)
        return json.loads(text) if text is not None else None

    return Backend(store, plant, record)


@pytest.fixture(params=["dynalite", "sqlite", "memory"])
def backend(request: pytest.FixtureRequest, tmp_path: Any) -> Backend:
    if request.param == "dynalite":
        return _dynalite(request.getfixturevalue("dynalite_endpoint"))[0]
    if request.param == "sqlite":
        return _sqlite(tmp_path / "progress.sqlite3")
    return _memory()


def _device(name: str) -> Conversation:
    return Conversation(lambda_function.handler, Device(device_id=name))


def _calm(*heard: Heard) -> None:
    for answer in heard:
        assert not any(words in answer.text for words in TROUBLE), answer.text


def _nexts_to_finish(use_store: Callable[[object], None]) -> int:
    """How many "next"s after "start" finish the routine (a dry run on a store of its own)."""
    use_store(MemoryStore())
    alexa = _device("dry-run")
    alexa.launch()
    alexa.say("StartRoutineIntent")
    for count in range(1, 60):
        if FINISHED in alexa.say("NextExerciseIntent").text:
            return count
    raise AssertionError("routine never finished")


def _to_the_last_step(alexa: Conversation, nexts: int) -> None:
    """From a launch already made, through the routine to just before its end. Every device
    launches before any starts: one launched later would offer the other's place."""
    _calm(alexa.say("StartRoutineIntent"))
    for _ in range(nexts - 1):
        _calm(alexa.say("NextExerciseIntent"))


# ------------------------------------------------------------------ two devices, one user


def test_eight_routines_finished_on_two_devices_at_once_are_eight(backend, use_store,
                                                                  monkeypatch):
    monkeypatch.setattr(conversation, "ALEXA", WallClock())  # two threads at once
    nexts = _nexts_to_finish(use_store)
    use_store(backend.store)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def device(name: str) -> None:
        alexa = _device(name)
        try:
            for _ in range(ROUNDS):
                barrier.wait(WAIT_S)
                _calm(alexa.launch())
                barrier.wait(WAIT_S)  # both read the same stored state
                _to_the_last_step(alexa, nexts)
                barrier.wait(WAIT_S)  # and both finish at the same moment
                alexa.say("NextExerciseIntent").hears(FINISHED)
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)
            barrier.abort()

    threads = [threading.Thread(target=device, args=(name,)) for name in ("kitchen", "bedroom")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_S * 2 * ROUNDS)
    assert not any(thread.is_alive() for thread in threads)
    assert not errors, errors
    item = backend.store.read(DEFAULT_USER_ID)
    assert len(item["history"]) == 2 * ROUNDS
    assert len(set(item["history_ids"])) == 2 * ROUNDS


def test_a_write_whose_acknowledgement_was_lost_counts_once(dynalite_endpoint, use_store):
    nexts = _nexts_to_finish(use_store)
    armed = threading.Event()

    def lost_ack(operation: str, count: int) -> Exception | None:
        if operation == "put_item" and armed.is_set():
            armed.clear()
            return read_timeout(operation)
        return None

    backend, _ = _dynalite(dynalite_endpoint, lost_ack=lost_ack)
    use_store(backend.store)
    kitchen, bedroom = _device("kitchen"), _device("bedroom")
    _calm(kitchen.launch(), bedroom.launch())
    _to_the_last_step(kitchen, nexts)
    _to_the_last_step(bedroom, nexts)
    armed.set()
    _calm(kitchen.say("NextExerciseIntent").hears(FINISHED))  # stored; the answer is lost
    assert not armed.is_set(), "the acknowledgement was lost"
    kitchen.say("AMAZON.StopIntent")  # and written again, whatever the first write did
    assert len(backend.store.read(DEFAULT_USER_ID)["history"]) == 1
    _calm(bedroom.say("NextExerciseIntent").hears(FINISHED))
    item = backend.store.read(DEFAULT_USER_ID)
    assert len(item["history"]) == 2 and len(set(item["history_ids"])) == 2


# ------------------------------------------------------------------ deletion means deletion


def test_a_session_open_before_a_deletion_cannot_bring_the_data_back(backend, use_store):
    use_store(backend.store)
    now = datetime.now(UTC)
    kitchen = _device("kitchen")
    _calm(kitchen.send(kitchen.device.launch(now=now - timedelta(minutes=2))))
    kitchen.say("StartRoutineIntent")
    kitchen.go_to("ankle circles", "ankle_circles")
    assert backend.store.read(DEFAULT_USER_ID) is not None
    phone = _device("phone")
    phone.send(phone.device.skill_disabled(now=now - timedelta(minutes=1)))
    assert backend.store.read(DEFAULT_USER_ID) is None

    # The kitchen's session goes on: a new exercise, then its end, both want a write.
    _calm(kitchen.go_to("toe walking", "toe_walking"), kitchen.say("NextExerciseIntent"))
    kitchen.say("AMAZON.StopIntent")
    assert backend.store.read(DEFAULT_USER_ID) is None
    assert set(backend.record() or {}) <= {"deleted_at", "expires_at", "user_id"}, \
        "nothing of the user is kept"

    # A session begun after the deletion starts fresh, and its place is kept again.
    bedroom = _device("bedroom")
    _calm(bedroom.send(bedroom.device.launch(now=now)))
    bedroom.say("StartRoutineIntent")
    bedroom.say("AMAZON.StopIntent")
    item = backend.store.read(DEFAULT_USER_ID)
    assert item is not None and item["history"] == [] and item["position"] is not None
    assert item["position"]["exercise"] != "toe_walking"


def test_a_failed_deletion_fails_the_event_so_alexa_retries(dynalite_endpoint, use_store, caplog):
    failing = threading.Event()

    def fault(operation: str, count: int) -> Exception | None:
        return throttled(operation) if failing.is_set() else None

    backend, _ = _dynalite(dynalite_endpoint, fault=fault)
    use_store(backend.store)
    alexa = _device("kitchen")
    alexa.launch()
    alexa.say("StartRoutineIntent")
    alexa.end()  # the session's end writes the routine's start
    failing.set()
    with pytest.raises(StoreError):
        alexa.send(alexa.device.skill_disabled())
    assert any(record.levelno == logging.ERROR and "deleting progress" in record.getMessage()
               for record in caplog.records)
    failing.clear()
    assert backend.store.read(DEFAULT_USER_ID) is not None
    alexa.send(alexa.device.skill_disabled())  # Alexa's retry
    assert backend.store.read(DEFAULT_USER_ID) is None


# ------------------------------------------------------------------ data not as we wrote it

MID_ROUTINE = {
    "position": {"exercise": "ankle_circles", "step": 0},
    "history": ["2026-11-23"],
    "heard_disclaimer": True,
    "updated_at": "2026-11-24T07:30:00+00:00",
    "version": 2,
}
_JSON = '{"position": {"exercise": "ankle_circles", "step": 0}, "history": ["2026-11-23"]'
DYNAMODB_CASES = {
    "version-string-3": {"version": {"S": "3"}},
    "version-2.5": {"version": {"N": "2.5"}},
    "version-true": {"version": {"BOOL": True}},
    "version-abc": {"version": {"S": "abc"}},
    "updated-at-without-offset": {"updated_at": {"S": "2026-11-24T07:30:00"}},
    "unknown-fields": {"colour": {"S": "blue"}, "blob": {"B": b"\x00\xff"},
                       "tags": {"SS": ["a", "b"]}, "nested": {"M": {"x": {"L": [{"NULL": True}]}}}},
}
TEXT_CASES = {
    "not-json": "{not json",
    "json-list": "[1, 2]",
    "deeply-nested": "[" * 100_000 + "]" * 100_000,
    "1e400": "1e400",
    "nan": "NaN",
    "version-1e400": _JSON + ', "version": 1e400}',
    "version-nan": _JSON + ', "version": NaN}',
    "step-nan": '{"position": {"exercise": "ankle_circles", "step": NaN}, "version": 2}',
    "version-string-3": _JSON + ', "version": "3"}',
    "version-2.5": _JSON + ', "version": 2.5}',
    "version-true": _JSON + ', "version": true}',
    "version-abc": _JSON + ', "version": "abc"}',
    "updated-at-without-offset": _JSON + ', "version": 2, "updated_at": "2026-11-24T07:30:00"}',
    "unknown-fields": _JSON + ', "version": 2, "colour": "blue", "more": {"a": [null, 1.5]}}',
}
# Cases read as they are (normalised on the way in): nothing to replace, nothing to log.
TOLERATED = {"updated-at-without-offset", "unknown-fields", "step-nan"}


def _check_a_working_skill(backend: Backend, case: str, caplog: pytest.LogCaptureFixture) -> None:
    """Two sessions on top of the bad record: no error heard, the place kept, the record
    replaced by a good one, and one log line for it (none for what is only normalised)."""
    caplog.set_level(logging.INFO)
    alexa = _device("kitchen")
    _calm(alexa.launch(), alexa.say("StartRoutineIntent"), alexa.go_to("toe walking", "toe_walking"),
          alexa.say("AMAZON.StopIntent"))
    _calm(alexa.launch().hears("exercise 2, toe walking"))
    record = backend.record()
    assert type(record["version"]) is int and record["version"] >= 1, "a record of ours again"
    assert record["position"]["exercise"] == "toe_walking"
    complaints = [record.getMessage() for record in caplog.records
                  if record.levelno >= logging.WARNING]
    if case in TOLERATED:
        assert complaints == []
    else:
        assert len(complaints) == 1 and "replaced unreadable progress" in complaints[0]


@pytest.mark.parametrize("case", DYNAMODB_CASES)
def test_dynamodb_item_not_as_we_wrote_it(case, dynalite_endpoint, use_store, caplog):
    backend, _ = _dynalite(dynalite_endpoint)
    backend.plant({**{key: encode(value) for key, value in MID_ROUTINE.items()},
                   **DYNAMODB_CASES[case]})
    use_store(backend.store)
    _check_a_working_skill(backend, case, caplog)
    assert backend.store.read(DEFAULT_USER_ID)["history"] == ["2026-11-23"], "salvaged"


@pytest.mark.parametrize("store_kind", ["sqlite", "memory"])
@pytest.mark.parametrize("case", TEXT_CASES)
def test_stored_text_not_as_we_wrote_it(case, store_kind, tmp_path, use_store, caplog):
    backend = _sqlite(tmp_path / "progress.sqlite3") if store_kind == "sqlite" else _memory()
    backend.plant(TEXT_CASES[case])
    use_store(backend.store)
    _check_a_working_skill(backend, case, caplog)
