"""One Settings object: read and checked once, passed down, and the README's table is it."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from skill.settings import LOG_LEVELS, Settings, SettingsError, sources, variable_names

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's shell must not change what these tests see."""
    for name in variable_names():
        monkeypatch.delenv(name, raising=False)


def test_nothing_set_means_every_default():
    assert Settings.from_mapping({}) == Settings()
    assert Settings.from_environment() == Settings()


@pytest.mark.parametrize(
    ("name", "raw", "field", "value"),
    [
        ("PROGRESS_TABLE", " progress ", "progress_table", "progress"),
        ("DYNAMODB_ENDPOINT_URL", "http://127.0.0.1:4567", "dynamodb_endpoint_url",
         "http://127.0.0.1:4567"),
        ("FOOT_ROUTINE_DB", "/tmp/p.sqlite3", "foot_routine_db", Path("/tmp/p.sqlite3")),
        ("LOG_LEVEL", "debug", "log_level", "DEBUG"),
        ("LOG_LEVEL_LIBRARIES", " Error ", "log_level_libraries", "ERROR"),
        ("ALEXA_API_CALLS", "0", "alexa_api_calls", False),
        ("ALEXA_API_CALLS", "FALSE", "alexa_api_calls", False),
        ("TURN_BUDGET_SECONDS", " 6 ", "turn_budget_seconds", 6.0),
        ("TURN_BUDGET_SECONDS", "0.5", "turn_budget_seconds", 0.5),
        ("ALEXA_SKILL_ID", "amzn1.ask.skill.x", "alexa_skill_id", "amzn1.ask.skill.x"),
        ("ALEXA_VERIFY_SIGNATURE", False, "alexa_verify_signature", False),
        ("ALEXA_VERIFY_TIMESTAMP", " false ", "alexa_verify_timestamp", False),
        ("ALEXA_TRUST_ROOTS", b"-----BEGIN", "alexa_trust_roots", b"-----BEGIN"),
        ("SERVE_MAX_BODY_BYTES", "3000", "serve_max_body_bytes", 3000),
        ("SERVE_CHANNEL_TIMEOUT", 3, "serve_channel_timeout", 3),
        ("SERVE_CONNECTION_LIMIT", "50", "serve_connection_limit", 50),
    ],
)
def test_each_variable_arrives_typed_in_its_field(name, raw, field, value):
    settings = Settings.from_mapping({name: raw})
    assert getattr(settings, field) == value
    others = {key: getattr(settings, key) for key in sources() if key != field}
    assert others == {key: getattr(Settings(), key) for key in others}


def test_the_cert_fetcher_is_kept_as_given():
    def fetch(url: str) -> bytes:
        return url.encode()

    assert Settings.from_mapping({"ALEXA_CERT_FETCHER": fetch}).alexa_cert_fetcher is fetch


@pytest.mark.parametrize("blank", ["", "   ", None])
def test_a_blank_value_means_the_default(blank):
    names = [name for name in variable_names() if name != "ALEXA_CERT_FETCHER"]
    assert Settings.from_mapping(dict.fromkeys(names, blank)) == Settings()


def test_aws_region_comes_before_aws_default_region():
    assert Settings.from_mapping({"AWS_DEFAULT_REGION": "eu-west-1"}).aws_region == "eu-west-1"
    both = {"AWS_REGION": "eu-central-1", "AWS_DEFAULT_REGION": "eu-west-1"}
    assert Settings.from_mapping(both).aws_region == "eu-central-1"
    blank_first = {"AWS_REGION": "", "AWS_DEFAULT_REGION": "eu-west-1"}
    assert Settings.from_mapping(blank_first).aws_region == "eu-west-1"


