"""Progress on a real DynamoDB-compatible server (dynalite over HTTP on 127.0.0.1).

dynalite validates key types, table names and item sizes like DynamoDB does, so these
catch what moto lets through. The table comes from template.yaml's ProgressTable.
"""

from __future__ import annotations

import pytest

from skill.storage.store import KEY_ATTRIBUTE as KEY
from skill.storage.store_dynamodb import DynamoDbStore
from skill.tools.envelopes import DEFAULT_USER_ID, Device
from tests.conversation import Conversation
from tests.dynalite_server import dynamodb_client
from tests.storage import CountingClient, stored_item, template_table, throttled
from tests.test_dialogues import next_until_finished


@pytest.fixture
def dynalite(dynalite_endpoint):
    client = dynamodb_client(dynalite_endpoint)
    return client, template_table(client)


def _conversation(use_store, client, table, device: Device | None = None, fault=None):
    from skill import lambda_function

    counting = CountingClient(client, fault)
    use_store(DynamoDbStore(table, client=counting))
    return Conversation(lambda_function.handler, device), counting


def test_full_routine_with_throttling_on_every_second_write(dynalite, use_store, clock):
    client, table = dynalite

    def every_second_write(operation: str, count: int):
        return throttled(operation) if operation == "put_item" and count % 2 == 0 else None

    alexa, counting = _conversation(use_store, client, table, fault=every_second_write)
    alexa.launch()
    for heard in next_until_finished(alexa, alexa.say("StartRoutineIntent")):
        assert "went wrong" not in heard.text
    alexa.say("AMAZON.StopIntent")
    item = stored_item(client, table, DEFAULT_USER_ID)
    assert item["history"] == [clock.now.date().isoformat()]
    assert item["position"] is None and item["done"] == []
    assert item["heard_disclaimer"] is True
    assert counting.calls["get_item"] == 1


def test_stop_on_one_device_resume_on_another(dynalite, use_store):
    client, table = dynalite
    kitchen, _ = _conversation(use_store, client, table, Device(device_id="kitchen"))
    kitchen.launch()
    kitchen.say("StartRoutineIntent")
    kitchen.go_to("ankle circles", "ankle_circles")
    kitchen.say("AMAZON.StopIntent")
    bedroom, _ = _conversation(use_store, client, table, Device(device_id="bedroom"))
    bedroom.launch().hears("exercise 3, ankle circles")
    bedroom.say("AMAZON.YesIntent").hears("left foot")
    item = stored_item(client, table, DEFAULT_USER_ID)
    assert item["position"] == {"exercise": "ankle_circles", "set": 0, "rep": 1}


def test_skill_disabled_leaves_no_item(dynalite, use_store):
    client, table = dynalite
    alexa, _ = _conversation(use_store, client, table)
    alexa.launch()
    alexa.say("StartRoutineIntent")
    alexa.end()  # the session's end writes the routine's start
    assert stored_item(client, table, DEFAULT_USER_ID) is not None
    alexa.send(alexa.device.skill_disabled())
    assert stored_item(client, table, DEFAULT_USER_ID) is None


STARTED = 1_800_000_000.0
RECORDS = {
    "none": None,
    "ours at version 2": {"version": {"N": "2"}, "history": {"L": []}},
    "from before versions": {"history": {"L": [{"S": "2026-01-01"}]}},
    "tombstone older than the session": {"deleted_at": {"N": str(STARTED - 60)}},
    "tombstone as old as the session": {"deleted_at": {"N": str(STARTED)}},
    "tombstone newer than the session": {"deleted_at": {"N": str(STARTED + 60)}},
    "version '2'": {"version": {"S": "2"}},
    "version 2.5": {"version": {"N": "2.5"}},
    "version true": {"version": {"BOOL": True}},
    "deletion time 'soon'": {"deleted_at": {"S": "soon"}},
}


@pytest.mark.parametrize("record", RECORDS)
def test_dynamodb_conditions_say_what_expect_allows(dynalite, record):
    """DynamoDB's condition and the rule SQLite and memory check in code must agree on
    every kind of record, or the three stores would not behave alike."""
    from skill.storage.store import Expect, Found
    from skill.storage.store_dynamodb import decode
    from tests.storage import plant_item

    client, table = dynalite
    store = DynamoDbStore(table, client=client)
    raw = RECORDS[record]
    found_raw = {KEY: {"S": "u"}, **raw} if raw is not None else None
    found = Found({k: decode(v) for k, v in raw.items()}, found_raw) if raw is not None else None
    expectations = [Expect(0, STARTED), Expect(2, STARTED)]
    if found is not None:
        # Replacing what was read, and replacing a record read earlier that has changed since.
        changed = {KEY: {"S": "u"}, "version": {"S": "earlier"}}
        expectations += [Expect(replacing=found), Expect(replacing=Found({}, changed))]
    for expect in expectations:
        if raw is not None:
            plant_item(client, table, "u", raw)
        else:
            client.delete_item(TableName=table, Key={KEY: {"S": "u"}})
        written = store.put("u", {"version": 9}, expect)
        assert written == expect.allows(found), (record, expect)
