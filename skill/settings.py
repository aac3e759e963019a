"""Every operator setting of the skill, read and checked once, then passed down as one object.

Why one object: each setting used to be parsed where it was used (the store factory, the web
app, `serve`, the Lambda entry, the console), each with its own idea of a blank value, a
default and a typo. Now `Settings.from_mapping` is the only reader: a value that cannot be used
stops the start with one error naming the variable, and everything below takes typed fields.

The names are a public contract (README "Configure", `skill.web.create_app(config)`): each
field declares the environment variable(s) it comes from and where it applies, and
tests/test_settings.py holds the README's table to exactly these fields.

AWS's own variables (credentials, FIPS and dual-stack endpoints, proxies, profiles) are not
here: they belong to the AWS SDK's contract, and keeping credentials out of an object that is
passed around and printed keeps them out of logs. skill/storage/dynamo_http.py reads them as botocore
would. Imports stay light: the Lambda cold path builds this object (and so Source is a
NamedTuple, cheaper to create at import than a frozen dataclass).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, NamedTuple

from skill.ops.budget import MAX_TURN_BUDGET_SECONDS, TURN_BUDGET_SECONDS

# Where a setting applies, as the README's table says it: "skill" everywhere the skill runs
# (Lambda, the web endpoint, the console), "web" in `create_app` (and so `serve`), "serve"
# only in the `foot-routine serve` process.
Scope = Literal["skill", "web", "serve"]
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# Checks and outside calls are on unless explicitly turned off with one of these, so a typo
# ("fasle", "no") can never disable request verification.
OFF_WORDS = frozenset({"0", "false"})
DEFAULT_DB = Path(".foot-routine") / "progress.sqlite3"


class SettingsError(ValueError):
    """A setting the skill cannot use; the message names the variable and the value."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name} {message}")
        self.name = name


class Source(NamedTuple):
    """How one field is read: its variable names (the first one set wins), parser and scope."""

    names: tuple[str, ...]
    parse: Callable[[Any, str], Any]
    scope: Scope


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise SettingsError(name, f"must be text, not {value!r}")
    return value.strip()


def _path(value: Any, name: str) -> Path:
    if not isinstance(value, str | os.PathLike):
        raise SettingsError(name, f"must be a file path, not {value!r}")
    return Path(value)


