"""Process-wide log levels: ours from LOG_LEVEL, third-party libraries' from LOG_LEVEL_LIBRARIES.

Why two settings: at DEBUG, botocore logs whole requests and responses (user ids in item keys),
urllib3 every URL and waitress/werkzeug every connection. Turning our own logs up to debug the
skill must not switch those on; an operator who wants them asks for them separately. The
names were checked when the settings were read (skill/settings.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from skill.settings import Settings

LIBRARY_LOGGERS = (
    "ask_sdk_core",
    "ask_sdk_runtime",
    "boto3",
    "botocore",
    "urllib3",
    "waitress",
    "werkzeug",
)
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def set_level(settings: Settings) -> None:
    """The root and library levels, no handler: what Lambda needs, whose runtime installs
    and formats the handler (the libraries stay apart there too: botocore is on the path
    of every progress read and write)."""
    logging.getLogger().setLevel(settings.log_level)
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(settings.log_level_libraries)


def configure(settings: Settings) -> None:
    """Set the root and library levels; add a stderr handler only where none exists yet
    (an embedding program may have installed one already)."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format=FORMAT)
    set_level(settings)


def reaches_a_handler(logger: logging.Logger, level: int) -> bool:
    """Whether a record at `level` would reach any handler: the logger is enabled for it and
    a handler sits on its way up, or logging's last resort (stderr, WARNING and above) takes
    it. Lets a caller skip building a record nothing would write: where no handler is set
    up (a benchmark, a script), a turn's line would be built only to be dropped. A handler
    whose own level or filter drops the record still counts, which errs towards logging."""
    if not logger.isEnabledFor(level):
        return False
    current: logging.Logger | None = logger
    while current is not None:
        if current.handlers:
            return True
        if not current.propagate:
            break
        current = current.parent
    last = logging.lastResort
    # With no last resort, logging itself warns once that no handler was found: let it.
    return last is None or level >= last.level


def emit(logger: logging.Logger, level: int, message: str, fields: Mapping[str, Any],
         where: Callable[..., Any]) -> None:
    """`logger.log(level, message, extra=fields)` without looking up the caller on the
    stack every time: the record names `where`, the function that logs, by its file, first
    line and name. Everything else is what `Logger.log` does: the record factory, the
    check that no field overwrites a record attribute, the logger's filters and handlers."""
    if not logger.isEnabledFor(level):
        return
    code = where.__code__
    logger.handle(logger.makeRecord(logger.name, level, code.co_filename, code.co_firstlineno,
                                    message, (), None, code.co_name, fields))
