"""What an operator sees of each turn: one structured log line and the turn's metrics.

Every turn, on Lambda and on the web endpoint alike, goes through `observer.invoke`, which
times it, collects the outside calls the wrappers below time (the progress store, Alexa's
APIs), reads where the user was before and after from the session attributes, and then
logs one line and hands the metric samples to the sinks (EMF on Lambda, a tally locally).

Privacy is by construction: a line holds only the fields built in `TurnRecord.log_fields`,
and the only trace of who spoke is `user_ref`, a short hash of the account's user id. No
user id, person id, device id, token or request body is ever read into a record.
"""

from __future__ import annotations

import json
import logging
import operator
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from types import MappingProxyType
from typing import Any, NamedTuple, TextIO, TypeVar

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.dispatch_components import AbstractExceptionHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import RequestEnvelope, Response, ResponseEnvelope
from ask_sdk_model.services import ApiClient, ApiClientRequest, ApiClientResponse

from skill.alexa.handlers import INTENT_EVENTS
from skill.content.routine import load_routine
from skill.content.texts import available_locales
from skill.conversation.phases import Phase, phase_of
from skill.conversation.progress import progress_from_dict
from skill.conversation.values import EventKind
from skill.ops import budget, logs
from skill.ops.metrics import Dim, EmfPrinter, Metric, MetricSink, Sample, Tally
from skill.storage.session import PROGRESS_KEY
from skill.storage.store import user_ref

log = logging.getLogger("skill.ops.telemetry")

REQUEST_TYPES = frozenset({
    "LaunchRequest",
    "IntentRequest",
    "SessionEndedRequest",
    "CanFulfillIntentRequest",
    "Alexa.Presentation.APL.UserEvent",
    "AlexaSkillEvent.SkillDisabled",
    "AlexaSkillEvent.SkillEnabled",
    "AlexaSkillEvent.SkillPermissionAccepted",
    "AlexaSkillEvent.SkillPermissionChanged",
})
OTHER = "other"
NONE = "none"
ACTIVE_PHASES = frozenset({Phase.EXERCISING, Phase.PAUSED})


class Outcome(StrEnum):
    ANSWERED = "answered"
    POLITE_ERROR = "polite_error"  # something failed; the user heard our calm error line
    BUDGET_EXCEEDED = "budget_exceeded"  # answered, but the turn's budget ran out or a call
    # timed out, so optional calls (time zone, reminders) were skipped (skill/ops/budget.py)
    FAILED = "failed"  # the skill raised: Lambda reports an error, Alexa says its own line


class Call(NamedTuple):
    """One outside call: which kind, how long, and whether it raised."""

    op: str
    ms: float
    ok: bool

    def as_dict(self) -> dict[str, Any]:
        return {"op": self.op, "ms": round(self.ms, 2), "ok": self.ok}


@dataclass(slots=True)
class Turn:
    """What the wrappers learn during one turn; lives in a context variable, so threads of
    the web endpoint each see their own."""

    clock: Callable[[], float]
    started: float
    store_calls: list[Call] = field(default_factory=list)
    api_calls: list[Call] = field(default_factory=list)
    error: str | None = None
    over_budget: bool = False


_current: ContextVar[Turn | None] = ContextVar("foot_routine_turn", default=None)


_T = TypeVar("_T")


def _timed(store: bool, op: str, call: Callable[..., _T], *args: Any) -> _T:
    """`call(*args)`, timed into the current turn's store calls (or API calls if not
    `store`). A plain function rather than a context manager: it wraps every store call."""
    turn = _current.get()
    if turn is None:  # a call outside any turn (a script, a benchmark): nothing to add to
        return call(*args)
    start = turn.clock()
    ok = False
    try:
        result = call(*args)
        ok = True
        return result
    finally:
        (turn.store_calls if store else turn.api_calls).append(
            Call(op, (turn.clock() - start) * 1000, ok))
        deadline = budget.current()
        # Seen right after each call: the turn's budget ends with `skill.invoke`.
        turn.over_budget = turn.over_budget or deadline.timed_out or deadline.remaining() <= 0


