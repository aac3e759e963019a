"""A shared Echo: recognised voices keep their own place, streak and level; an unrecognised
voice keeps the account's; a new voice is asked once about the account's progress; levels,
the short routine and the weekly summary; deleting the skill deletes everyone's data.

Every test talks through `skill.lambda_function.handler` on a simulated Echo (tests/echo.py),
whose request timestamps are the skill's clock, so days pass as they do on a device.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable
from datetime import timedelta

import boto3
import pytest
from ask_sdk_model import RequestEnvelope
from moto import mock_aws

from skill import lambda_function
from skill.alexa.serializer import FastSerializer
from skill.content.routine import routine_for
from skill.storage.store import DELETED_ATTRIBUTE, MemoryStore, person_key
from skill.storage.store_dynamodb import DynamoDbStore
from skill.tools.cli import chat
from skill.tools.envelopes import Device, person_id_for
from tests.echo import Echo
from tests.storage import CountingClient, stored_item, template_table

ACCOUNT = "amzn1.ask.account.HOUSEHOLD"
ANN = "amzn1.ask.person.ANN"
BOB = "amzn1.ask.person.BOB"
# Bounds the "next" loops: the longest routine has far fewer turns than this.
MAX_TURNS = 80


@pytest.fixture
def store(use_store: Callable[[object], None]) -> MemoryStore:
    chosen = MemoryStore()
    use_store(chosen)
    return chosen


def echo(person: str | None, clock: Echo | None = None) -> Echo:
    """The household's kitchen Echo, as heard by one person (None: a voice it does not know);
    `clock` continues another Echo's time, so several people share one day."""
    device = Device(user_id=ACCOUNT, person_id=person)
    return Echo(lambda_function.handler, device, **({"clock": clock.clock} if clock else {}))


def finish(person: Echo, intent: str = "StartRoutineIntent") -> str:
    """Open the skill, start (`intent`) and say next until the routine is over; the words of
    its end. Any question on opening ("was that you?", "shall we pick up?") is answered no."""
    opened = person.open()
    if "was that you" in opened.text.lower():
        person.say("AMAZON.NoIntent")
    person.say(intent)
    for _ in range(MAX_TURNS):
        heard = person.say("NextExerciseIntent")
        if "you've finished your" in heard.text.lower():
            person.say("AMAZON.NoIntent")  # no daily reminder
            return heard.text
    raise AssertionError("the routine never finished")


def item(store: MemoryStore, key: str) -> dict:
    return json.loads(store.items[key])


def later(person: Echo, days: int = 0, hours: int = 0) -> Echo:
    person.clock += timedelta(days=days, hours=hours)
    return person


# -- recognised voices ---------------------------------------------------------------------------

def test_two_voices_keep_their_own_place_streak_and_level(store: MemoryStore) -> None:
    ann = echo(ANN)
    first_day = ann.clock.date().isoformat()
    finish(ann)
    bob = echo(BOB, clock=ann)
    bob.open()
    bob.say("EasierIntent").hears("made it easier")
    bob.say("StartRoutineIntent")
    bob.say("NextExerciseIntent")
    bob.say("NextExerciseIntent")
    bob.say("AMAZON.StopIntent").hears("saved your place")

    later(ann, days=1)
    heard = ann.open()
    assert "pick up" not in heard.text.lower(), "Bob's place is not Ann's"
    ann.say("StreakIntent").hears("finished the routine once")
    ann.say("LevelIntent").hears("standard level")
    ann.say("AMAZON.StopIntent")

    later(bob, days=1)
    bob.open().hears("toe walking", "pick up there")  # his own place, offered back
    bob.say("StreakIntent").hears("haven't finished a whole routine yet")
    bob.say("LevelIntent").hears("easier level")

    assert item(store, person_key(ACCOUNT, ANN))["history"] == [first_day]
    assert item(store, person_key(ACCOUNT, BOB))["level"] == "easier"


