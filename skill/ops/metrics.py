"""The skill's CloudWatch metrics: one list of names, Embedded Metric Format lines, a local tally.

Why Embedded Metric Format: a JSON line on stdout becomes a metric when CloudWatch Logs
ingests it, so a turn pays no PutMetricData call (no latency, no API cost, nothing to fail).
Why our own writer rather than aws-embedded-metrics: that library imports aiohttp for its
environment detection, 250-380 ms on a cold start measured here (`-X importtime`, 5 runs),
more than our whole import and build; the document itself is a few lines of JSON.

`Metric` is the one list of names: the emitter, the local summary and the template tests
(alarms, dashboard) all read it, so a renamed metric cannot leave an alarm watching nothing.
Dimensions are few-valued on purpose (exercise, locale, request type, phase, kind): each
combination is a billed CloudWatch metric, and nothing here may tell users apart.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol, TextIO

NAMESPACE = "FootRoutine"
# Every document carries this dimension: the function's name on Lambda, so the stack's
# alarms and dashboard see only their own function's metrics.
SERVICE_DIMENSION = "Service"
COUNT = "Count"
MILLISECONDS = "Milliseconds"
# CloudWatch accepts at most 100 values of one metric in one document.
MAX_VALUES = 100


class Dim(StrEnum):
    EXERCISE = "Exercise"
    LOCALE = "Locale"
    REQUEST_TYPE = "RequestType"
    PHASE = "Phase"
    KIND = "Kind"


class Metric(StrEnum):
    SESSIONS_STARTED = "SessionsStarted"
    ROUTINES_STARTED = "RoutinesStarted"
    EXERCISES_STARTED = "ExercisesStarted"
    ROUTINES_COMPLETED = "RoutinesCompleted"
    DROP_OFFS = "DropOffs"
    PAIN_STOPS = "PainStops"
    FALLBACKS = "Fallbacks"
    TURNS = "Turns"
    TURN_DURATION = "TurnDuration"
    STORE_LATENCY = "StoreLatency"
    STORE_FAULTS = "StoreFaults"
    POLITE_ERRORS = "PoliteErrors"
    BUDGET_OVERRUNS = "BudgetOverruns"


@dataclass(frozen=True)
class Spec:
    """A metric's unit and the dimension sets it is published under (besides Service).

    `()` is the total; a metric that is only meaningful per exercise still gets its total,
    because alarms and the funnel's top line need one number.
    """

    unit: str
    dimension_sets: tuple[tuple[Dim, ...], ...] = ((),)


SPECS: dict[Metric, Spec] = {
    Metric.SESSIONS_STARTED: Spec(COUNT, ((), (Dim.LOCALE,))),
    Metric.ROUTINES_STARTED: Spec(COUNT, ((), (Dim.LOCALE,))),
    Metric.EXERCISES_STARTED: Spec(COUNT, ((Dim.EXERCISE,),)),
    Metric.ROUTINES_COMPLETED: Spec(COUNT, ((), (Dim.KIND,))),
    Metric.DROP_OFFS: Spec(COUNT, ((), (Dim.EXERCISE,))),
    Metric.PAIN_STOPS: Spec(COUNT, ((), (Dim.EXERCISE,))),
    Metric.FALLBACKS: Spec(COUNT, ((), (Dim.PHASE,))),
    Metric.TURNS: Spec(COUNT, ((), (Dim.REQUEST_TYPE,))),
    Metric.TURN_DURATION: Spec(MILLISECONDS, ((), (Dim.REQUEST_TYPE,))),
    Metric.STORE_LATENCY: Spec(MILLISECONDS),
    Metric.STORE_FAULTS: Spec(COUNT),
    Metric.POLITE_ERRORS: Spec(COUNT),
    Metric.BUDGET_OVERRUNS: Spec(COUNT),
}


class Sample(NamedTuple):
    """One or more values of a metric in one turn, with every dimension value it may use.
    A named tuple: a turn makes several, and it builds faster than a dataclass."""

    metric: Metric
    values: tuple[float, ...]
    dimensions: Mapping[Dim, str] = MappingProxyType({})


class Observed(Protocol):
    """A finished turn as a sink sees it (skill.ops.telemetry.TurnRecord)."""

    @property
    def ends_session(self) -> bool: ...

    def samples(self) -> tuple[list[Sample], dict[str, Any]]:
        """The turn's samples and the EMF properties that go with them."""
        ...


class MetricSink(Protocol):
    """Where a turn's metrics go: EMF lines on Lambda, a tally for `--metrics` locally."""

    def record(self, turn: Observed) -> None: ...