class ObservedStore(AbstractPersistenceAdapter):
    """The persistence adapter, with each call timed into the current turn; a call that
    raises (the store's StoreError) is a store fault."""

    def __init__(self, inner: AbstractPersistenceAdapter) -> None:
        self.inner = inner

    def get_attributes(self, request_envelope: RequestEnvelope) -> dict[str, Any]:
        return _timed(True, "read", self.inner.get_attributes, request_envelope)

    def save_attributes(self, request_envelope: RequestEnvelope, attributes: dict) -> None:
        _timed(True, "write", self.inner.save_attributes, request_envelope, attributes)

    def delete_attributes(self, request_envelope: RequestEnvelope) -> None:
        _timed(True, "delete", self.inner.delete_attributes, request_envelope)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class ObservedApiClient(ApiClient):
    """Alexa's API client, each call timed into the current turn; named by API, never by URL
    (the settings URL holds the device id)."""

    def __init__(self, inner: ApiClient) -> None:
        self.inner = inner

    def invoke(self, request: ApiClientRequest) -> ApiClientResponse:
        url = request.url or ""
        api = "reminders" if "/reminders" in url else "settings" if "/settings" in url else OTHER
        return _timed(False, api, self.inner.invoke, request)


class ObservedErrors(AbstractExceptionHandler):
    """The skill's polite error handler, noting in the turn that it answered an error."""

    def __init__(self, inner: AbstractExceptionHandler) -> None:
        self.inner = inner

    def can_handle(self, handler_input: HandlerInput, exception: Exception) -> bool:
        return self.inner.can_handle(handler_input, exception)

    def handle(self, handler_input: HandlerInput, exception: Exception) -> Response:
        turn = _current.get()
        if turn is not None:
            turn.error = type(exception).__name__
        return self.inner.handle(handler_input, exception)


class Snapshot(NamedTuple):
    """Where a user stood, as far as telemetry cares."""

    phase: Phase
    exercise: str | None
    step: int | None
    done: frozenset[str]
    completions: tuple[Any, ...]  # the stored completion ids: a new one is a finished routine


# Only what the phase and the funnel need: reading the whole record (history dates, times)
# would double telemetry's cost per turn for nothing it reports.
_SNAPSHOT_FIELDS = ("position", "done", "briefed", "paused", "finished", "question")


@cache
def _exercise_ids() -> tuple[str, ...]:
    return tuple(exercise.id for exercise in load_routine().exercises)


# Where users stood, by the text of those fields: a turn's "before" is the last turn's
# "after", and reading a progress record costs more than the rest of a snapshot together.
# Emptied when full rather than evicted one by one: it only saves work, and stays bounded.
_PLACES: dict[str, tuple[Phase, str | None, int | None, frozenset[str]]] = {}
_PLACES_LIMIT = 512
# The fields' values in one call, as a tuple: every record a session carries has them all.
_snapshot_values = operator.itemgetter(*_SNAPSHOT_FIELDS)


def _place(raw: dict[str, Any]) -> tuple[Phase, str | None, int | None, frozenset[str]]:
    """Phase, exercise, set and exercises done, from the snapshot's fields of a record.
    Keyed by the repr of their values, which tells apart what parses differently (1, 1.0
    and True; a list and a tuple), so a cached answer is the one reading the fields would
    give: a tuple of all of them, or a dict of those there are (a record that lacks some;
    the two reprs never meet, one starts with "(", the other with "{")."""
    try:
        key = repr(_snapshot_values(raw))
    except KeyError:
        key = repr({key: raw[key] for key in _SNAPSHOT_FIELDS if key in raw})
    place = _PLACES.get(key)
    if place is None:
        progress = progress_from_dict({key: raw[key] for key in _SNAPSHOT_FIELDS if key in raw})
        position = progress.position
        exercise = None
        if position is not None:
            exercise = position.exercise if position.exercise in _exercise_ids() else OTHER
        place = (phase_of(progress), exercise,
                 # The set within the exercise: where drop-offs cluster, without a metric
                 # per round.
                 position.set_index if position is not None else None,
                 frozenset(progress.done))
        if len(_PLACES) >= _PLACES_LIMIT:
            _PLACES.clear()
        _PLACES[key] = place
    return place


def snapshot(attributes: Mapping[str, Any] | None) -> Snapshot:
    raw = (attributes or {}).get(PROGRESS_KEY)
    raw = raw if isinstance(raw, dict) else {}
    phase, exercise, step, done = _place(raw)
    completions = raw.get("history_ids")
    return Snapshot(phase, exercise, step, done,
                    tuple(completions) if isinstance(completions, list) else ())