def test_a_recognised_voice_is_greeted_by_a_name_alexa_fills_in(store: MemoryStore) -> None:
    ann = echo(ANN)
    heard = ann.open()
    assert f'<alexa:name type="first" personId="{ANN}"/>.' in heard.ssml
    assert heard.text.startswith("Hello, [name].")
    stranger = echo(None, clock=ann)
    assert "alexa:name" not in stranger.open().ssml
    # Only the person id, which is the item's key, is kept; the name never reaches us.
    assert all("alexa:name" not in raw for raw in store.items.values())


def test_an_unrecognised_voice_keeps_the_accounts_record(store: MemoryStore) -> None:
    ann = echo(ANN)
    ann.open()
    ann.say("AMAZON.StopIntent")
    stranger = echo(None, clock=ann)
    finish(stranger)
    account = item(store, ACCOUNT)
    assert len(account["history"]) == 1
    assert account["persons"] == [ANN], "the account lists its voices for deletion"
    assert item(store, person_key(ACCOUNT, ANN))["history"] == []
    later(stranger, days=1)
    stranger.open()
    stranger.say("StreakIntent").hears("finished the routine once")


# -- "was that you?" -----------------------------------------------------------------------------

def test_a_new_voice_is_asked_once_and_takes_the_accounts_progress(store: MemoryStore) -> None:
    stranger = echo(None)
    finish(stranger)
    later(stranger, days=1)
    finish(stranger)
    stranger.open()
    stranger.say("AMAZON.StartOverIntent")
    stranger.say("NextExerciseIntent")
    stranger.say("AMAZON.StopIntent")  # a place under way, on the account's record

    ann = later(echo(ANN, clock=stranger), hours=2)
    ann.open().hears("was that you")
    # Theirs now, as the returning user they are: today's routine, and the place under way.
    ann.say("AMAZON.YesIntent").hears("that progress is yours now", "already done it once today",
                                      "pick up there")
    ann.say("AMAZON.StopIntent")
    mine = item(store, person_key(ACCOUNT, ANN))
    assert len(mine["history"]) == 2, "moved, not counted twice"
    assert mine["position"]["exercise"] == "toe_walking"
    account = item(store, ACCOUNT)
    assert account["history"] == [] and account["position"] is None
    assert account["persons"] == [ANN]

    later(ann, hours=1)
    heard = ann.open()
    assert "was that you" not in heard.text.lower(), "asked once"
    ann.say("StreakIntent").hears("finished the routine 2 times")
    bob = echo(BOB, clock=ann)
    assert "was that you" not in bob.open().text.lower(), "nothing left to offer"


def test_no_keeps_the_accounts_progress_and_is_not_asked_again(store: MemoryStore) -> None:
    stranger = echo(None)
    finish(stranger)
    ann = echo(ANN, clock=stranger)
    ann.open().hears("was that you")
    ann.say("AMAZON.NoIntent").hears("start fresh", "say yes to begin")
    ann.say("AMAZON.StopIntent")
    later(ann, days=1)
    assert "was that you" not in ann.open().text.lower()
    ann.say("StreakIntent").hears("haven't finished a whole routine yet")
    assert len(item(store, ACCOUNT)["history"]) == 1
    bob = echo(BOB, clock=ann)
    bob.open().hears("was that you")  # the account's progress is still the account's


def test_moving_twice_counts_nothing_twice(store: MemoryStore) -> None:
    """A retried move (a lost acknowledgement) merges by identity: no routine counts twice."""
    stranger = echo(None)
    finish(stranger)
    ann = echo(ANN, clock=stranger)
    ann.open()
    own = item(store, person_key(ACCOUNT, ANN))
    envelope = FastSerializer().deserialize(json.dumps(ann.device.launch()), RequestEnvelope)
    moved = store.take_account_progress(envelope, own)
    again = store.take_account_progress(envelope, moved)
    assert len(again["history"]) == 1
    assert item(store, ACCOUNT)["history"] == []


# -- levels --------------------------------------------------------------------------------------

def _first_set(person: Echo) -> str:
    person.say("AMAZON.StartOverIntent")
    return person.say("NextExerciseIntent").text