def emf_lines(samples: Sequence[Sample], service: str, timestamp_ms: int,
              properties: Mapping[str, Any] | None = None) -> list[str]:
    """The samples as EMF documents, one JSON line each: usually one; more only when two
    samples need different values of one dimension, since a document holds one value per
    dimension.

    A document is its properties, its dimension values, Service and the metric values, then
    `_aws`. Everything but the values and properties (which samples share a document, their
    dimension values, the `_aws` metadata saying which metric goes with which dimension
    sets) depends only on which metrics with which dimension values the turn has, a few
    layouts that recur every turn; so each layout is worked out once and a turn only fills
    in its values and encodes them.
    """
    lines = []
    stamp = int(timestamp_ms)
    for base, entries, directives in _layout(samples, service):
        body = {**properties, **base} if properties else base.copy()
        for metric, index in entries:
            values = samples[index].values
            body[metric] = values[0] if len(values) == 1 else list(values[:MAX_VALUES])
        encoded = _encode(body)  # never "{}": Service is always there
        lines.append(f'{encoded[:-1]},"_aws":{{"Timestamp":{stamp},'
                     f'"CloudWatchMetrics":{directives}}}}}')
    return lines


# The separators CloudWatch needs nothing more than; one encoder, not one per line.
_encode = json.JSONEncoder(separators=(",", ":")).encode


class _Document(NamedTuple):
    """A document's layout: its dimension values and Service, which sample's values go
    under which metric, in order, and its `_aws` directives as JSON."""

    base: dict[str, str]
    entries: tuple[tuple[Metric, int], ...]
    directives: str


# (service, each sample's metric and dimension values) -> the documents' layouts. The
# metrics and dimensions are fixed in code and their values few, so the layouts are few;
# emptied when full all the same, so the cache stays bounded whatever happens.
_LAYOUTS: dict[tuple[Any, ...], list[_Document]] = {}
_LAYOUTS_LIMIT = 512


def _layout(samples: Sequence[Sample], service: str) -> list[_Document]:
    """The documents these samples make, worked out on the first turn with this layout."""
    key = (service, *[(metric, *dimensions.items()) if dimensions else metric
                      for metric, _, dimensions in samples])
    layout = _LAYOUTS.get(key)
    if layout is None:
        layout = []
        for members, indices in _grouped(samples):
            group = [samples[index] for index in indices]
            layout.append(_Document(
                {**members, SERVICE_DIMENSION: service},
                tuple((sample.metric, index) for sample, index in zip(group, indices)),
                _directives([(sample.metric, *sample.dimensions) for sample in group])))
        if len(_LAYOUTS) >= _LAYOUTS_LIMIT:
            _LAYOUTS.clear()
        _LAYOUTS[key] = layout
    return layout


def _grouped(samples: Sequence[Sample]) -> list[tuple[dict[Dim, str], list[int]]]:
    """The samples' indices in order, each in the first group whose dimension values agree
    with its own (a dimension a group lacks agrees with anything)."""
    groups: list[tuple[dict[Dim, str], list[int]]] = []
    for index, sample in enumerate(samples):
        dimensions = sample.dimensions
        for members, group in groups:
            if all(members.get(dim, value) == value for dim, value in dimensions.items()):
                break
        else:
            members, group = {}, []
            groups.append((members, group))
        members.update(dimensions)
        group.append(index)
    return groups


def _directives(shape: Sequence[tuple[Any, ...]]) -> str:
    """The `_aws` directives of a document holding these metrics, each with the dimensions
    it has: one directive per combination of dimension sets, as JSON."""
    by_sets: dict[tuple[tuple[str, ...], ...], list[Metric]] = defaultdict(list)
    for metric, *dimensions in shape:
        sets = tuple((SERVICE_DIMENSION, *map(str, dims))
                     for dims in SPECS[metric].dimension_sets
                     if all(dim in dimensions for dim in dims))
        by_sets[sets].append(metric)
    return _encode([
        {
            "Namespace": NAMESPACE,
            "Dimensions": [list(dims) for dims in sets],
            "Metrics": [{"Name": str(metric), "Unit": SPECS[metric].unit}
                        for metric in metrics],
        }
        for sets, metrics in by_sets.items()
    ])


class EmfPrinter:
    """Writes EMF documents as raw JSON lines to stdout, where Lambda's log capture sends
    them to CloudWatch Logs; going through `logging` would wrap them in the runtime's own
    JSON and CloudWatch would no longer see `_aws` at the top level."""

    def __init__(self, service: str, stream: TextIO | None = None,
                 clock_ms: Callable[[], int] | None = None) -> None:
        self.service = service
        self.stream = stream  # None: sys.stdout at write time (tests swap it)
        self.clock_ms = clock_ms or (lambda: int(time.time() * 1000))

    def record(self, turn: Observed) -> None:
        samples, properties = turn.samples()
        stream = self.stream or sys.stdout
        # One write and one flush a turn, however many documents.
        stream.write("".join(line + "\n" for line in emf_lines(
            samples, self.service, self.clock_ms(), properties)))
        stream.flush()