def _switch(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    return _text(value, name).lower() not in OFF_WORDS


def _level(value: Any, name: str) -> str:
    """A standard level name in any case; a typo is an error rather than silently INFO."""
    level = _text(value, name).upper()
    if level not in LOG_LEVELS:
        raise SettingsError(name, f"must be one of {', '.join(LOG_LEVELS)}, not {value!r}")
    return level


def _budget(value: Any, name: str) -> float:
    """Seconds in (0, 6]: more would let a slow turn meet Lambda's 7 s timeout."""
    try:
        seconds = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        seconds = math.nan
    if not 0 < seconds <= MAX_TURN_BUDGET_SECONDS:
        raise SettingsError(name, f"must be a number of seconds above 0 and at most "
                                  f"{MAX_TURN_BUDGET_SECONDS:g}, not {value!r}")
    return seconds


def _whole(value: Any, name: str) -> int:
    """At least 1. Strict, because these limits protect the server: falling back to a default
    on a typo would hide that the operator's limit is not in force."""
    try:
        number = int(value) if not isinstance(value, bool | float) else 0
    except (TypeError, ValueError):
        number = 0
    if number < 1:
        raise SettingsError(name, f"must be a whole number of at least 1, not {value!r}")
    return number


def _trust_roots(value: Any, name: str) -> bytes | str | os.PathLike[str]:
    """PEM bytes or text, or a path to a PEM bundle; skill/web/verify.py loads it."""
    if not isinstance(value, bytes | str | os.PathLike):
        raise SettingsError(name, f"must be PEM bytes or a path to a PEM bundle, not {value!r}")
    return value


def _fetcher(value: Any, name: str) -> Callable[[str], bytes]:
    if not callable(value):
        raise SettingsError(name, "must be a callable url -> PEM bytes (create_app's config only)")
    return value


def _read(parse: Callable[[Any, str], Any], *names: str,
          scope: Scope = "skill") -> dict[str, Source]:
    """A field's metadata: where its value comes from."""
    return {"source": Source(names, parse, scope)}


@dataclass(frozen=True)
class Settings:
    """The skill's configuration; the defaults here are the only defaults."""

    progress_table: str | None = field(default=None, metadata=_read(_text, "PROGRESS_TABLE"))
    dynamodb_endpoint_url: str | None = field(
        default=None, metadata=_read(_text, "DYNAMODB_ENDPOINT_URL"))
    aws_region: str = field(
        default="us-east-1", metadata=_read(_text, "AWS_REGION", "AWS_DEFAULT_REGION"))
    foot_routine_db: Path = field(default=DEFAULT_DB, metadata=_read(_path, "FOOT_ROUTINE_DB"))
    log_level: str = field(default="INFO", metadata=_read(_level, "LOG_LEVEL"))
    log_level_libraries: str = field(
        default="WARNING", metadata=_read(_level, "LOG_LEVEL_LIBRARIES"))
    alexa_api_calls: bool = field(default=True, metadata=_read(_switch, "ALEXA_API_CALLS"))
    turn_budget_seconds: float = field(
        default=TURN_BUDGET_SECONDS, metadata=_read(_budget, "TURN_BUDGET_SECONDS"))
    alexa_skill_id: str | None = field(
        default=None, metadata=_read(_text, "ALEXA_SKILL_ID", scope="web"))
    alexa_verify_signature: bool = field(
        default=True, metadata=_read(_switch, "ALEXA_VERIFY_SIGNATURE", scope="web"))
    alexa_verify_timestamp: bool = field(
        default=True, metadata=_read(_switch, "ALEXA_VERIFY_TIMESTAMP", scope="web"))
    alexa_trust_roots: bytes | str | os.PathLike[str] | None = field(
        default=None, metadata=_read(_trust_roots, "ALEXA_TRUST_ROOTS", scope="web"))
    alexa_cert_fetcher: Callable[[str], bytes] | None = field(
        default=None, metadata=_read(_fetcher, "ALEXA_CERT_FETCHER", scope="web"))
    serve_max_body_bytes: int = field(
        default=128 * 1024, metadata=_read(_whole, "SERVE_MAX_BODY_BYTES", scope="web"))
    serve_channel_timeout: int = field(
        default=10, metadata=_read(_whole, "SERVE_CHANNEL_TIMEOUT", scope="serve"))
    serve_connection_limit: int = field(
        default=500, metadata=_read(_whole, "SERVE_CONNECTION_LIMIT", scope="serve"))

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Settings:
        """Settings from variables by name (the environment, perhaps overlaid with a config
        dict). Unset or blank means the default; anything else must parse, or SettingsError."""
        parsed: dict[str, Any] = {}
        for item in fields(cls):
            source: Source = item.metadata["source"]
            value = next((values[name] for name in source.names if _given(values.get(name))),
                         None)
            if value is not None:
                parsed[item.name] = source.parse(value, source.names[0])
        return cls(**parsed)

    @classmethod
    def from_environment(cls, config: Mapping[str, Any] | None = None) -> Settings:
        """The process environment, with `config` (create_app's or serve's) winning per key.

        A key of `config` that names no setting is an error: a misspelt ALEXA_SKILL_ID would
        otherwise leave the skill id check silently off.
        """
        config = config or {}
        unknown = sorted(set(config) - set(variable_names()))
        if unknown:
            raise SettingsError(unknown[0], "is not a setting (see README, Configure)")
        return cls.from_mapping({**os.environ, **config})


def _given(value: Any) -> bool:
    """Unset and blank are the same: `VAR=` in a shell or template means "the default"."""
    return value is not None and not (isinstance(value, str) and not value.strip())


def sources() -> dict[str, Source]:
    """Each field's name and how it is read, in declaration order (the README's order)."""
    return {item.name: item.metadata["source"] for item in fields(Settings)}


def variable_names() -> list[str]:
    """Every variable name a setting may come from."""
    return [name for source in sources().values() for name in source.names]
