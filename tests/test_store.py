"""Progress that survives: stores, write economy, faults, two devices, deletion."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, date, datetime, timedelta

import boto3
import pytest
from ask_sdk_core.serialize import DefaultSerializer
from moto import mock_aws

from skill.conversation.progress import (
    HISTORY_LIMIT,
    Progress,
    is_stale,
    merge_stored,
    progress_from_dict,
    streak,
)
from skill.storage.store import StoreError, tombstone
from skill.storage.store_dynamodb import DynamoDbStore
from skill.storage.store_sqlite import SqliteStore
from skill.tools.envelopes import DEFAULT_USER_ID, Device
from tests.conversation import Conversation
from tests.storage import (
    CountingClient,
    connect_timeout,
    service_unavailable,
    stored_item,
    template_table,
    throttled,
)


@pytest.fixture
def moto_client(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    with mock_aws():
        yield boto3.client("dynamodb", region_name="us-east-1")


@pytest.fixture
def dynamo(moto_client, use_store):
    """The skill on a DynamoDB store (moto) through a counting client."""
    table = template_table(moto_client)
    counting = CountingClient(moto_client)
    use_store(DynamoDbStore(table, client=counting))
    return counting, table


def _talk():
    from skill import lambda_function

    return Conversation(lambda_function.handler)


def _routine_to_the_end(alexa: Conversation) -> None:
    alexa.launch()
    alexa.say("StartRoutineIntent")
    for _ in range(30):
        if "finished your foot routine" in alexa.say("NextExerciseIntent").text:
            return
    raise AssertionError("routine never finished")


def test_one_read_per_session_and_writes_only_on_change(dynamo):
    client, table = dynamo
    alexa = _talk()
    alexa.launch()
    assert client.calls["get_item"] == 1
    alexa.say("StartRoutineIntent")
    writes = client.calls["put_item"]
    for intent in ("AMAZON.RepeatIntent", "AMAZON.HelpIntent", "ProgressIntent",
                   "AMAZON.FallbackIntent", "ListExercisesIntent", "DisclaimerIntent"):
        alexa.say(intent)
    assert client.calls["put_item"] == writes, "questions and repeats cost no write"
    alexa.say("NextExerciseIntent")  # toe presses' rounds
    assert client.calls["put_item"] == writes, "rounds within an exercise wait for the end"
    alexa.say("NextExerciseIntent")  # all heard: toe walking
    assert client.calls["put_item"] == writes + 1, "a new exercise is written at once"
    alexa.say("NextExerciseIntent")  # toe walking's first three rounds, heard in full
    alexa.end("EXCEEDED_MAX_REPROMPTS")
    assert client.calls["put_item"] == writes + 2, "the session's end writes the exact round"
    assert client.calls["get_item"] == 1
    item = stored_item(client.client, table, DEFAULT_USER_ID)
    assert item["position"] == {"exercise": "toe_walking", "set": 0, "rep": 4}


def test_full_routine_is_recorded_with_ttl(dynamo, clock):
    client, table = dynamo
    _routine_to_the_end(_talk())
    item = stored_item(client.client, table, DEFAULT_USER_ID)
    assert item["history"] == [clock.now.date().isoformat()]
    assert item["position"] is None
    assert item["expires_at"] > clock.now.timestamp()
    assert item["schema_version"] == 1


@pytest.mark.parametrize("fault", [throttled, service_unavailable, connect_timeout])
def test_a_failed_write_is_retried_next_turn_with_the_full_state(moto_client, use_store, fault):
    table = template_table(moto_client)
    client = CountingClient(moto_client, lambda op, n: fault(op) if op == "put_item" and n % 2 else None)
    use_store(DynamoDbStore(table, client=client))
    alexa = _talk()
    alexa.launch()
    alexa.say("StartRoutineIntent")          # write 1 fails: nothing alarming is said
    heard = alexa.go_to("ankle circles", "ankle_circles")   # write 2 succeeds
    assert "wrong" not in heard.text.lower()
    item = stored_item(moto_client, table, DEFAULT_USER_ID)
    assert item["position"] == {"exercise": "ankle_circles", "set": 0, "rep": 1}
    assert item["heard_disclaimer"] is True


def test_a_read_fault_still_runs_the_routine(moto_client, use_store):
    table = template_table(moto_client)
    client = CountingClient(moto_client, lambda op, n: throttled(op) if op == "get_item" else None)
    use_store(DynamoDbStore(table, client=client))
    alexa = _talk()
    alexa.launch().hears("can't reach your saved progress")
    alexa.say("AMAZON.YesIntent").hears("Exercise 1 of 5")


def test_two_devices_merge_history_and_keep_the_newest_place(dynamo, clock):
    client, table = dynamo
    kitchen = Conversation(_talk().handler, Device(device_id="kitchen"))
    bedroom = Conversation(_talk().handler, Device(device_id="bedroom"))
    _routine_to_the_end(kitchen)            # history: today
    bedroom.launch()                        # read before the kitchen's next write
    kitchen.say("AMAZON.StartOverIntent")   # kitchen writes a newer version
    clock.advance(minutes=5)
    bedroom.say("StartRoutineIntent")       # stale version: conflict, re-read, merge
    bedroom.go_to("ankle circles", "ankle_circles")
    item = stored_item(client.client, table, DEFAULT_USER_ID)
    assert item["history"] == [clock.now.date().isoformat()]
    assert item["position"]["exercise"] == "ankle_circles"


def test_skill_disabled_deletes_the_record(dynamo):
    client, table = dynamo
    alexa = _talk()
    _routine_to_the_end(alexa)
    assert stored_item(client.client, table, DEFAULT_USER_ID)
    alexa.send(alexa.device.skill_disabled())
    assert stored_item(client.client, table, DEFAULT_USER_ID) is None


def test_no_user_id_in_any_log_line(moto_client, use_store, caplog):
    table = template_table(moto_client)
    client = CountingClient(moto_client, lambda op, n: throttled(op))
    use_store(DynamoDbStore(table, client=client))
    caplog.set_level(logging.DEBUG)
    alexa = _talk()
    alexa.launch()
    alexa.say("StartRoutineIntent")
    with pytest.raises(StoreError):  # a failed deletion fails the event, for Alexa to retry
        alexa.send(alexa.device.skill_disabled())
    assert caplog.records
    assert all(DEFAULT_USER_ID not in record.getMessage() for record in caplog.records)


def test_sqlite_store_resumes_across_sessions(tmp_path, use_store):
    use_store(SqliteStore(tmp_path / "progress.sqlite3"))
    alexa = _talk()
    alexa.launch()
    alexa.say("StartRoutineIntent")
    alexa.go_to("toe walking", "toe_walking")
    alexa.say("AMAZON.StopIntent")
    use_store(SqliteStore(tmp_path / "progress.sqlite3"))
    _talk().launch().hears("exercise 2, toe walking")


def test_sqlite_store_merges_concurrent_writers(tmp_path):
    first, second = SqliteStore(tmp_path / "p.db"), SqliteStore(tmp_path / "p.db")
    envelope = Conversation(None).device.launch()
    request = DefaultSerializer().deserialize(json.dumps(envelope), "ask_sdk_model.RequestEnvelope")
    first.save_attributes(request, {"history": ["2026-11-20"], "updated_at": "a", "version": 0})
    second.save_attributes(request, {"history": ["2026-11-21"], "updated_at": "b", "version": 0})
    merged = progress_from_dict(first.get_attributes(request))
    assert merged.history == ("2026-11-20", "2026-11-21")
    assert merged.version == 2


def test_an_item_from_an_older_schema_still_loads():
    old = {"position": {"exercise": "toe_walking"}, "history": ["2026-01-01", 7], "extra": 1}
    progress = progress_from_dict(old)
    assert progress.position.exercise == "toe_walking" and progress.history == ("2026-01-01",)


def test_attribute_value_codec_round_trips_the_stored_item():
    from skill.conversation.progress import Position, Progress
    from skill.storage.store_dynamodb import decode, encode

    item = Progress(position=Position("toe_walking", 0, 2), history=("2026-11-24",),
                    heard_disclaimer=True, version=3).stored()
    assert decode(encode(item)) == item
    assert encode(1.5) == {"N": "1.5"} and decode({"N": "1.5"}) == 1.5


def test_the_newest_place_is_decided_by_instant_whatever_the_offset():
    london = {"position": {"exercise": "toe_walking", "step": 0},
              "updated_at": "2026-11-24T09:10:00+01:00"}  # 08:10 UTC
    utc = {"position": {"exercise": "ankle_circles", "step": 0},
           "updated_at": "2026-11-24T08:50:00+00:00"}
    for ours, theirs in ((london, utc), (utc, london)):
        merged = merge_stored(ours, theirs)
        assert merged["position"]["exercise"] == "ankle_circles"
        assert merged["updated_at"] == "2026-11-24T08:50:00+00:00"


def test_times_are_stored_in_utc_and_one_without_offset_is_read_as_utc():
    assert Progress(updated_at="2026-11-24T09:10:00+01:00").stored()["updated_at"] \
        == "2026-11-24T08:10:00+00:00"
    naive = progress_from_dict({"position": {"exercise": "toe_walking"},
                                "updated_at": "2026-11-24T07:30:00"})
    assert naive.updated_at == "2026-11-24T07:30:00+00:00"
    assert not is_stale(naive.updated_at, datetime(2026, 11, 24, 8, tzinfo=UTC), days=7)


def test_completions_merge_as_a_set_so_a_write_seen_twice_counts_once():
    before = Progress().completed_on(date(2026, 11, 23))
    kitchen = before.completed_on(date(2026, 11, 24)).stored()
    bedroom = before.completed_on(date(2026, 11, 24)).stored()
    both = progress_from_dict(merge_stored(kitchen, bedroom))
    assert both.history == ("2026-11-23", "2026-11-24", "2026-11-24")
    assert progress_from_dict(merge_stored(both.stored(), kitchen)).history == both.history
    assert progress_from_dict(merge_stored(kitchen, kitchen)).history == ("2026-11-23", "2026-11-24")
    assert streak(both.history, date(2026, 11, 24)) == 2


def test_an_old_list_of_dates_reads_as_completions_without_identity():
    old = {"history": ["2026-11-22", "2026-11-22", "2026-11-23"]}
    progress = progress_from_dict(old)
    assert progress.completions() == (("2026-11-22", ""), ("2026-11-22", ""), ("2026-11-23", ""))
    # Merged with itself (the same old item read twice): still three, as before identities.
    assert progress_from_dict(merge_stored(old, old)).history == tuple(old["history"])
    newer = progress.completed_on(date(2026, 11, 24), "abc")
    assert newer.stored()["history_ids"] == ["", "", "", "abc"]
    merged = progress_from_dict(merge_stored(newer.stored(), old))
    assert merged.history == ("2026-11-22", "2026-11-22", "2026-11-23", "2026-11-24")


def test_the_history_stays_bounded():
    progress = Progress()
    for day in range(HISTORY_LIMIT + 10):
        progress = progress.completed_on(date(2026, 1, 1) + timedelta(days=day))
    stored = progress.stored()
    assert len(stored["history"]) == len(stored["history_ids"]) == HISTORY_LIMIT
    merged = merge_stored(stored, Progress().completed_on(date(2025, 1, 1)).stored())
    assert len(merged["history"]) == HISTORY_LIMIT and "2025-01-01" not in merged["history"]


def test_sqlite_clears_expired_tombstones_when_it_writes_one(tmp_path):
    import sqlite3

    store = SqliteStore(tmp_path / "p.db")
    store.bury("long-gone", {"deleted_at": 1.0, "expires_at": 2})
    store.bury("a-user", {"history": [], "expires_at": 2})
    with sqlite3.connect(tmp_path / "p.db") as db:  # a row the purge's JSON must not trip on
        db.execute("INSERT INTO progress VALUES ('not-json', 0, '{oops')")
    store.bury("just-now", tombstone(time.time()))
    assert store.fetch("long-gone") is None
    assert all(store.fetch(user) is not None for user in ("a-user", "not-json", "just-now"))