def test_levels_change_the_counts_and_holds_heard(store: MemoryStore) -> None:
    ann = echo(ANN)
    ann.open()
    standard = _first_set(ann)
    ann.say("AMAZON.StopIntent")
    ann.open()
    ann.say("EasierIntent").hears("made it easier", "fewer repetitions")
    ann.say("EasierIntent").hears("already the easiest level")
    easier = _first_set(ann)
    ann.say("AMAZON.StopIntent")
    ann.open()
    ann.say("HarderIntent")
    ann.say("HarderIntent").hears("step it up")
    ann.say("HarderIntent").hears("already the hardest level")
    harder = _first_set(ann)
    # Toe presses: ten presses held for five counts; easier about 60 % of both, harder
    # longer holds (eight), the same number of presses.
    assert standard.count("Press.") == 10 and "five." in standard and "six." not in standard
    assert easier.count("Press.") == 6 and "three." in easier and "four." not in easier
    assert harder.count("Press.") == 10 and "eight." in harder and "nine." not in harder
    ann.say("LevelIntent").hears("harder level")


# -- the short routine ---------------------------------------------------------------------------

@pytest.mark.parametrize("level", [None, "easier", "harder"])
def test_five_minutes_hears_how_long_the_short_routine_really_takes(
        store: MemoryStore, level: str | None) -> None:
    """ "I only have five minutes" is answered with the short routine's own length from its
    timings (rounded up to the minute under ten), never a rounder figure that agrees with
    nobody, and with how to stop early."""
    ann = echo(ANN)
    ann.open()
    if level:
        ann.say("EasierIntent" if level == "easier" else "HarderIntent")
    seconds = routine_for("short", level).seconds_from(0)
    minutes = math.ceil(seconds / 60)
    said = minutes if minutes < 10 else 5 * math.ceil(minutes / 5)
    started = ann.say("ShortRoutineIntent")
    started.hears(f"The short version takes about {said} minutes: toe presses",
                  "say stop, and I'll keep your place")


def test_the_short_routine_counts_and_is_recorded_as_short(store: MemoryStore) -> None:
    ann = echo(ANN)
    ann.open()
    started = ann.say("ShortRoutineIntent")
    started.hears("short routine for a busy day", "toe presses, toe walking and ankle circles",
                  "exercise 1 of 3")
    for _ in range(MAX_TURNS):
        heard = ann.say("NextExerciseIntent")
        if "finished your short routine" in heard.text:
            break
    else:
        raise AssertionError("the short routine never finished")
    assert "resisted flexion" not in heard.text
    ann.say("AMAZON.NoIntent")
    finish(later(ann, days=1))
    mine = item(store, person_key(ACCOUNT, ANN))
    assert mine["history_kinds"] == ["short", "full"]
    assert mine["kind"] == "full"
    ann.open()
    ann.say("StreakIntent").hears("two days in a row")


# -- the week ------------------------------------------------------------------------------------

def test_the_weekly_summary_across_a_simulated_week(store: MemoryStore) -> None:
    ann = echo(ANN)
    ann.open()
    ann.say("WeekSummaryIntent").hears("haven't done a routine that counts yet this week",
                                       "fresh start")
    ann.say("AMAZON.StopIntent")
    for day in range(3):  # Monday to Wednesday
        finish(later(ann, days=1 if day else 0))
    later(ann, days=2)  # Friday: a short one
    ann.open()
    ann.say("ShortRoutineIntent")
    for _ in range(MAX_TURNS):
        if "finished your short routine" in ann.say("NextExerciseIntent").text:
            break
    ann.say("AMAZON.NoIntent")
    later(ann, days=1)  # Saturday
    ann.open()
    ann.say("EasierIntent")
    heard = ann.say("WeekSummaryIntent")
    heard.hears("on four days", "easier level", "great week")
    card = heard.body["card"]
    assert card["title"] == "Your week with Foot Routine"
    assert "Days this week: 4" in card["content"] and "Days in a row: 1" in card["content"]
    assert "Level: easier" in card["content"]
    later(ann, days=7)
    ann.open()
    ann.say("WeekSummaryIntent").hears("haven't done a routine that counts yet this week")


