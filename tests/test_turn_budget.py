"""A turn always answers in time: one budget for all outside calls, faults on real servers.

DynamoDB is a real local server (dynalite) behind tests/fault_proxy.py, so hangs, throttling,
500s and resets reach the skill through the store's real HTTP clients (its own with
credentials in the environment, as on Lambda; botocore's with a profile); Alexa's APIs are
the fake HTTPS server of tests/fake_alexa_api.py. The elapsed-time asserts are the issue's acceptance
criteria (launch < 4 s with DynamoDB hanging, < 5 s with the Alexa APIs hanging too, < 3 s
throttled), checked as generous upper bounds around one handler call.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from skill import lambda_function
from skill.alexa.api_client import TimedApiClient
from skill.alexa.app import build_skill
from skill.ops import budget
from skill.settings import Settings
from skill.storage.store_dynamodb import (
    ATTEMPT_TIMEOUTS,
    BotocoreCalls,
    DynamoDbStore,
    attempt_timeout,
)
from skill.tools.envelopes import DEFAULT_USER_ID, Device
from tests.conversation import Conversation, Heard
from tests.dynalite_server import dynamodb_client
from tests.fake_alexa_api import alexa_api  # noqa: F401 - fixture
from tests.fault_proxy import FaultProxy, Mode
from tests.storage import stored_item, template_table

CALM = "can't reach your saved progress"
ERROR = "went wrong"


@pytest.fixture
def table(dynalite_endpoint) -> tuple[object, str]:
    client = dynamodb_client(dynalite_endpoint)
    return client, template_table(client)


@pytest.fixture
def proxy(dynalite_endpoint) -> Iterator[FaultProxy]:
    port = int(dynalite_endpoint.rsplit(":", 1)[1])
    started = FaultProxy(port).start()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def credentials() -> str:
    """Where the store finds AWS credentials, which decides its client: "environment" (as on
    Lambda) or "profile" (a credentials file, botocore's clients). Tests may parametrize it."""
    return "environment"


@pytest.fixture
def skill_on_proxy(monkeypatch, tmp_path, credentials, table, proxy, clock):
    """The Lambda handler on a DynamoDbStore that builds its own client (as in production)
    pointed at the proxy, with the Alexa API client."""
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "AWS_PROFILE",
                 "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    if credentials == "environment":
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    else:
        profile = tmp_path / "credentials"
        profile.write_text("[default]\naws_access_key_id = test\naws_secret_access_key = test\n")
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(profile))
        monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    _, name = table
    store = DynamoDbStore(name, endpoint_url=proxy.url, region="us-east-1")
    if credentials == "profile":
        assert isinstance(store.calls, BotocoreCalls), "a profile is botocore's to read"
    monkeypatch.setattr(lambda_function, "_skill",
                        build_skill(store, clock, api_client=TimedApiClient()))


def _timed(send: Callable[[], Heard]) -> tuple[Heard, float]:
    started = time.monotonic()
    heard = send()
    return heard, time.monotonic() - started


def _calm(heard: Heard) -> None:
    assert ERROR not in heard.text.lower(), heard.text
    assert heard.ssml and heard.reprompt, "the user gets an answer and can go on"


def _device(api_url: str = "https://127.0.0.1:9") -> Device:
    """A device whose Alexa API calls reach `api_url`; by default a closed local port, so a
    test without the fake API never reaches the network."""
    return Device(api_endpoint=api_url, consent_token="consent-token-for-reminders")


def _alexa(device: Device | None = None) -> Conversation:
    return Conversation(lambda_function.handler, device or _device())


BOTH_CLIENTS = pytest.mark.parametrize("credentials", ["environment", "profile"])


@BOTH_CLIENTS
def test_launch_with_dynamodb_hanging_answers_within_4_seconds(skill_on_proxy, proxy):
    proxy.set_mode(Mode.HANG)
    heard, elapsed = _timed(_alexa().launch)
    assert elapsed < 4.0
    heard.hears(CALM)
    _calm(heard)
    assert proxy.requests >= 1, "the read was tried"


@BOTH_CLIENTS
def test_launch_with_dynamodb_and_alexa_apis_hanging_within_5_seconds(
        skill_on_proxy, proxy, alexa_api):  # noqa: F811 - pytest fixture injection
    proxy.set_mode(Mode.HANG)
    alexa_api.hang = True
    alexa = _alexa(_device(alexa_api.url))
    heard, elapsed = _timed(alexa.launch)
    assert elapsed < 5.0
    heard.hears(CALM)
    _calm(heard)
    assert alexa_api.requests == [], "after the read timed out, the time zone is not asked"


@BOTH_CLIENTS
def test_throttled_dynamodb_answers_within_3_seconds(skill_on_proxy, proxy):
    proxy.set_mode(Mode.THROTTLE)
    heard, elapsed = _timed(_alexa().launch)
    assert elapsed < 3.0
    heard.hears(CALM)
    _calm(heard)
    assert proxy.requests > 1, "throttling is retried while the budget lasts"


@BOTH_CLIENTS
@pytest.mark.parametrize("mode", [Mode.ERROR_500, Mode.RESET])
def test_failing_dynamodb_gets_a_calm_answer(skill_on_proxy, proxy, mode):
    proxy.set_mode(mode)
    heard, elapsed = _timed(_alexa().launch)
    assert elapsed < 4.0
    heard.hears(CALM)
    _calm(heard)


