"""What an operator gets from each turn: the JSON log line, the EMF metrics, the local funnel.

Dialogues run through `skill.lambda_function.handler` (and once through the web endpoint), so
what is checked is what production prints. Every log line and every EMF document is validated
against the schemas below; the metric values of whole scripted routines are checked exactly.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skill import lambda_function
from skill.alexa.app import build_skill
from skill.alexa.handlers import INTENT_EVENTS
from skill.content.routine import load_routine
from skill.conversation.phases import Phase
from skill.conversation.values import EventKind
from skill.ops import budget
from skill.ops.metrics import (
    MAX_VALUES,
    NAMESPACE,
    SERVICE_DIMENSION,
    SPECS,
    Dim,
    EmfPrinter,
    Metric,
    Tally,
)
from skill.ops.telemetry import (
    JsonLineFormatter,
    Outcome,
    emit_emf_on_lambda,
    funnel_printed,
    log_turns_as_json_lines,
    observer,
    summary,
)
from skill.storage.store import Expect, Found, MemoryStore, StoreError, user_ref
from skill.tools.envelopes import Device, slot
from tests.conversation import Conversation, Heard

EXERCISES = [exercise.id for exercise in load_routine().exercises]
FINISHED = "finished your foot routine"
MAX_TURNS = 80  # a whole routine is about 25 turns; a regression must fail, not loop

# ----------------------------------------------------------------------------- the schemas

PHASES = {phase.value for phase in Phase}
PAIN_INTENTS = sorted(name for name, kind in INTENT_EVENTS.items() if kind is EventKind.PAIN)
OUTCOMES = {outcome.value for outcome in Outcome}
CALL_SCHEMA = {"op": str, "ms": (int, float), "ok": bool}
# Field -> type(s), or a set of allowed values. Exactly these fields, no others: a new field
# is a decision (is it personal?) and must be added here on purpose.
LOG_LINE_SCHEMA: dict[str, Any] = {
    "timestamp": str,
    "level": {"INFO", "WARNING"},
    "message": {"turn"},
    "logger": {"skill.ops.telemetry"},
    "request_type": str,
    "intent": (str, type(None)),
    "locale": str,
    "new_session": bool,
    "ends_session": bool,
    "phase_before": PHASES,
    "phase_after": PHASES,
    "exercise": (str, type(None)),
    "step": (int, type(None)),
    "duration_ms": (int, float),
    "store_calls": [CALL_SCHEMA],
    "store_ms": (int, float),
    "api_calls": [CALL_SCHEMA],
    "outcome": OUTCOMES,
    "error": (str, type(None)),
    "funnel": [set(Metric)],
    "user": (str, type(None)),
}
EMF_UNITS = {"Count", "Milliseconds"}


def check(value: Any, schema: Any, where: str) -> None:
    """A small structural validator: dict = exact object, [s] = list of s, set = one of,
    type or tuple of types = isinstance (bool is never accepted as a number)."""
    if isinstance(schema, dict):
        assert isinstance(value, dict), f"{where}: not an object"
        assert set(value) == set(schema), f"{where}: fields {sorted(set(value) ^ set(schema))}"
        for key, sub in schema.items():
            check(value[key], sub, f"{where}.{key}")
    elif isinstance(schema, list):
        assert isinstance(value, list), f"{where}: not a list"
        for index, item in enumerate(value):
            check(item, schema[0], f"{where}[{index}]")
    elif isinstance(schema, set):
        assert value in schema, f"{where}: {value!r} not one of {sorted(map(str, schema))}"
    else:
        numeric = schema in (int, float) or (isinstance(schema, tuple) and int in schema)
        assert not (numeric and isinstance(value, bool)), f"{where}: a bool is not a number"
        assert isinstance(value, schema), f"{where}: {value!r} is not {schema}"


def check_log_line(line: dict[str, Any]) -> None:
    check(line, LOG_LINE_SCHEMA, "line")
    assert line["duration_ms"] >= 0 and line["store_ms"] >= 0
    assert line["user"] is None or len(line["user"]) == 12


def check_emf(document: dict[str, Any]) -> None:
    """CloudWatch's EMF specification, and our own rules: known names, low-cardinality
    dimensions, Service on every set."""
    meta = document["_aws"]
    assert isinstance(meta["Timestamp"], int) and meta["Timestamp"] > 0
    assert meta["CloudWatchMetrics"], "a document without metrics"
    for directive in meta["CloudWatchMetrics"]:
        assert set(directive) == {"Namespace", "Dimensions", "Metrics"}
        assert directive["Namespace"] == NAMESPACE
        for dimension_set in directive["Dimensions"]:
            assert dimension_set[0] == SERVICE_DIMENSION and len(dimension_set) <= 30
            for name in dimension_set:
                assert name == SERVICE_DIMENSION or name in set(Dim)
                assert isinstance(document[name], str) and document[name]
        for metric in directive["Metrics"]:
            assert set(metric) == {"Name", "Unit"}
            assert metric["Name"] in set(Metric)
            assert metric["Unit"] == SPECS[Metric(metric["Name"])].unit in EMF_UNITS
            value = document[metric["Name"]]
            values = value if isinstance(value, list) else [value]
            assert 1 <= len(values) <= MAX_VALUES
            assert all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    assert document.get(Dim.EXERCISE, EXERCISES[0]) in {*EXERCISES, "none", "other"}
    assert document.get(Dim.PHASE, "idle") in PHASES


# ----------------------------------------------------------------------------- fixtures


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record not in self.records:
            self.records.append(record)


class Captured:
    """Every log record of the turn (any logger) and every EMF document printed."""

    def __init__(self, handler: Collect, emf: io.StringIO) -> None:
        self.handler = handler
        self.emf = emf

    def lines(self) -> list[dict[str, Any]]:
        formatter = JsonLineFormatter()
        lines = [json.loads(formatter.format(record)) for record in self.handler.records
                 if record.name == "skill.ops.telemetry" and record.getMessage() == "turn"]
        for line in lines:
            check_log_line(line)
        return lines

    def documents(self) -> list[dict[str, Any]]:
        documents = [json.loads(text) for text in self.emf.getvalue().splitlines()]
        for document in documents:
            check_emf(document)
        return documents

    def total(self, metric: Metric, **dimensions: str) -> float:
        """A metric summed over every EMF document (each value counted once)."""
        total = 0.0
        for document in self.documents():
            names = {m["Name"] for d in document["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
            if metric in names and all(document.get(Dim[k.upper()]) == v
                                       for k, v in dimensions.items()):
                value = document[metric]
                total += sum(value) if isinstance(value, list) else value
        return total

    def everything(self) -> str:
        """All output an operator could ever read: log records fully formatted (messages,
        extras, tracebacks) and the EMF lines."""
        plain, structured = logging.Formatter(), JsonLineFormatter()
        return "\n".join([*(f"{plain.format(r)}\n{structured.format(r)}"
                            for r in self.handler.records), self.emf.getvalue()])


@pytest.fixture
def captured() -> Iterator[Captured]:
    handler, emf = Collect(), io.StringIO()
    loggers = [logging.getLogger(), logging.getLogger("skill.ops.telemetry")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    printer = EmfPrinter("foot-routine-test-skill", emf)
    observer.sinks.append(printer)
    try:
        yield Captured(handler, emf)
    finally:
        observer.sinks.remove(printer)
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


def finish(conversation: Conversation) -> Heard:
    """"next" until the routine is finished (bounded)."""
    for _ in range(MAX_TURNS):
        heard = conversation.say("NextExerciseIntent")
        if FINISHED in heard.text:
            return heard
    raise AssertionError("the routine never finished")


def next_until(conversation: Conversation, exercise: str, set_index: int, rep: int) -> None:
    """"next" until the user stands on `exercise` at round `rep` of set `set_index`
    (bounded)."""
    for _ in range(MAX_TURNS):
        position = conversation.device.attributes["progress"]["position"]
        if position == {"exercise": exercise, "set": set_index, "rep": rep}:
            return
        conversation.say("NextExerciseIntent")
    raise AssertionError(f"never reached {exercise} set {set_index} round {rep}")


# ----------------------------------------------------------------------------- dialogues


def test_a_full_routine_produces_the_expected_metrics(talk, store, captured) -> None:
    alexa = talk()
    alexa.launch()
    alexa.say("AMAZON.YesIntent")
    finish(alexa)
    alexa.say("AMAZON.NoIntent")  # no reminder, thanks
    alexa.say("AMAZON.StopIntent")
    turns = len(captured.lines())

    assert captured.total(Metric.SESSIONS_STARTED) == 1
    assert captured.total(Metric.SESSIONS_STARTED, locale="en-US") == 1
    assert captured.total(Metric.ROUTINES_STARTED) == 1
    for exercise in EXERCISES:
        assert captured.total(Metric.EXERCISES_STARTED, exercise=exercise) == 1, exercise
    assert captured.total(Metric.ROUTINES_COMPLETED, kind="full") == 1
    assert captured.total(Metric.ROUTINES_COMPLETED, kind="short") == 0
    for metric in (Metric.DROP_OFFS, Metric.PAIN_STOPS, Metric.FALLBACKS,
                   Metric.POLITE_ERRORS, Metric.BUDGET_OVERRUNS, Metric.STORE_FAULTS):
        assert captured.total(metric) == 0, metric
    assert captured.total(Metric.TURNS) == turns
    assert captured.total(Metric.TURNS, request_type="LaunchRequest") == 1
    latencies = [d[Metric.STORE_LATENCY] for d in captured.documents() if Metric.STORE_LATENCY in d]
    assert sum(len(v) if isinstance(v, list) else 1 for v in latencies) == store.reads + store.writes

    lines = captured.lines()
    assert [line["phase_before"] for line in lines[:2]] == ["idle", "offered"]
    assert lines[1]["phase_after"] == "exercising" and lines[1]["exercise"] == EXERCISES[0]
    assert {line["outcome"] for line in lines} == {"answered"}
    assert lines[0]["store_calls"][0]["op"] == "read"
    assert lines[-1]["ends_session"] is True
    assert {line["user"] for line in lines} == {user_ref(alexa.device.user_id)}


def test_a_skipped_exercise_makes_a_short_routine(talk, captured) -> None:
    alexa = talk()
    alexa.launch()
    alexa.say("AMAZON.YesIntent")
    alexa.say("SkipExerciseIntent")
    finish(alexa)
    assert captured.total(Metric.ROUTINES_COMPLETED, kind="short") == 1
    assert captured.total(Metric.EXERCISES_STARTED, exercise=EXERCISES[0]) == 1
    assert captured.total(Metric.ROUTINES_COMPLETED, kind="full") == 0


@pytest.mark.parametrize("intent", PAIN_INTENTS)
def test_a_pain_stop_is_counted_at_its_exercise_and_is_no_drop_off(talk, captured, intent):
    alexa = talk()
    alexa.launch()
    alexa.say("AMAZON.YesIntent")
    next_until(alexa, EXERCISES[1], 0, 1)
    assert alexa.say(intent).ended
    assert captured.total(Metric.PAIN_STOPS) == 1
    assert captured.total(Metric.PAIN_STOPS, exercise=EXERCISES[1]) == 1
    assert captured.total(Metric.DROP_OFFS) == 0
    assert captured.total(Metric.ROUTINES_COMPLETED) == 0
    last = captured.lines()[-1]
    assert last["intent"] == intent and last["ends_session"] and last["funnel"] == ["PainStops"]


def test_a_session_ending_mid_set_is_a_drop_off_at_that_exercise_and_step(talk, captured):
    alexa = talk()
    alexa.launch()
    alexa.say("AMAZON.YesIntent")
    next_until(alexa, EXERCISES[2], 0, 1)
    alexa.end("EXCEEDED_MAX_REPROMPTS")  # the user walked away
    assert captured.total(Metric.DROP_OFFS) == 1
    assert captured.total(Metric.DROP_OFFS, exercise=EXERCISES[2]) == 1
    (document,) = [d for d in captured.documents() if Metric.DROP_OFFS in d]
    assert document["step"] == 0  # the set within the exercise
    assert captured.total(Metric.ROUTINES_STARTED) == 1
    assert captured.total(Metric.EXERCISES_STARTED, exercise=EXERCISES[3]) == 0
    last = captured.lines()[-1]
    assert last["request_type"] == "SessionEndedRequest" and last["phase_before"] == "exercising"

    # Next day they pick up where they were: a new session and a new start, no new drop-off.
    alexa.launch()
    alexa.say("AMAZON.YesIntent")
    assert captured.total(Metric.SESSIONS_STARTED) == 2
    assert captured.total(Metric.ROUTINES_STARTED) == 2
    assert captured.total(Metric.EXERCISES_STARTED, exercise=EXERCISES[2]) == 2
    alexa.say("AMAZON.StopIntent")
    assert captured.total(Metric.DROP_OFFS, exercise=EXERCISES[2]) == 2


def test_stopping_before_starting_is_no_drop_off(talk, captured) -> None:
    alexa = talk()
    alexa.launch()
    alexa.say("AMAZON.StopIntent")
    assert captured.total(Metric.SESSIONS_STARTED) == 1
    assert captured.total(Metric.ROUTINES_STARTED) == 0
    assert captured.total(Metric.DROP_OFFS) == 0


def test_fallbacks_are_counted_by_phase(talk, captured) -> None:
    alexa = talk()
    alexa.launch()
    alexa.say("AMAZON.FallbackIntent")
    alexa.say("AMAZON.YesIntent")
    alexa.say("AMAZON.FallbackIntent")
    # "pause" ends the session (a device cannot wait); a cramp pauses the set in session.
    alexa.say("CrampIntent")
    alexa.say("NoSuchIntent")  # an intent the skill has no rule for is not understood either
    assert captured.total(Metric.FALLBACKS) == 3
    for phase in ("offered", "exercising", "paused"):
        assert captured.total(Metric.FALLBACKS, phase=phase) == 1, phase
    assert captured.total(Metric.ROUTINES_STARTED) == 1  # a pause is not a new start


# ----------------------------------------------------------------------------- faults


class FaultyStore(MemoryStore):
    """Fails reads or writes on demand, the way a throttled or unreachable table does."""

    def __init__(self, fail: str, error: type[Exception] = StoreError) -> None:
        super().__init__()
        self.fail = fail
        self.error = error

    def fetch(self, user_id: str) -> Found | None:
        if self.fail == "read":
            raise self.error("read failed")
        return super().fetch(user_id)

    def put(self, user_id: str, item: dict[str, Any], expect: Expect) -> bool:
        if self.fail == "write":
            raise self.error("write failed")
        return super().put(user_id, item, expect)


def test_a_failed_read_is_a_store_fault_and_the_turn_still_answers(use_store, captured):
    use_store(FaultyStore("read"))
    heard = Conversation(lambda_function.handler).launch()
    assert heard.text
    (line,) = captured.lines()
    first = line["store_calls"][0]
    assert (first["op"], first["ok"]) == ("read", False)
    assert line["outcome"] == "answered" and line["level"] == "INFO"
    assert captured.total(Metric.STORE_FAULTS) == 1


def test_a_failed_write_is_a_store_fault(use_store, captured) -> None:
    use_store(FaultyStore("write"))
    alexa = Conversation(lambda_function.handler)
    alexa.launch()
    alexa.say("AMAZON.YesIntent")  # the routine's start: no write of its own
    alexa.go_to("ankle circles", "ankle_circles")  # another exercise: a write
    line = captured.lines()[-1]
    assert [(call["op"], call["ok"]) for call in line["store_calls"]] == [("write", False)]
    assert captured.total(Metric.STORE_FAULTS) == 1


def test_an_unexpected_failure_is_a_polite_error(use_store, captured) -> None:
    use_store(FaultyStore("read", error=RuntimeError))
    heard = Conversation(lambda_function.handler).launch()
    assert heard.text and not heard.ended  # the calm error line, the session stays open
    (line,) = captured.lines()
    assert line["outcome"] == "polite_error" and line["error"] == "RuntimeError"
    assert line["level"] == "WARNING"
    assert captured.total(Metric.POLITE_ERRORS) == 1
    assert captured.total(Metric.STORE_FAULTS) == 1


class Ticker:
    """A clock the test moves: the store call below "takes" 1.5 s without any waiting."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_durations_are_measured_on_the_observer_clock(use_store, captured, monkeypatch):
    ticker = Ticker()
    monkeypatch.setattr(observer, "clock", ticker)

    class SlowStore(MemoryStore):
        def fetch(self, user_id: str) -> Found | None:
            ticker.now += 1.5
            return super().fetch(user_id)

    use_store(SlowStore())
    Conversation(lambda_function.handler).launch()
    (line,) = captured.lines()
    assert line["store_calls"] == [{"op": "read", "ms": 1500.0, "ok": True}]
    assert line["duration_ms"] == 1500.0 and line["outcome"] == "answered"
    assert captured.total(Metric.TURN_DURATION) == 1500.0
    assert captured.total(Metric.STORE_LATENCY) == 1500.0


