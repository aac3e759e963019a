"""Telemetry as it runs on Lambda: the runtime's log handler and our EMF lines, written to
/dev/null (`as_on_lambda` in process, `runtime_logging` in a child before the skill loads).

On Lambda the turn line is handed to the runtime's handler (awslambdaric formats every
record as JSON, LoggingConfig LogFormat JSON in template.yaml) and the EMF printer writes
its lines to stdout. Without both, an in-process measurement would leave out work every
real turn pays: our telemetry builds the line only when a handler would take it. The
formatter below does what awslambdaric's JsonFormatter does per record (level folding,
the fixed fields, the record's extra fields, one JSON encoding, a newline); the sample
skill runs under the same handler, so both pay what Lambda charges them. Only the standard
library at the top: the cold-start child sets this up before it imports what it measures.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TextIO

# LogRecord attributes awslambdaric leaves out of the JSON (its _RESERVED_ATTRIBUTES).
_RESERVED = frozenset({
    "name", "msg", "args", "levelname", "levelno", "pathname", "filename", "module",
    "exc_info", "exc_text", "stack_info", "lineno", "funcName", "created", "msecs",
    "relativeCreated", "thread", "threadName", "processName", "process", "aws_request_id",
    "tenant_id", "_frame_type", "taskName",
})
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode
FUNCTION_NAME = "foot-routine-bench"


class RuntimeJsonFormatter(logging.Formatter):
    """A record as the Python runtime's JSON log format writes it."""

    def format(self, record: logging.LogRecord) -> str:
        record.levelno = min(50, max(0, record.levelno)) // 10 * 10
        record.levelname = logging.getLevelName(record.levelno)
        created = datetime.fromtimestamp(record.created, tz=UTC)
        line = {"timestamp": created.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                "level": record.levelname, "message": record.getMessage(),
                "logger": record.name, "requestId": getattr(record, "aws_request_id", None)}
        line.update((key, value) for key, value in vars(record).items()
                    if key not in _RESERVED and key not in line)
        return _ENCODE({key: value for key, value in line.items() if value is not None}) + "\n"


def runtime_logging(sink: TextIO) -> None:
    """For a child process, before it loads a skill: the runtime's handler at INFO on the
    root logger, writing to `sink`, and the function name that makes skill.lambda_function
    print EMF lines (to stdout, which the child points at /dev/null too)."""
    handler = logging.StreamHandler(sink)
    handler.setFormatter(RuntimeJsonFormatter())
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)
    os.environ["AWS_LAMBDA_FUNCTION_NAME"] = FUNCTION_NAME


@contextlib.contextmanager
def as_on_lambda() -> Iterator[None]:
    """While the block runs: the root logger at INFO with the runtime's handler, and the EMF
    printer of skill.lambda_function on the observer, both writing to /dev/null."""
    from skill.ops.metrics import EmfPrinter
    from skill.ops.telemetry import observer

    root = logging.getLogger()
    with open(os.devnull, "w", encoding="utf-8") as sink:
        handler = logging.StreamHandler(sink)
        handler.setFormatter(RuntimeJsonFormatter())
        printer = EmfPrinter(FUNCTION_NAME, stream=sink)
        level = root.level
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        observer.sinks.append(printer)
        try:
            yield
        finally:
            observer.sinks.remove(printer)
            root.removeHandler(handler)
            root.setLevel(level)