@BOTH_CLIENTS
def test_a_write_that_hangs_keeps_the_place_for_the_next_turn(skill_on_proxy, proxy, table):
    client, name = table
    alexa = _alexa()
    alexa.launch()
    alexa.say("StartRoutineIntent")
    proxy.set_mode(Mode.HANG)
    heard, elapsed = _timed(lambda: alexa.go_to("ankle circles", "ankle_circles"))
    assert elapsed < 4.0
    heard.hears("ankle circles")
    _calm(heard)
    proxy.set_mode(Mode.PASS)
    # The place in the session is written once DynamoDB is back ("repeat": the introduction
    # again, where "next" would play the rounds and, heard in full, move on).
    alexa.say("AMAZON.RepeatIntent")
    alexa.say("AMAZON.StopIntent")
    item = stored_item(client, name, DEFAULT_USER_ID)
    assert item["position"]["exercise"] == "ankle_circles"


def test_alexa_apis_hanging_alone_still_save_progress(skill_on_proxy, proxy, table, alexa_api):  # noqa: F811
    client, name = table
    alexa_api.hang = True
    alexa = _alexa(_device(alexa_api.url))
    heard, elapsed = _timed(alexa.launch)
    assert elapsed < 4.0
    _calm(heard)
    assert [call.path.rpartition("/")[2] for call in alexa_api.requests] == [
        "System.timeZone"], "the time zone was asked, and timed out"
    heard = alexa.say("StartRoutineIntent")
    _calm(heard)
    alexa.end()  # the session's end writes the routine's start
    assert stored_item(client, name, DEFAULT_USER_ID)["heard_disclaimer"] is True, \
        "the budget kept room for the progress write"


def test_a_turn_that_timed_out_skips_reminder_calls(skill_on_proxy, proxy, alexa_api):  # noqa: F811
    alexa = _alexa(_device(alexa_api.url))
    alexa.launch()
    proxy.set_mode(Mode.HANG)
    alexa.device.attributes.pop("progress", None)  # the next turn must read the store again
    heard = alexa.send(alexa.device.intent("SetReminderIntent", {
        "time": {"name": "time", "value": "08:00", "confirmationStatus": "NONE"}}))
    heard.hears("couldn't reach the reminder service")
    assert not alexa_api.reminder_calls()


# The budget itself.

def test_deadline_counts_down_and_remembers_a_timeout():
    now = [100.0]
    deadline = budget.Deadline(3.0, clock=lambda: now[0])
    assert deadline.remaining() == 3.0
    assert deadline.optional_seconds(2.0) == 2.0
    now[0] += 1.5
    assert deadline.optional_seconds(2.0) == pytest.approx(0.5), "the store's reserve is kept"
    deadline.record_timeout()
    assert deadline.optional_seconds(2.0) == 0.0 and not deadline.allows_optional_calls()
    now[0] += 5
    assert deadline.remaining() == 0.0


def test_each_thread_has_its_own_turn():
    seen: list[float] = []
    with budget.turn(0.0) as spent:
        worker = threading.Thread(target=lambda: seen.append(budget.current().remaining()))
        worker.start()
        worker.join(timeout=5)
        assert budget.current() is spent
    assert seen and seen[0] > 2.0, "another thread's turn is not this one"
    assert budget.current() is not spent, "the turn ends with its block"


def test_retries_stop_when_the_budget_is_spent():
    attempts: list[float] = []

    def attempt(remaining: float) -> None:
        attempts.append(remaining)
        raise ConnectionError("no answer")

    with pytest.raises(ConnectionError):
        budget.retry_within(0.05, attempt, lambda error: True, max_attempts=5,
                            min_attempt_seconds=0.1, sleep=lambda seconds: None)
    assert len(attempts) == 1


def test_back_off_jitter_comes_from_the_os_not_the_seeded_generator():
    # Under SnapStart every restored environment shares the `random` module's state: a
    # jitter drawn from it would make them all retry in step.
    draws = []
    for _ in range(2):
        random.seed(17)
        draws.append([budget.backoff_seconds(4) for _ in range(8)])
    assert draws[0] != draws[1]
    assert all(0 <= pause <= budget.BACKOFF_BASE_SECONDS * 8 for pause in draws[0])


def test_a_retried_failure_is_reported_before_the_pause():
    heard: list[tuple[str, int]] = []
    answers = iter([ConnectionError("first"), ConnectionError("second"), "answer"])

    def attempt(remaining: float) -> str:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    result = budget.retry_within(3.0, attempt, lambda error: True, max_attempts=3,
                                 sleep=lambda seconds: None,
                                 on_retry=lambda error, number: heard.append((str(error), number)))
    assert result == "answer" and heard == [("first", 1), ("second", 2)]


def test_attempt_timeouts_fit_in_what_is_left():
    assert attempt_timeout(3.0) == ATTEMPT_TIMEOUTS[0]
    assert attempt_timeout(0.6) == 0.5
    assert attempt_timeout(0.05) is None


@pytest.mark.parametrize("raw, seconds", [("", 3.0), ("2.5", 2.5), (" 6 ", 6.0)])
def test_turn_budget_is_configurable(raw, seconds):
    assert Settings.from_mapping({"TURN_BUDGET_SECONDS": raw}).turn_budget_seconds == seconds


@pytest.mark.parametrize("raw", ["abc", "0", "-1", "7", "nan", "inf"])
def test_a_wrong_turn_budget_stops_the_start(raw):
    with pytest.raises(ValueError, match="TURN_BUDGET_SECONDS"):
        Settings.from_mapping({"TURN_BUDGET_SECONDS": raw})