def test_a_turn_whose_budget_is_spent_is_a_budget_overrun(clock, captured, monkeypatch):
    monkeypatch.setattr(lambda_function, "_skill",
                        build_skill(MemoryStore(), clock, turn_budget_seconds=0.0))
    heard = Conversation(lambda_function.handler).launch()
    assert heard.text
    (line,) = captured.lines()
    assert line["outcome"] == "budget_exceeded" and line["level"] == "WARNING"
    assert captured.total(Metric.BUDGET_OVERRUNS) == 1


def test_a_call_that_timed_out_is_a_budget_overrun(use_store, captured) -> None:
    class HangingStore(MemoryStore):
        def fetch(self, user_id: str) -> Found | None:
            budget.current().record_timeout()  # what the DynamoDB store does on a timeout
            raise StoreError("read timed out")

    use_store(HangingStore())
    Conversation(lambda_function.handler).launch()
    (line,) = captured.lines()
    assert line["outcome"] == "budget_exceeded"
    assert captured.total(Metric.BUDGET_OVERRUNS) == 1 and captured.total(Metric.STORE_FAULTS) == 1
    assert captured.total(Metric.POLITE_ERRORS) == 0


def test_a_skill_that_raises_is_logged_as_failed_and_the_error_goes_on(captured) -> None:
    class Broken:
        def invoke(self, request_envelope: Any, context: Any) -> Any:
            raise KeyError("no")

    envelope = build_skill(MemoryStore()).serializer.deserialize(
        json.dumps(Device().launch()), "ask_sdk_model.RequestEnvelope")
    with pytest.raises(KeyError):
        observer.invoke(Broken(), envelope)
    (line,) = captured.lines()
    assert line["outcome"] == "failed" and line["error"] == "KeyError"
    assert captured.total(Metric.TURNS) == 1 and captured.total(Metric.POLITE_ERRORS) == 0


