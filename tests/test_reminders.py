"""Daily reminders end to end: the real ASK service client against a fake Reminders API."""

from __future__ import annotations

import pytest

from skill import lambda_function
from skill.alexa.api_client import TimedApiClient
from skill.alexa.app import build_skill
from skill.tools.envelopes import Device
from tests.conversation import Conversation
from tests.fake_alexa_api import alexa_api  # noqa: F401 - fixture
from tests.test_dialogues import next_until_finished

GRANTED = "consent-token-for-reminders"


@pytest.fixture
def skill_with_api(monkeypatch, store, clock):
    monkeypatch.setattr(lambda_function, "_skill",
                        build_skill(store, clock, api_client=TimedApiClient(timeout=2)))


@pytest.fixture
def alexa(skill_with_api, alexa_api):  # noqa: F811 - pytest fixture injection
    def talk(consent: str | None = GRANTED) -> Conversation:
        device = Device(api_endpoint=alexa_api.url, consent_token=consent)
        return Conversation(lambda_function.handler, device)

    return talk


def time_slot(value: str) -> dict:
    return {"time": {"name": "time", "value": value, "confirmationStatus": "NONE"}}


def set_reminder(conversation: Conversation, value: str):
    return conversation.send(conversation.device.intent("SetReminderIntent", time_slot(value)))


def test_set_sends_a_daily_reminder_in_the_users_time_zone(alexa, alexa_api, clock):  # noqa: F811
    conversation = alexa()
    conversation.launch()
    heard = set_reminder(conversation, "08:00")
    heard.hears("remind you every day at 8 AM")
    [call] = alexa_api.reminder_calls()
    assert call.method == "POST" and call.headers["Authorization"].startswith("Bearer ")
    trigger = call.body["trigger"]
    assert trigger["type"] == "SCHEDULED_ABSOLUTE"
    assert trigger["timeZoneId"] == "Europe/London"
    assert trigger["recurrence"]["recurrenceRules"] == [
        "FREQ=DAILY;BYHOUR=8;BYMINUTE=0;BYSECOND=0"]
    assert trigger["scheduledTime"].startswith("2026-11-25T08:00:00")  # 8 am has passed today
    assert call.body["alertInfo"]["spokenInfo"]["content"] == [
        {"locale": "en-US", "text": "Time for your foot routine. Just say, Alexa, open foot routine."}]
    assert call.body["pushNotification"] == {"status": "ENABLED"}


def test_move_query_and_cancel(alexa, alexa_api, store):  # noqa: F811
    conversation = alexa()
    conversation.launch()
    set_reminder(conversation, "08:00")
    set_reminder(conversation, "19:30").hears("7:30 PM")
    token = next(iter(alexa_api.reminders))
    assert [c.method for c in alexa_api.reminder_calls()] == ["POST", "PUT"]
    assert alexa_api.reminders[token]["trigger"]["recurrence"]["recurrenceRules"] == [
        "FREQ=DAILY;BYHOUR=19;BYMINUTE=30;BYSECOND=0"]
    conversation.say("ReminderStatusIntent").hears("daily reminder at 7:30 PM")
    conversation.say("CancelReminderIntent").hears("cancelled")
    assert alexa_api.reminders == {}
    conversation.say("ReminderStatusIntent").hears("don't have a daily reminder")
    assert store.read(Device().user_id)["reminder_id"] is None


def test_offer_after_the_routine_and_yes_sets_it_at_this_time(alexa, alexa_api, clock):  # noqa: F811
    conversation = alexa()
    conversation.launch()
    conversation.say("StartRoutineIntent")
    heard = next_until_finished(conversation, conversation.say("NextExerciseIntent"))[-1]
    heard.hears("remind you every day at this time?")
    # Alexa's time as "yes" is said, after the routine's playback: London is UTC in November.
    when = conversation.clock
    said = f"{when.hour % 12 or 12}:{when.minute:02d}" if when.minute else f"{when.hour % 12 or 12}"
    conversation.say("AMAZON.YesIntent").hears(f"every day at {said} AM")