class Tally:
    """Adds up samples in memory, for a developer's funnel summary without AWS.

    `on_session_end` is called after every turn that ends an Alexa session, so a server can
    print the funnel so far as each scripted dialogue finishes.
    """

    def __init__(self, on_session_end: Callable[[Tally], None] | None = None) -> None:
        self.counts: Counter[tuple[Metric, tuple[tuple[Dim, str], ...]]] = Counter()
        self.timings: dict[Metric, list[float]] = defaultdict(list)
        self.drop_off_steps: Counter[tuple[str, int]] = Counter()
        self.on_session_end = on_session_end

    def record(self, turn: Observed) -> None:
        samples, properties = turn.samples()
        self.add(samples, properties)
        if turn.ends_session and self.on_session_end is not None:
            self.on_session_end(self)

    def add(self, samples: Sequence[Sample], properties: Mapping[str, Any]) -> None:
        for sample in samples:
            if SPECS[sample.metric].unit == MILLISECONDS:
                self.timings[sample.metric].extend(sample.values)
                continue
            self.counts[(sample.metric, tuple(sorted(sample.dimensions.items())))] += sum(
                sample.values)
            if sample.metric is Metric.DROP_OFFS and sum(sample.values):
                self.drop_off_steps[(sample.dimensions.get(Dim.EXERCISE, "?"),
                                     int(properties.get("step", 0)))] += 1

    def total(self, metric: Metric, **dimensions: str) -> float:
        """The sum over every turn whose dimensions include the given values."""
        wanted = {(Dim[key.upper()], value) for key, value in dimensions.items()}
        return sum(count for (name, dims), count in self.counts.items()
                   if name is metric and wanted <= set(dims))

    def by(self, metric: Metric, dim: Dim) -> dict[str, float]:
        """The metric's counts split by one dimension, zeros left out."""
        split: Counter[str] = Counter()
        for (name, dims), count in self.counts.items():
            value = dict(dims).get(dim)
            if name is metric and value is not None and count:
                split[value] += count
        return dict(split)

    def summary(self, exercise_names: Iterable[tuple[str, str]] = ()) -> str:
        """The funnel and the health figures as a few readable lines.

        `exercise_names` are (id, name) pairs in routine order, so the funnel reads in the
        order a user meets the exercises.
        """
        names = dict(exercise_names)
        reached = self.by(Metric.EXERCISES_STARTED, Dim.EXERCISE)
        order = list(names) + sorted(set(reached) - set(names))
        completed = self.by(Metric.ROUTINES_COMPLETED, Dim.KIND)
        drop_offs = {f"{names.get(exercise, exercise)} step {step + 1}": count
                     for (exercise, step), count in sorted(self.drop_off_steps.items())}
        pains = {names.get(key, key): count
                 for key, count in self.by(Metric.PAIN_STOPS, Dim.EXERCISE).items()}
        rows = [
            ("Funnel", None, ""),
            ("sessions started", self.total(Metric.SESSIONS_STARTED), ""),
            ("routines started", self.total(Metric.ROUTINES_STARTED), ""),
            *((f"  {names.get(key, key)}", reached.get(key, 0), "") for key in order),
            ("routines completed", self.total(Metric.ROUTINES_COMPLETED), _split(completed)),
            ("drop-offs", self.total(Metric.DROP_OFFS), _split(drop_offs)),
            ("pain stops", self.total(Metric.PAIN_STOPS), _split(pains)),
            ("fallbacks", self.total(Metric.FALLBACKS),
             _split(self.by(Metric.FALLBACKS, Dim.PHASE))),
            ("Health", None, ""),
            ("turns", self.total(Metric.TURNS), _timing(self.timings[Metric.TURN_DURATION])),
            ("store calls", len(self.timings[Metric.STORE_LATENCY]),
             _timing(self.timings[Metric.STORE_LATENCY])),
            ("store faults", self.total(Metric.STORE_FAULTS), ""),
            ("polite errors", self.total(Metric.POLITE_ERRORS), ""),
            ("budget overruns", self.total(Metric.BUDGET_OVERRUNS), ""),
        ]
        width = max(len(label) for label, value, _ in rows if value is not None) + 2
        return "\n".join(label if value is None else f"  {label:<{width}}{value:g}{detail}"
                         for label, value, detail in rows)


def _split(parts: Mapping[str, float]) -> str:
    return f" ({', '.join(f'{key}: {value:g}' for key, value in parts.items())})" if parts else ""


def _timing(values: list[float]) -> str:
    if not values:
        return ""
    ordered = sorted(values)
    median = ordered[len(ordered) // 2]
    return f" (median {median:.1f} ms, max {ordered[-1]:.1f} ms)"