def test_a_broken_sink_never_costs_the_user_their_answer(talk, captured) -> None:
    class BrokenSink:
        def record(self, turn: Any) -> None:
            raise ValueError("disk full")

    sink = BrokenSink()
    observer.sinks.insert(0, sink)
    try:
        heard = talk().launch()
    finally:
        observer.sinks.remove(sink)
    assert heard.text
    assert any(r.getMessage() == "telemetry failed: ValueError" for r in captured.handler.records)


# ----------------------------------------------------------------------------- privacy

# Lower-case hex with a digit run: it can never be a piece of an intent, field or metric name,
# so finding one in the output means it leaked.
SECRET = st.text("0123456789abcdef", min_size=16, max_size=40).map(lambda text: f"7{text}9")


def _envelope(kind: str, device: Device, spoken: str) -> dict[str, Any]:
    if kind == "launch":
        return device.launch()
    if kind == "go_to":
        return device.intent("GoToExerciseIntent", {"exercise": slot("exercise", spoken)})
    if kind == "reminder":
        return device.intent("SetReminderIntent", {"time": {"name": "time", "value": spoken}})
    if kind == "end":
        return device.session_ended("ERROR")
    if kind == "touch":
        return device.touch(spoken)
    if kind == "can_fulfill":
        return device.can_fulfill("GoToExerciseIntent", {"exercise": slot("exercise", spoken)})
    if kind == "disabled":
        return device.skill_disabled()
    return device.intent(kind)


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    user=SECRET, person=SECRET, device_id=SECRET, token=SECRET, consent=SECRET, spoken=SECRET,
    kinds=st.lists(st.sampled_from([
        "launch", "go_to", "reminder", "end", "touch", "can_fulfill", "disabled",
        "AMAZON.YesIntent", "NextExerciseIntent", "PainIntent", "AMAZON.FallbackIntent",
        "StreakIntent", "AMAZON.StopIntent"]), min_size=1, max_size=6),
    fail=st.sampled_from(["", "read", "write"]),
)
def test_no_log_line_or_metric_holds_an_identifier_or_a_body(
    use_store, captured, user, person, device_id, token, consent, spoken, kinds, fail
) -> None:
    use_store(FaultyStore(fail))
    captured.handler.records.clear()
    captured.emf.seek(0)
    captured.emf.truncate()
    device = Device(user_id=f"amzn1.ask.account.{user}", device_id=f"amzn1.ask.device.{device_id}",
                    consent_token=f"consent-{consent}", api_endpoint="http://127.0.0.1:9")
    for kind in kinds:
        envelope = _envelope(kind, device, f"spoken {spoken}")
        system = envelope["context"]["System"]
        system["apiAccessToken"] = f"token-{token}"
        system["person"] = {"personId": f"amzn1.ask.person.{person}",
                            "personAccessToken": f"token-{token}"}
        try:
            device.receive(lambda_function.handler(envelope, None))
        except StoreError:
            # A deletion the store could not carry out fails the event, so Alexa retries it.
            assert kind == "disabled" and fail
    output = captured.everything()
    for secret in (user, person, device_id, token, consent, spoken):
        assert secret not in output
    lines = captured.lines()
    assert len(lines) == len(kinds) and captured.documents()
    # Turns of one user stay linked, by a hash only.
    assert {line["user"] for line in lines} == {user_ref(device.user_id)}