@dataclass(slots=True)
class TurnRecord:
    """One turn as logged and counted; never changed once built (not frozen only because
    a frozen dataclass costs a few microseconds more to build, every turn)."""

    request_type: str
    intent: str | None
    event: EventKind | None  # what the intent means to the coach (pain, not understood, ...)
    locale: str
    new_session: bool
    ends_session: bool
    before: Snapshot
    after: Snapshot
    duration_ms: float
    store_calls: tuple[Call, ...]
    api_calls: tuple[Call, ...]
    outcome: Outcome
    over_budget: bool
    error: str | None
    user: str | None
    # Both derived from the fields above at construction: the log line and every sink read
    # them.
    funnel: list[Sample] = field(init=False)
    properties: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.funnel, self.properties = self._funnel()

    def _funnel(self) -> tuple[list[Sample], dict[str, Any]]:
        """The turn's funnel milestones as samples, plus EMF properties (the drop-off step:
        a property, not a dimension, so it is searchable without a metric per step)."""
        before, after = self.before, self.after
        samples: list[Sample] = []
        properties: dict[str, Any] = {}
        locale = {Dim.LOCALE: self.locale}
        if self.new_session and self.request_type in ("LaunchRequest", "IntentRequest"):
            samples.append(Sample(Metric.SESSIONS_STARTED, (1,), locale))
        if after.phase is Phase.EXERCISING and after.exercise:
            if before.phase not in ACTIVE_PHASES:
                samples.append(Sample(Metric.ROUTINES_STARTED, (1,), locale))
            if before.phase not in ACTIVE_PHASES or before.exercise != after.exercise:
                samples.append(Sample(Metric.EXERCISES_STARTED, (1,),
                                      {Dim.EXERCISE: after.exercise}))
        completed = (after.phase in (Phase.FINISHED, Phase.OFFERED)
                     and before.phase in ACTIVE_PHASES and after.completions != before.completions)
        if completed:
            samples.append(Sample(Metric.ROUTINES_COMPLETED, (1,), {Dim.KIND: self._kind()}))
        where = {Dim.EXERCISE: (before.exercise if before.phase in ACTIVE_PHASES else None)
                 or NONE}
        # Dizziness or a fall ends the session like pain does: a safety stop, not a drop-off
        # (a cramp only pauses the set).
        if self.event in (EventKind.PAIN, EventKind.DIZZY):
            samples.append(Sample(Metric.PAIN_STOPS, (1,), where))
        elif self.ends_session and before.phase in ACTIVE_PHASES and not completed:
            samples.append(Sample(Metric.DROP_OFFS, (1,), where))
            properties["step"] = before.step
        if self.event is EventKind.UNKNOWN:
            samples.append(Sample(Metric.FALLBACKS, (1,), {Dim.PHASE: str(before.phase)}))
        return samples, properties

    def _kind(self) -> str:
        """"full" when every exercise was done; the one on screen at the end counts unless
        it was skipped to finish."""
        done = set(self.before.done)
        if self.before.exercise and self.event is not EventKind.SKIP:
            done.add(self.before.exercise)
        return "full" if done >= set(_exercise_ids()) else "short"

    def samples(self) -> tuple[list[Sample], dict[str, Any]]:
        """Every metric of the turn: the funnel, then timing and faults."""
        turns = _TURNS.get(self.request_type) or Sample(
            Metric.TURNS, (1,), {Dim.REQUEST_TYPE: self.request_type})
        samples = [
            *self.funnel,
            turns,
            Sample(Metric.TURN_DURATION, (round(self.duration_ms, 2),), turns.dimensions),
            _POLITE_ERRORS[self.outcome is Outcome.POLITE_ERROR],
            _BUDGET_OVERRUNS[bool(self.over_budget)],
        ]
        if self.store_calls:
            samples += [
                Sample(Metric.STORE_LATENCY, tuple(round(c.ms, 2) for c in self.store_calls)),
                Sample(Metric.STORE_FAULTS, (sum(not c.ok for c in self.store_calls),)),
            ]
        return samples, self.properties

    def log_fields(self) -> dict[str, Any]:
        """The log line's fields (the runtime adds timestamp, level, message and logger).
        Most turns make no outside call and reach no milestone: their lists are new empty
        ones, not built from nothing."""
        store, api, funnel = self.store_calls, self.api_calls, self.funnel
        return {
            "request_type": self.request_type,
            "intent": self.intent,
            "locale": self.locale,
            "new_session": self.new_session,
            "ends_session": self.ends_session,
            "phase_before": str(self.before.phase),
            "phase_after": str(self.after.phase),
            "exercise": self.after.exercise,
            "step": self.after.step,
            "duration_ms": round(self.duration_ms, 2),
            "store_calls": [call.as_dict() for call in store] if store else [],
            "store_ms": round(sum([call.ms for call in store]), 2) if store else 0,
            "api_calls": [call.as_dict() for call in api] if api else [],
            "outcome": str(self.outcome),
            "error": self.error,
            "funnel": [str(sample.metric) for sample in funnel] if funnel else [],
            "user": self.user,
        }