@pytest.mark.parametrize("value", ["1", "true", "no", "off", "fasle", True])
def test_only_0_or_false_turns_a_check_or_the_api_calls_off(value):
    settings = Settings.from_mapping({"ALEXA_VERIFY_SIGNATURE": value,
                                      "ALEXA_VERIFY_TIMESTAMP": value, "ALEXA_API_CALLS": value})
    assert settings.alexa_verify_signature and settings.alexa_verify_timestamp
    assert settings.alexa_api_calls


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("TURN_BUDGET_SECONDS", "abc", "above 0 and at most 6"),
        ("TURN_BUDGET_SECONDS", "7", "above 0 and at most 6"),
        ("TURN_BUDGET_SECONDS", "0", "above 0 and at most 6"),
        ("TURN_BUDGET_SECONDS", "nan", "above 0 and at most 6"),
        ("TURN_BUDGET_SECONDS", True, "above 0 and at most 6"),
        ("LOG_LEVEL", "LOUD", f"one of {', '.join(LOG_LEVELS)}"),
        ("LOG_LEVEL_LIBRARIES", "10", "one of DEBUG"),
        ("SERVE_MAX_BODY_BYTES", "128 KB", "whole number of at least 1"),
        ("SERVE_MAX_BODY_BYTES", 1.5, "whole number of at least 1"),
        ("SERVE_CHANNEL_TIMEOUT", "0", "whole number of at least 1"),
        ("SERVE_CONNECTION_LIMIT", True, "whole number of at least 1"),
        ("PROGRESS_TABLE", 5, "must be text"),
        ("ALEXA_VERIFY_SIGNATURE", 0, "must be text"),
        ("FOOT_ROUTINE_DB", 3, "file path"),
        ("ALEXA_TRUST_ROOTS", 42, "PEM bytes or a path"),
        ("ALEXA_CERT_FETCHER", "https://example.invalid/", "callable url -> PEM bytes"),
    ],
)
def test_a_bad_value_is_one_error_naming_the_variable(name, value, says):
    with pytest.raises(SettingsError) as raised:
        Settings.from_mapping({name: value})
    message = str(raised.value)
    assert message.startswith(f"{name} must ") and says in message and "\n" not in message
    assert raised.value.name == name


def test_the_second_region_variable_is_named_when_it_is_the_bad_one():
    with pytest.raises(SettingsError, match="^AWS_REGION must be text"):
        Settings.from_mapping({"AWS_DEFAULT_REGION": 1})


def test_config_wins_over_the_environment_and_mends_a_bad_value(monkeypatch):
    monkeypatch.setenv("TURN_BUDGET_SECONDS", "2")
    monkeypatch.setenv("SERVE_CHANNEL_TIMEOUT", "abc")
    monkeypatch.setenv("ALEXA_SKILL_ID", "amzn1.ask.skill.env")
    settings = Settings.from_environment({"SERVE_CHANNEL_TIMEOUT": "4",
                                          "ALEXA_SKILL_ID": "amzn1.ask.skill.config"})
    assert (settings.turn_budget_seconds, settings.serve_channel_timeout,
            settings.alexa_skill_id) == (2.0, 4, "amzn1.ask.skill.config")


def test_a_config_key_that_is_no_setting_is_refused():
    with pytest.raises(SettingsError, match="^ALEXA_SKIL_ID is not a setting"):
        Settings.from_environment({"ALEXA_SKIL_ID": "amzn1.ask.skill.x"})


def test_create_app_config_overrides_the_environment(monkeypatch):
    from skill.web import create_app

    monkeypatch.setenv("SERVE_MAX_BODY_BYTES", "1000")
    monkeypatch.setenv("ALEXA_VERIFY_TIMESTAMP", "false")
    app = create_app({"SERVE_MAX_BODY_BYTES": "2000", "ALEXA_VERIFY_SIGNATURE": "false"})
    assert app.config["MAX_CONTENT_LENGTH"] == 2000
    health = app.test_client().get("/healthz").get_json()
    assert health["verify_signature"] is False and health["verify_timestamp"] is False


def test_create_app_takes_settings_already_read(monkeypatch):
    from skill.web import create_app

    monkeypatch.setenv("SERVE_MAX_BODY_BYTES", "abc")  # not read again: the settings are final
    app = create_app(Settings(serve_max_body_bytes=4000, alexa_verify_timestamp=False))
    assert app.config["MAX_CONTENT_LENGTH"] == 4000


def test_the_console_skill_is_off_alexa_apis_without_touching_the_environment(
        monkeypatch, tmp_path):
    from skill.tools import cli

    monkeypatch.setenv("ALEXA_API_CALLS", "1")
    monkeypatch.setenv("FOOT_ROUTINE_DB", str(tmp_path / "progress.sqlite3"))
    before = dict(os.environ)
    out = io.StringIO()
    cli.chat(["open foot routine", "stop"], out, echo=False)
    assert dict(os.environ) == before
    assert "Alexa: " in out.getvalue() and "went wrong" not in out.getvalue()
    assert (tmp_path / "progress.sqlite3").exists()  # the environment's store, all the same
    console = cli.Console(cli.Resolver.from_model_file(cli.model_path("en-US")), out)
    assert console.skill.api_client is None
    assert dict(os.environ) == before


def test_the_lambda_skill_calls_alexa_apis_unless_told_not_to(tmp_path):
    from skill.alexa.app import skill_from_settings

    on = skill_from_settings(Settings(foot_routine_db=tmp_path / "p.sqlite3"))
    off = skill_from_settings(Settings(foot_routine_db=tmp_path / "p.sqlite3",
                                       alexa_api_calls=False))
    assert on.api_client is not None and off.api_client is None