# ----------------------------------------------------------------------------- the edges


def test_the_web_endpoint_logs_the_same_line_as_lambda(tmp_path, monkeypatch, capsys, talk,
                                                        captured) -> None:
    from skill.web import create_app

    monkeypatch.delenv("PROGRESS_TABLE", raising=False)
    talk().launch()
    lambda_keys = set(captured.lines()[0])
    app = create_app({"ALEXA_VERIFY_SIGNATURE": "false", "ALEXA_VERIFY_TIMESTAMP": "false",
                      "ALEXA_API_CALLS": "0", "FOOT_ROUTINE_DB": str(tmp_path / "p.sqlite3")})
    capsys.readouterr()
    answer = app.test_client().post("/", json=Device().launch())
    assert answer.status_code == 200
    printed = [json.loads(text) for text in capsys.readouterr().err.splitlines()
               if text.startswith("{")]
    (line,) = [line for line in printed if line.get("message") == "turn"]
    check_log_line(line)
    assert set(line) == lambda_keys
    assert line["request_type"] == "LaunchRequest" and line["store_calls"][0]["op"] == "read"
    log_turns_as_json_lines()  # idempotent: still one handler, so one line per turn
    handlers = logging.getLogger("skill.ops.telemetry").handlers
    # pytest attaches its capture handlers to every non-propagating logger: count ours only.
    assert sum(type(handler).__module__ == "skill.ops.telemetry" for handler in handlers) == 1


