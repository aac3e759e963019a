"""Process-wide log levels: ours from LOG_LEVEL, third-party libraries' from LOG_LEVEL_LIBRARIES.

Why two settings: at DEBUG, botocore logs whole requests and responses (user ids in item keys),
urllib3 every URL and waitress/werkzeug every connection. Turning our own logs up to debug the
skill must not switch those on; an operator who wants them asks for them separately. The
names were checked when the settings were read (skill/settings.py).
"""

from __future__ import annotations

import logging

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