# The samples of a turn whose values never change, made once rather than every turn; 0 or 1
# every turn for the two faults, so their Average is a rate.
_TURNS = {kind: Sample(Metric.TURNS, (1,), MappingProxyType({Dim.REQUEST_TYPE: kind}))
          for kind in (*REQUEST_TYPES, OTHER)}
_POLITE_ERRORS = (Sample(Metric.POLITE_ERRORS, (0,)), Sample(Metric.POLITE_ERRORS, (1,)))
_BUDGET_OVERRUNS = (Sample(Metric.BUDGET_OVERRUNS, (0,)), Sample(Metric.BUDGET_OVERRUNS, (1,)))


def _intent_name(envelope: RequestEnvelope) -> str | None:
    intent = getattr(envelope.request, "intent", None)
    name = getattr(intent, "name", None)
    return name if isinstance(name, str) else None


def _request_type(envelope: RequestEnvelope) -> str:
    kind = getattr(envelope.request, "object_type", None)
    return kind if kind in REQUEST_TYPES else OTHER


def _locale(envelope: RequestEnvelope) -> str:
    locale = getattr(envelope.request, "locale", None)
    return locale if locale in available_locales() else OTHER


# The last user id seen and its reference: a warm function answers one session's turns one
# after the other, so the hash is made once a session rather than once a turn. Held only
# in memory, like the request it came from; swapped as one tuple, so threads of the web
# endpoint never see one user's id beside another's reference.
_last_user = ("", "")


def _user(envelope: RequestEnvelope) -> str | None:
    global _last_user
    user = getattr(getattr(getattr(envelope, "context", None), "system", None), "user", None)
    user_id = getattr(user, "user_id", None)
    if not (isinstance(user_id, str) and user_id):
        return None
    last = _last_user
    if user_id != last[0]:
        last = _last_user = (user_id, user_ref(user_id))
    return last[1]


def record_of(envelope: RequestEnvelope, response: ResponseEnvelope | None, turn: Turn,
              duration_s: float, failed: str | None = None) -> TurnRecord:
    """The record of a finished turn, from what went in and came out."""
    session = envelope.session
    new_session = bool(session and session.new)
    before = snapshot(None if new_session or session is None else session.attributes)
    after = snapshot(response.session_attributes) if response is not None else before
    request_type = _request_type(envelope)
    intent = _intent_name(envelope)
    body = response.response if response is not None else None
    ends = request_type == "SessionEndedRequest" or bool(body and body.should_end_session)
    # Positional, in field order: keywords cost more, and this runs every turn on Lambda.
    return TurnRecord(
        request_type,
        intent,
        INTENT_EVENTS.get(intent or "", EventKind.UNKNOWN)
        if request_type == "IntentRequest" else None,
        _locale(envelope),
        new_session,
        ends,
        before,
        after,
        duration_s * 1000,
        tuple(turn.store_calls),
        tuple(turn.api_calls),
        _outcome(turn, failed),
        turn.over_budget,
        failed or turn.error,
        _user(envelope),
    )


def _outcome(turn: Turn, failed: str | None) -> Outcome:
    if failed:
        return Outcome.FAILED
    if turn.error:
        return Outcome.POLITE_ERROR
    if turn.over_budget:
        return Outcome.BUDGET_EXCEEDED
    return Outcome.ANSWERED


def _level(outcome: Outcome) -> int:
    """Answered turns at INFO, the others at WARNING: a WARNING level keeps only what went
    wrong."""
    return logging.INFO if outcome is Outcome.ANSWERED else logging.WARNING