def test_json_lines_have_the_shape_of_lambdas_json_log_format() -> None:
    record = logging.makeLogRecord({"name": "skill.ops.telemetry", "levelno": logging.INFO,
                                    "levelname": "INFO", "msg": "turn", "outcome": "answered",
                                    "created": 0.0, "msecs": 5.0})
    line = json.loads(JsonLineFormatter().format(record))
    assert line == {"timestamp": "1970-01-01T00:00:00.005Z", "level": "INFO",
                    "message": "turn", "logger": "skill.ops.telemetry", "outcome": "answered"}


def test_emf_is_printed_only_on_lambda(monkeypatch) -> None:
    monkeypatch.setattr(observer, "sinks", [])
    emit_emf_on_lambda({})
    assert observer.sinks == []
    emit_emf_on_lambda({"AWS_LAMBDA_FUNCTION_NAME": "foot-routine-prod-skill"})
    emit_emf_on_lambda({"AWS_LAMBDA_FUNCTION_NAME": "foot-routine-prod-skill"})
    (sink,) = observer.sinks
    assert isinstance(sink, EmfPrinter) and sink.service == "foot-routine-prod-skill"


def test_a_document_splits_only_when_two_samples_need_one_dimension_twice() -> None:
    from skill.ops.metrics import Sample, emf_lines

    samples = [Sample(Metric.PAIN_STOPS, (1,), {Dim.EXERCISE: "toe_presses"}),
               Sample(Metric.EXERCISES_STARTED, (1,), {Dim.EXERCISE: "toe_walking"}),
               Sample(Metric.TURNS, (1,), {Dim.REQUEST_TYPE: "IntentRequest"}),
               Sample(Metric.STORE_LATENCY, (1.5, 2.5))]
    documents = [json.loads(line) for line in emf_lines(samples, "svc", 1)]
    assert [d.get("Exercise") for d in documents] == ["toe_presses", "toe_walking"]
    for document in documents:
        check_emf(document)
    assert documents[0]["StoreLatency"] == [1.5, 2.5] and "Turns" in documents[0]