def test_questions_read_once_and_write_nothing(store: MemoryStore) -> None:
    ann = echo(ANN)
    finish(ann)
    later(ann, days=1)
    reads, writes = store.reads, store.writes
    ann.open()
    for intent in ("LevelIntent", "WeekSummaryIntent", "StreakIntent", "ProgressIntent"):
        ann.say(intent)
    ann.say("AMAZON.StopIntent")
    assert store.reads - reads == 1, "one read per session per voice"
    assert store.writes == writes, "questions cost no write"
    ann.open()
    ann.say("HarderIntent")
    ann.say("AMAZON.StopIntent")
    assert store.writes == writes + 1, "a new level is written once"


# -- deletion ------------------------------------------------------------------------------------

def test_disabling_the_skill_deletes_every_voice_of_the_account(store: MemoryStore) -> None:
    ann = echo(ANN)
    finish(ann)
    bob = echo(BOB, clock=ann)
    finish(bob)
    stranger = echo(None, clock=bob)
    finish(stranger)
    ann.open()  # a session still open on another device during the deletion
    ann.say("StartRoutineIntent")
    later(stranger, hours=1)
    # A skill event: no session, no person, straight to the endpoint.
    lambda_function.handler(stranger.device.skill_disabled(stranger.clock), None)
    for key in (ACCOUNT, person_key(ACCOUNT, ANN), person_key(ACCOUNT, BOB)):
        assert set(item(store, key)) == {DELETED_ATTRIBUTE, "expires_at"}, key
        assert store.read(key) is None
    later(ann, hours=2)
    ann.say("NextExerciseIntent")
    ann.say("SkipExerciseIntent")
    ann.say("AMAZON.StopIntent")
    assert store.read(person_key(ACCOUNT, ANN)) is None, "a session from before cannot undo it"
    later(ann, days=1)
    ann.open().hears("welcome to foot routine")  # a new start, listed again
    ann.say("AMAZON.StopIntent")
    assert item(store, ACCOUNT)["persons"] == [ANN]


def test_a_household_on_dynamodb(use_store: Callable[[object], None],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The same rules through DynamoDB's conditions: the move, one read a session, deletion."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    with mock_aws():
        client = CountingClient(boto3.client("dynamodb", region_name="us-east-1"))
        table = template_table(client.client)
        use_store(DynamoDbStore(table, client=client))
        stranger = echo(None)
        finish(stranger)
        ann = later(echo(ANN, clock=stranger), days=1)
        ann.open().hears("was that you")
        ann.say("AMAZON.YesIntent").hears("that progress is yours now")
        ann.say("AMAZON.StopIntent")
        assert stored_item(client.client, table, ACCOUNT)["persons"] == [ANN]
        assert len(stored_item(client.client, table, person_key(ACCOUNT, ANN))["history"]) == 1
        reads = client.calls["get_item"]
        later(ann, hours=1)
        ann.open()
        ann.say("WeekSummaryIntent").hears("on one day")
        ann.say("AMAZON.StopIntent")
        assert client.calls["get_item"] == reads + 1
        lambda_function.handler(stranger.device.skill_disabled(ann.clock), None)
        assert stored_item(client.client, table, ACCOUNT) is None
        assert stored_item(client.client, table, person_key(ACCOUNT, ANN)) is None


# -- the console ---------------------------------------------------------------------------------

def test_the_console_plays_a_recognised_voice(store: MemoryStore) -> None:
    out = io.StringIO()
    chat(["open foot routine", "make it harder", "what level am i on", "quit"], out,
         echo=True, person="Ann", skill=lambda_function._skill)
    text = out.getvalue()
    assert "Alexa: Hello, [Ann]. Welcome to Foot Routine." in text
    assert "harder level" in text
    assert any(key.endswith(person_id_for("Ann")) for key in store.items)
    assert person_id_for("ann ") == person_id_for("Ann") != person_id_for("Bob")
