"""Process-wide log levels: ours from LOG_LEVEL, third-party libraries' from LOG_LEVEL_LIBRARIES.

Why two settings: at DEBUG, botocore logs whole requests and responses (user ids in item keys),
urllib3 every URL and waitress/werkzeug every connection. Turning our own logs up to debug the
skill must not switch those on; an operator who wants them asks for them separately.
"""

from __future__ import annotations

import logging

LIBRARY_LOGGERS = (
    "ask_sdk_core",
    "ask_sdk_runtime",
    "boto3",
    "botocore",
    "urllib3",
    "waitress",
    "werkzeug",
)
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_LEVEL = "INFO"
DEFAULT_LIBRARY_LEVEL = "WARNING"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def level_named(name: str | None, default: str, setting: str) -> int:
    """A standard level name (any case); a typo is an error rather than silently INFO."""
    wanted = (name or "").strip().upper() or default
    if wanted not in LEVELS:
        raise ValueError(f"{setting} must be one of {', '.join(LEVELS)}, not {name!r}")
    return logging.getLevelNamesMapping()[wanted]


def configure(level: str | None, library_level: str | None = None) -> None:
    """Set the root and library levels; add a stderr handler only where none exists yet
    (Lambda's runtime installs its own, and an embedding program may have done so too)."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format=FORMAT)
    root.setLevel(level_named(level, DEFAULT_LEVEL, "LOG_LEVEL"))
    quiet = level_named(library_level, DEFAULT_LIBRARY_LEVEL, "LOG_LEVEL_LIBRARIES")
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(quiet)