# Any combination of metrics and dimension values, as a turn could make them: the EMF lines
# must be exactly the documents they stand for, whatever the mix.
DIMENSION_VALUES = {Dim.EXERCISE: st.sampled_from([*EXERCISES, "none", "other"]),
                    Dim.PHASE: st.sampled_from(sorted(PHASES)),
                    Dim.LOCALE: st.sampled_from(["en-US", "de-DE"]),
                    Dim.REQUEST_TYPE: st.sampled_from(["LaunchRequest", "IntentRequest"]),
                    Dim.KIND: st.sampled_from(["full", "short"])}
SAMPLES = st.lists(st.tuples(
    st.sampled_from(list(Metric)),
    st.lists(st.integers(0, 9) | st.floats(0, 9000, allow_nan=False), min_size=1,
             max_size=MAX_VALUES + 3).map(tuple),
    st.fixed_dictionaries({}, optional=DIMENSION_VALUES)),
    min_size=1, max_size=9, unique_by=lambda sample: sample[0])  # a turn counts each once


@settings(max_examples=300, deadline=None, derandomize=True)
@given(samples=SAMPLES, step=st.none() | st.integers(0, 9))
def test_emf_lines_are_compact_json_of_documents_that_hold_every_sample(samples, step) -> None:
    from skill.ops.metrics import Sample, emf_lines

    properties = {} if step is None else {"step": step}
    lines = emf_lines([Sample(*sample) for sample in samples], "svc", 1_700_000_000_123,
                      properties)
    # A layout seen before (the cached path) makes the same lines as a new one.
    assert emf_lines([Sample(*sample) for sample in samples], "svc", 1_700_000_000_123,
                     properties) == lines
    documents = [json.loads(line) for line in lines]
    for line, document in zip(lines, documents, strict=True):
        # The same text json.dumps gives the document: `_aws` last, no key twice.
        assert line == json.dumps(document, separators=(",", ":"))
        check_emf(document)
        assert document["Service"] == "svc" and document["_aws"]["Timestamp"] == 1_700_000_000_123
        assert all(document[key] == value for key, value in properties.items())
    # Each sample in the first document whose dimension values it shares, with its values.
    remaining = [dict(document) for document in documents]
    for metric, values, dimensions in samples:
        index = next(i for i, document in enumerate(documents)
                     if all(document.get(dim) == value for dim, value in dimensions.items())
                     and metric in remaining[i])
        expected = values[0] if len(values) == 1 else list(values[:MAX_VALUES])
        assert remaining[index].pop(metric) == expected
    # A second document only where two samples disagree on a dimension.
    agreeing = all(len({d[dim] for _, _, d in samples if dim in d}) <= 1 for dim in Dim)
    assert len(documents) == 1 or not agreeing


