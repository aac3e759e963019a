"""Run the endpoint under waitress, the production WSGI server behind `foot-routine serve`.

Why waitress: pure Python, the same on every OS, threaded rather than forking (no fork-safety
issues with SQLite or boto3 clients), and production-grade. It speaks plain HTTP: Alexa needs
HTTPS on port 443, so put a TLS-terminating proxy or tunnel in front of it.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

import waitress

from skill.web import create_app

logger = logging.getLogger(__name__)

# Local clients (virtual-alexa, curl) carry no real API token: stay off Alexa's APIs too.
DEV_OVERRIDES = {
    "ALEXA_VERIFY_SIGNATURE": "false",
    "ALEXA_VERIFY_TIMESTAMP": "false",
    "ALEXA_API_CALLS": "0",
}


def is_loopback(host: str) -> bool:
    """True for localhost and loopback literals (127.0.0.0/8, ::1), with or without brackets."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(
    host: str = "127.0.0.1",
    port: int = 5000,
    dev: bool = False,
    config: dict[str, Any] | None = None,
    threads: int = 4,
) -> None:
    """Serve the skill until interrupted.

    `dev=True` switches off signature and timestamp checks so local tools can post unsigned
    requests; because that makes the endpoint forgeable, it refuses any non-loopback host.
    """
    config = dict(config or {})
    if dev:
        if not is_loopback(host):
            raise SystemExit(
                f"--dev turns off Alexa request verification, so it only binds a loopback "
                f"address (127.0.0.1, ::1 or localhost), not {host!r}."
            )
        config.update(DEV_OVERRIDES)
    app = create_app(config)
    logger.info("Foot Routine endpoint on http://%s:%d/ (dev=%s)", host, port, dev)
    waitress.serve(app, host=host, port=port, threads=threads)