_LAMBDA_START = """
import json
from skill import lambda_function
print(json.dumps(lambda_function._skill.turn_budget_seconds))
"""


_LAMBDA_LOG_LEVELS = """
import json, logging
from skill import lambda_function
names = ("", "skill", "botocore", "urllib3", "ask_sdk_core", "boto3")
print(json.dumps({name: logging.getLogger(name).getEffectiveLevel() for name in names}))
"""


def _lambda_cold_start(tmp_path: Path, script: str = _LAMBDA_START,
                       **env: str) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if key not in variable_names()}
    clean.update(FOOT_ROUTINE_DB=str(tmp_path / "p.sqlite3"), **env)
    return subprocess.run([sys.executable, "-c", script], cwd=REPO, env=clean,
                          capture_output=True, text=True, timeout=120, check=False)


def test_the_lambda_entry_reads_its_settings_once_at_the_cold_start(tmp_path):
    started = _lambda_cold_start(tmp_path, TURN_BUDGET_SECONDS="2.5")
    assert started.returncode == 0, started.stderr[-2000:]
    assert json.loads(started.stdout) == 2.5


def test_a_bad_setting_fails_the_lambda_cold_start_naming_it(tmp_path):
    started = _lambda_cold_start(tmp_path, TURN_BUDGET_SECONDS="soon")
    assert started.returncode != 0
    assert "SettingsError: TURN_BUDGET_SECONDS must be a number" in started.stderr


def test_debug_on_lambda_leaves_the_libraries_at_warning_unless_asked(tmp_path):
    """At DEBUG botocore logs whole requests, user ids in item keys included (issue 12)."""
    started = _lambda_cold_start(tmp_path, _LAMBDA_LOG_LEVELS, LOG_LEVEL="DEBUG")
    assert started.returncode == 0, started.stderr[-2000:]
    levels = json.loads(started.stdout)
    assert levels.pop("") == levels.pop("skill") == logging.DEBUG
    assert levels == dict.fromkeys(levels, logging.WARNING)
    asked = _lambda_cold_start(tmp_path, _LAMBDA_LOG_LEVELS, LOG_LEVEL="WARNING",
                               LOG_LEVEL_LIBRARIES="DEBUG")
    assert asked.returncode == 0, asked.stderr[-2000:]
    assert json.loads(asked.stdout)["botocore"] == logging.DEBUG


def test_reading_the_settings_imports_nothing_heavy():
    """The Lambda cold path builds them: no SDK, Flask or crypto for reading variables."""
    code = ("import sys, skill.settings; "
            "print(sorted({n.split('.')[0] for n in sys.modules} & "
            "{'ask_sdk_core', 'flask', 'botocore', 'boto3', 'cryptography', 'yaml'}))")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"


# The README's table, each row: variable names, default, meaning.
_ROW = re.compile(r"^\| (`[A-Z_]+`(?: / `[A-Z_]+`)*) \| ([^|]+) \| (.+) \|$")


def _readme_rows() -> dict[tuple[str, ...], tuple[str, str]]:
    section = README.read_text(encoding="utf-8").split("\n## Configure\n", 1)[1]
    table = section.strip().split("\n\n", 1)[0]
    rows: dict[tuple[str, ...], tuple[str, str]] = {}
    for line in table.splitlines()[2:]:
        match = _ROW.match(line)
        assert match, f"README Configure row not understood: {line!r}"
        names = tuple(re.findall(r"`([A-Z_]+)`", match[1]))
        assert names not in rows, f"two README rows for {names}"
        rows[names] = (match[2].strip(), match[3].strip())
    return rows


def _shown(default: Any) -> set[str]:
    """How the README may write a default: `1`/`true` for on, the value itself otherwise."""
    if default is True:
        return {"`1`", "`true`"}
    if isinstance(default, float):
        return {f"`{default:g}`"}
    return {f"`{Path(default).as_posix() if isinstance(default, Path) else default}`"}


def test_the_readme_table_has_one_row_per_setting_and_no_other():
    rows = _readme_rows()
    declared = {source.names for source in sources().values()}
    assert set(rows) == declared


@pytest.mark.parametrize("field", list(sources()))
def test_the_readme_row_states_the_default_and_where_it_applies(field):
    source = sources()[field]
    default_cell, meaning = _readme_rows()[source.names]
    default = getattr(Settings(), field)
    if default is None:
        assert not default_cell.startswith("`"), f"{field} has no value by default"
    else:
        assert default_cell.split(" (")[0] in _shown(default), default_cell
    prefix = {"web": "Web endpoint", "serve": "`serve`:"}.get(source.scope)
    if prefix:
        assert meaning.startswith(prefix), meaning
    else:
        assert not meaning.startswith(("Web endpoint", "`serve`")), meaning