def test_a_turn_nothing_would_read_builds_no_record(monkeypatch, capsys, use_store) -> None:
    from skill.ops import telemetry

    built: list[Any] = []

    def record_of(*args: Any) -> Any:
        built.append(args)
        return real(*args)

    real = telemetry.record_of
    monkeypatch.setattr(telemetry, "record_of", record_of)
    turn_logger = logging.getLogger("skill.ops.telemetry")
    monkeypatch.setattr(turn_logger, "handlers", [])
    monkeypatch.setattr(turn_logger, "propagate", False)
    monkeypatch.setattr(turn_logger, "level", logging.INFO)
    monkeypatch.setattr(observer, "sinks", [])
    use_store(MemoryStore())
    device = Device()
    device.receive(lambda_function.handler(device.launch(), None))
    assert built == []  # answered, at INFO, and no handler: nothing to build
    use_store(FaultyStore("read", error=RuntimeError))
    lambda_function.handler(Device().launch(), None)
    # A polite error logs at WARNING, which logging's last resort prints without a handler.
    assert len(built) == 1 and "turn" in capsys.readouterr().err.splitlines()
    tally = Tally()
    monkeypatch.setattr(observer, "sinks", [tally])
    use_store(MemoryStore())
    lambda_function.handler(Device().launch(), None)
    assert len(built) == 2 and tally.total(Metric.TURNS) == 1


def test_reaches_a_handler_follows_levels_propagation_and_the_last_resort(monkeypatch) -> None:
    from skill.ops.logs import reaches_a_handler

    parent = logging.getLogger("tests.telemetry.reach")
    child = logging.getLogger("tests.telemetry.reach.child")
    monkeypatch.setattr(parent, "propagate", False)
    child.setLevel(logging.INFO)
    assert not reaches_a_handler(child, logging.DEBUG)  # below the level
    assert not reaches_a_handler(child, logging.INFO)  # no handler on the way up
    assert reaches_a_handler(child, logging.WARNING)  # logging's last resort prints it
    monkeypatch.setattr(logging, "lastResort", None)
    assert reaches_a_handler(child, logging.INFO)  # logging warns there is no handler
    monkeypatch.undo()
    handler = logging.NullHandler()
    parent.addHandler(handler)
    try:
        assert reaches_a_handler(child, logging.INFO)
        child.propagate = False
        assert not reaches_a_handler(child, logging.INFO)
    finally:
        child.propagate = True
        parent.removeHandler(handler)


def test_emit_makes_the_record_logger_log_makes_naming_the_function_given() -> None:
    from skill.ops.logs import emit

    logger = logging.getLogger("tests.telemetry.emit")
    handler = Collect()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        emit(logger, logging.INFO, "turn", {"outcome": "answered"}, where=check_log_line)
        logger.log(logging.INFO, "turn", extra={"outcome": "answered"})
        emit(logger, logging.DEBUG, "turn", {"outcome": "answered"}, where=check_log_line)
        with pytest.raises(KeyError):  # a field must not overwrite the record's own
            emit(logger, logging.INFO, "turn", {"msg": "x"}, where=check_log_line)
    finally:
        logger.removeHandler(handler)
    emitted, logged = handler.records
    assert (emitted.funcName, emitted.pathname) == ("check_log_line", __file__)
    assert emitted.lineno == check_log_line.__code__.co_firstlineno
    skip = {"funcName", "lineno", "created", "msecs", "relativeCreated"}
    assert {k: v for k, v in vars(emitted).items() if k not in skip} == {
        k: v for k, v in vars(logged).items() if k not in skip}
    lines = [json.loads(JsonLineFormatter().format(record)) for record in (emitted, logged)]
    assert [{k: v for k, v in line.items() if k != "timestamp"} for line in lines] == [
        {"level": "INFO", "message": "turn", "logger": logger.name, "outcome": "answered"}] * 2


