"""Run the endpoint under waitress, the production WSGI server behind `foot-routine serve`.

Why waitress: pure Python, the same on every OS, threaded rather than forking (no fork-safety
issues with SQLite or botocore clients), and production-grade. It speaks plain HTTP: Alexa needs
HTTPS on port 443, so put a TLS-terminating proxy or tunnel in front of it.

Waitress' defaults suit a general web site, not an endpoint anyone on the internet can reach
whose legitimate client sends a few KB: a 1 GB body limit (spooled to disk before any answer),
idle connections kept for two minutes and 100 connections in all, so a hundred silent sockets
lock everyone out. `ServerLimits` replaces them, each configurable.
"""

from __future__ import annotations

import ipaddress
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TextIO

import waitress

from skill.ops import logs
from skill.settings import Settings
from skill.web import VERIFIER_EXTENSION, checks_in_force, create_app

# Local clients (virtual-alexa, curl) carry no real API token: stay off Alexa's APIs too.
# How long a thread runs Python before another may take the GIL (CPython's default: 5 ms).
# The signature check (cryptography's RSA verify) and SQLite release the GIL; getting it back
# while the server's other thread runs Python costs the waiting thread up to the interval.
# Measured with a busy second thread: a verify cost ~0.2-0.3 ms of CPU at 5 ms, ~0.06-0.1 ms
# at 1 ms and ~0.03 ms at 0.5 ms, the busy thread's own throughput within 10 %; six runs of
# `make bench`'s endpoint section put capacity at a median ~0.94x of the unverified server
# at 0.5 ms against ~0.89x at 1 ms.
GIL_SWITCH_INTERVAL_S = 0.0005

DEV_OVERRIDES = {
    "ALEXA_VERIFY_SIGNATURE": "false",
    "ALEXA_VERIFY_TIMESTAMP": "false",
    "ALEXA_API_CALLS": "0",
}


@dataclass(frozen=True)
class ServerLimits:
    """What one client may cost the server: body size, idle time, and connections in all."""

    max_body_bytes: int
    channel_timeout_s: int
    connection_limit: int

    @classmethod
    def from_settings(cls, settings: Settings) -> ServerLimits:
        """SERVE_MAX_BODY_BYTES, SERVE_CHANNEL_TIMEOUT, SERVE_CONNECTION_LIMIT."""
        return cls(
            max_body_bytes=settings.serve_max_body_bytes,
            channel_timeout_s=settings.serve_channel_timeout,
            connection_limit=settings.serve_connection_limit,
        )

    def waitress_options(self) -> dict[str, Any]:
        """The limits as waitress adjustments."""
        return {
            # Waitress answers 413 from the Content-Length header (or as a chunked body grows)
            # before reading the body; it refuses a body of exactly this size, hence the + 1.
            "max_request_body_size": self.max_body_bytes + 1,
            "channel_timeout": self.channel_timeout_s,
            # Idle channels are only closed when this sweep runs (30 s by default).
            "cleanup_interval": max(1, self.channel_timeout_s // 2),
            "connection_limit": self.connection_limit,
            # select() cannot watch file descriptors past 1024; poll() can.
            "asyncore_use_poll": True,
        }


def is_loopback(host: str) -> bool:
    """True for localhost and loopback literals (127.0.0.0/8, ::1), with or without brackets."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def ready_line(addresses: list[tuple[str, int]], checks: Mapping[str, bool]) -> str:
    """What an operator needs to see once the server listens: where, and which checks hold."""

    def state(name: str) -> str:
        return "on" if checks[name] else "OFF"

    skill_id = "on" if checks["skill_id_check"] else "off (set ALEXA_SKILL_ID)"
    return (
        f"Foot Routine endpoint listening on {', '.join(_url(*a) for a in addresses)} "
        f"(signature check {state('verify_signature')}, "
        f"timestamp check {state('verify_timestamp')}, skill id check {skill_id})"
    )


def serve(
    host: str = "127.0.0.1",
    port: int = 5000,
    dev: bool = False,
    config: Mapping[str, Any] | None = None,
    threads: int = 4,
    out: TextIO = sys.stdout,
) -> None:
    """Serve the skill until interrupted, after printing one ready line to `out`.

    `dev=True` switches off signature and timestamp checks so local tools can post unsigned
    requests; because that makes the endpoint forgeable, it refuses any non-loopback host.
    `config` holds variables by name, each winning over the environment's; the settings are
    read once here and handed to the app. A bad setting ends the process with one line
    naming it.
    """
    config = dict(config or {})
    if dev:
        if not is_loopback(host):
            raise SystemExit(
                f"--dev turns off Alexa request verification, so it only binds a loopback "
                f"address (127.0.0.1, ::1 or localhost), not {host!r}."
            )
        config.update(DEV_OVERRIDES)
    try:
        settings = Settings.from_environment(config)
        logs.configure(settings)
        limits = ServerLimits.from_settings(settings)
        app = create_app(settings)
        server = waitress.create_server(
            app, host=host, port=port, threads=threads, **limits.waitress_options()
        )
    except (ValueError, OSError) as exc:  # a setting, a roots file, a taken port
        raise SystemExit(f"foot-routine serve: {exc}") from exc
    addresses = getattr(server, "effective_listen", None) or [
        (server.effective_host, server.effective_port)
    ]
    print(ready_line(addresses, checks_in_force(app.extensions[VERIFIER_EXTENSION])),
          file=out, flush=True)
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    server.run()