def test_declined_offer_waits_a_week(alexa, clock):
    def finish(conversation: Conversation):
        """A whole routine: only one that counts toward the streak is offered a reminder."""
        conversation.launch()
        conversation.say("StartRoutineIntent")
        return next_until_finished(conversation, conversation.say("NextExerciseIntent"))[-1]

    first = alexa()
    finish(first).hears("remind you every day")
    first.say("AMAZON.NoIntent").hears("no problem")
    clock.advance(days=1)
    assert "remind you" not in finish(alexa()).text
    clock.advance(days=7)
    finish(alexa()).hears("remind you every day")


def test_without_permission_a_consent_card_is_sent(alexa, alexa_api):  # noqa: F811
    conversation = alexa(consent=None)
    conversation.launch()
    heard = set_reminder(conversation, "08:00")
    heard.hears("need your permission")
    assert heard.body["card"] == {"type": "AskForPermissionsConsent",
                                  "permissions": ["alexa::alerts:reminders:skill:readwrite"]}
    assert alexa_api.reminder_calls() == []


@pytest.mark.parametrize(
    "status,phrase",
    [(401, "need your permission"), (403, "aren't available on this device"),
     (429, "busy right now"), (500, "couldn't reach the reminder service"),
     (503, "couldn't reach the reminder service")],
)
def test_api_errors_get_a_clear_answer_and_lose_nothing(alexa, alexa_api, store, status, phrase):  # noqa: F811
    conversation = alexa()
    conversation.launch()
    conversation.say("StartRoutineIntent")
    conversation.go_to("ankle circles", "ankle_circles")
    alexa_api.fail_with = status
    heard = set_reminder(conversation, "08:00")
    heard.hears(phrase)
    assert not heard.ended
    item = store.read(Device().user_id)
    assert item["position"] == {"exercise": "ankle_circles", "set": 0, "rep": 1}
    assert item["reminder_id"] is None


def test_one_shot_cancel_answers_and_ends(alexa, alexa_api):  # noqa: F811
    conversation = alexa()
    conversation.launch()
    set_reminder(conversation, "MO").hears("9 AM")
    conversation.say("AMAZON.StopIntent")
    heard = alexa().say("CancelReminderIntent")
    heard.hears("cancelled")
    assert heard.ended


def test_time_zone_comes_from_the_settings_api(alexa, alexa_api, store, clock):  # noqa: F811
    alexa_api.time_zone = "Pacific/Honolulu"  # 08:00 UTC on the 24th is 22:00 on the 23rd
    conversation = alexa()
    conversation.launch()
    conversation.say("StartRoutineIntent")
    # A whole routine (one that counts), finished before midnight in Honolulu.
    next_until_finished(conversation, conversation.say("NextExerciseIntent"))
    assert store.read(Device().user_id)["history"] == ["2026-11-23"]
    settings_calls = [c for c in alexa_api.requests if "settings" in c.path]
    assert len(settings_calls) == 1
    conversation.say("AMAZON.StopIntent")
    alexa().launch()
    assert len([c for c in alexa_api.requests if "settings" in c.path]) == 1, "asked once per user"


def test_time_zone_is_asked_again_after_a_month(alexa, alexa_api, store, clock):  # noqa: F811
    alexa().launch()
    clock.advance(days=10)
    alexa_api.time_zone = "Asia/Kolkata"
    alexa().launch()
    assert store.read(Device().user_id)["time_zone"] == "Europe/London"
    clock.advance(days=21)
    alexa().launch()
    assert store.read(Device().user_id)["time_zone"] == "Asia/Kolkata"
    assert len([c for c in alexa_api.requests if "settings" in c.path]) == 2


def test_a_failed_time_zone_lookup_is_not_repeated_in_the_same_session(alexa, alexa_api):  # noqa: F811
    # Every turn would otherwise wait on a settings API that is failing (up to 2 s if it hangs).
    alexa_api.time_zone_fails_with = 500
    conversation = alexa()
    conversation.launch()
    conversation.say("StartRoutineIntent")
    conversation.say("NextExerciseIntent")
    assert len([c for c in alexa_api.requests if "settings" in c.path]) == 1
    conversation.say("AMAZON.StopIntent")
    alexa().launch()
    assert len([c for c in alexa_api.requests if "settings" in c.path]) == 2, "asked again next session"