# Records a session could carry, with values that compare equal but parse apart (1, 1.0 and
# True; a list and a tuple) and with fields missing.
PROGRESS_RECORDS = st.fixed_dictionaries({}, optional={
    "position": st.none() | st.fixed_dictionaries({
        "exercise": st.sampled_from([*EXERCISES, "elsewhere"]),
        "set": st.sampled_from([0, 1, 1.0, True, False, "1"]),
        "rep": st.sampled_from([0, 1, True])}),
    "done": st.lists(st.sampled_from(EXERCISES), max_size=2) | st.just(()),
    "briefed": st.sampled_from([True, 1, None]),
    "paused": st.sampled_from([False, 0, True, 1]),
    "finished": st.sampled_from([False, 0, True]),
    "question": st.none() | st.just("q"),
    "history_ids": st.lists(st.text(max_size=3), max_size=2)})


@settings(max_examples=300, deadline=None, derandomize=True)
@given(records=st.lists(PROGRESS_RECORDS, min_size=1, max_size=6))
def test_a_remembered_place_is_the_one_reading_the_record_gives(records) -> None:
    from skill.ops import telemetry

    for record in records:
        remembered = telemetry.snapshot({"progress": record})
        telemetry._PLACES.clear()
        assert telemetry.snapshot({"progress": record}) == remembered, record


# ----------------------------------------------------------------------------- locally


def test_the_console_prints_the_funnel_with_metrics(tmp_path, monkeypatch, capsys) -> None:
    from skill.tools import cli

    monkeypatch.setenv("FOOT_ROUTINE_DB", str(tmp_path / "p.sqlite3"))
    monkeypatch.setattr(lambda_function, "_skill", build_skill(MemoryStore()))
    script = tmp_path / "script.txt"
    script.write_text("open foot routine\nyes\nnext\nit hurts\n")
    cli.main(["chat", "--script", str(script), "--metrics"])
    out = capsys.readouterr().out
    funnel = out[out.index("Funnel"):]
    for row in ("sessions started", "routines started", "toe presses", "pain stops"):
        assert re.search(rf"^ +{row} +1\b", funnel, re.MULTILINE), row
    assert "(toe presses: 1)" in funnel and re.search(r"^ +drop-offs +0$", funnel, re.MULTILINE)


def test_serve_metrics_print_the_funnel_as_each_session_ends(tmp_path, monkeypatch) -> None:
    from skill.web import create_app

    monkeypatch.delenv("PROGRESS_TABLE", raising=False)
    client = create_app({"ALEXA_VERIFY_SIGNATURE": "false", "ALEXA_VERIFY_TIMESTAMP": "false",
                         "ALEXA_API_CALLS": "0",
                         "FOOT_ROUTINE_DB": str(tmp_path / "p.sqlite3")}).test_client()
    out, device = io.StringIO(), Device()
    with funnel_printed(out, each_session=True):
        device.receive(client.post("/", json=device.launch()).get_json())
        device.receive(client.post("/", json=device.intent("AMAZON.YesIntent")).get_json())
        assert "Funnel" not in out.getvalue()  # the session is still open
        device.receive(client.post("/", json=device.intent("AMAZON.StopIntent")).get_json())
        assert out.getvalue().count("Funnel") == 1
    printed = out.getvalue()
    assert printed.count("Funnel") == 2  # and once more when the server stops
    assert re.search(r"^ +drop-offs +1 \(toe presses step 1: 1\)$", printed, re.MULTILINE)


def test_tally_splits_by_dimension_and_calls_back_at_session_end() -> None:
    ended: list[float] = []
    tally = Tally(on_session_end=lambda t: ended.append(t.total(Metric.TURNS)))

    class Turn:
        def __init__(self, ends: bool) -> None:
            self.ends_session = ends

        def samples(self) -> tuple[list[Any], dict[str, Any]]:
            from skill.ops.metrics import Sample

            return [Sample(Metric.TURNS, (1,), {Dim.REQUEST_TYPE: "IntentRequest"}),
                    Sample(Metric.FALLBACKS, (1,), {Dim.PHASE: "idle"})], {}

    for ends in (False, True, False, True):
        tally.record(Turn(ends))
    assert ended == [2, 4]
    assert tally.by(Metric.FALLBACKS, Dim.PHASE) == {"idle": 4}
    assert "fallbacks" in summary(tally)


def test_every_metric_has_a_spec_and_only_known_dimensions() -> None:
    assert set(SPECS) == set(Metric)
    counter = Counter(dim for spec in SPECS.values() for dims in spec.dimension_sets
                      for dim in dims)
    assert set(counter) <= set(Dim)