class Observer:
    """Runs turns with telemetry around them; one per process (`observer` below)."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.clock = clock
        self.sinks: list[MetricSink] = []

    def invoke(self, skill: Any, envelope: RequestEnvelope, context: Any = None
               ) -> ResponseEnvelope:
        """`skill.invoke`, observed. Telemetry never changes the answer: a fault in it is
        logged and the response goes out anyway."""
        turn = Turn(self.clock, self.clock())
        token = _current.set(turn)
        response: ResponseEnvelope | None = None
        failed: str | None = None
        try:
            response = skill.invoke(request_envelope=envelope, context=context)
            return response
        except Exception as error:
            failed = type(error).__name__
            raise
        finally:
            _current.reset(token)
            try:
                duration_s = self.clock() - turn.started
                # No record when nothing would read it: no sink, and no handler that would
                # take the line at its level (a benchmark, a script).
                if self.sinks or logs.reaches_a_handler(log, _level(_outcome(turn, failed))):
                    self.report(record_of(envelope, response, turn, duration_s, failed))
            except Exception as error:  # noqa: BLE001 - telemetry must not cost a user a turn
                log.warning("telemetry failed: %s", type(error).__name__)

    def report(self, record: TurnRecord) -> None:
        """One log line, then the turn to every sink."""
        level = _level(record.outcome)
        if logs.reaches_a_handler(log, level):
            logs.emit(log, level, "turn", record.log_fields(), Observer.report)
        for sink in self.sinks:
            sink.record(record)

    @contextmanager
    def tallied(self, on_session_end: Callable[[Tally], None] | None = None
                ) -> Iterator[Tally]:
        """Count this process's turns while the block runs (`--metrics`)."""
        tally = Tally(on_session_end)
        self.sinks.append(tally)
        try:
            yield tally
        finally:
            self.sinks.remove(tally)


observer = Observer()


def emit_emf_on_lambda(environ: Mapping[str, str] | None = None) -> None:
    """On Lambda, every turn's metrics go to stdout as EMF, under the function's name as the
    Service dimension (the one the stack's alarms and dashboard select); elsewhere (the
    console, tests, the web endpoint) nothing is printed. Idempotent."""
    name = (os.environ if environ is None else environ).get("AWS_LAMBDA_FUNCTION_NAME")
    if name and not any(isinstance(sink, EmfPrinter) for sink in observer.sinks):
        observer.sinks.append(EmfPrinter(name))


# Keys every LogRecord has; anything else on a record came from `extra`.
_RECORD_KEYS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonLineFormatter(logging.Formatter):
    """A record as one JSON object in the shape Lambda's JSON log format gives it
    (timestamp, level, message, logger, then the `extra` fields), for the web endpoint and
    anywhere else that is not Lambda, so one query reads both."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
        }
        line.update((key, value) for key, value in vars(record).items()
                    if key not in _RECORD_KEYS)
        if record.exc_info and record.exc_info[0] is not None:
            line["errorType"] = record.exc_info[0].__name__
        return json.dumps(line, default=str)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (a test or a server may swap it)."""

    @property
    def stream(self) -> Any:  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def log_turns_as_json_lines() -> None:
    """Turn lines as JSON on stderr, where Lambda's runtime does not format them: the web
    endpoint calls this. Idempotent; the lines no longer also pass through the root logger's
    text handler, which would print them a second time without their fields."""
    if not any(isinstance(handler, _StderrHandler) for handler in log.handlers):
        handler = _StderrHandler()
        handler.setFormatter(JsonLineFormatter())
        log.addHandler(handler)
    log.propagate = False


def summary(tally: Tally) -> str:
    """The tally's funnel with exercise names, in routine order."""
    return tally.summary((exercise.id, exercise.name) for exercise in load_routine().exercises)


@contextmanager
def funnel_printed(out: TextIO, each_session: bool = False) -> Iterator[Tally]:
    """`--metrics`: the block's turns counted and the funnel printed when it ends (and, for
    a server that runs until stopped, also after every Alexa session that ends)."""

    def show(tally: Tally) -> None:
        print(summary(tally), file=out, flush=True)

    with observer.tallied(show if each_session else None) as tally:
        try:
            yield tally
        finally:
            show(tally)
