"""The HTTP contract of the self-hosted endpoint (`skill.web`, `skill.web.serve`).

Why: this is the skill's only door when it is not on Lambda. It must let Alexa's genuine,
signed requests through to the real skill, turn everything else away with a short JSON 400
(413 for oversized bodies) that names the failed check, and never answer 500 or leak a
traceback, whatever bytes and headers arrive. Offline: the test CA in `tests.alexa_test_ca`
signs the requests and an injected fetcher serves its chain.
"""

from __future__ import annotations

import io
import json
import logging
import re
import subprocess
import sys
import tempfile
import threading
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
import waitress
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import skill.alexa.app
import skill.storage.config
import skill.web.serve
from skill.ops import logs
from skill.settings import Settings, SettingsError
from skill.web import create_app
from tests.alexa_test_ca import (
    CERT_URL,
    SKILL_ID,
    RecordingFetcher,
    launch_envelope,
    pki,
    signed_headers,
)
from tests.serve_process import REPO, ServeProcess, start_serve

VERIFIER_ENV = (
    "ALEXA_SKILL_ID",
    "ALEXA_VERIFY_SIGNATURE",
    "ALEXA_VERIFY_TIMESTAMP",
    "ALEXA_TRUST_ROOTS",
    "ALEXA_CERT_FETCHER",
    "PROGRESS_TABLE",
    "DYNAMODB_ENDPOINT_URL",
    "FOOT_ROUTINE_DB",
    "SERVE_MAX_BODY_BYTES",
    "SERVE_CHANNEL_TIMEOUT",
    "SERVE_CONNECTION_LIMIT",
    "LOG_LEVEL",
    "LOG_LEVEL_LIBRARIES",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's shell must not change what these tests see."""
    for name in VERIFIER_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture()
def fetcher() -> RecordingFetcher:
    return RecordingFetcher({CERT_URL: pki().chain_pem})


@pytest.fixture()
def config(tmp_path, fetcher: RecordingFetcher) -> dict[str, Any]:
    return {
        "ALEXA_SKILL_ID": SKILL_ID,
        "ALEXA_TRUST_ROOTS": pki().root_pem,
        "ALEXA_CERT_FETCHER": fetcher,
        "FOOT_ROUTINE_DB": str(tmp_path / "progress.sqlite3"),
        "ALEXA_API_CALLS": "0",  # the envelopes carry no real token: no network from tests
    }


@pytest.fixture()
def app(config: dict[str, Any]) -> Flask:
    return create_app(config)


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def body_of(envelope: dict[str, Any]) -> bytes:
    return json.dumps(envelope).encode()


def post_signed(client: FlaskClient, envelope: dict[str, Any], **header_kwargs: Any):
    body = body_of(envelope)
    return client.post("/", data=body, headers=signed_headers(body, **header_kwargs))


def fresh_launch(**kwargs: Any) -> dict[str, Any]:
    return launch_envelope(datetime.now(UTC), **kwargs)


def assert_json_error(response, status: int) -> str:
    """A rejection is a short JSON object with one "error" string and nothing else."""
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert set(response.get_json()) == {"error"}
    assert "Traceback" not in response.get_data(as_text=True)
    return response.get_json()["error"]


def test_a_signed_launch_request_reaches_the_skill_and_gets_speech(client, config):
    response = post_signed(client, fresh_launch())
    assert response.status_code == 200
    assert response.content_type == "application/json;charset=UTF-8"
    speech = response.get_json()["response"]["outputSpeech"]
    assert speech["type"] in {"SSML", "PlainText"}
    assert speech.get("ssml") or speech.get("text")
    assert Path(config["FOOT_ROUTINE_DB"]).exists()  # the configured SQLite store was used


def test_the_skill_is_built_once_and_the_chain_fetched_once(client, fetcher, monkeypatch):
    built = []
    real_build = skill.alexa.app.build_skill
    monkeypatch.setattr(
        skill.alexa.app, "build_skill",
        lambda store, **kwargs: built.append(store) or real_build(store, **kwargs),
    )
    for _ in range(3):
        assert post_signed(client, fresh_launch()).status_code == 200
    assert len(built) == 1
    assert fetcher.calls == [CERT_URL]


def test_storage_config_reaches_the_store_factory(config, monkeypatch):
    seen: list[Settings] = []
    real_make_store = skill.storage.config.make_store
    monkeypatch.setenv("PROGRESS_TABLE", "")
    monkeypatch.setenv("TURN_BUDGET_SECONDS", "2.5")

    def spy(settings):
        seen.append(settings)
        return real_make_store(settings)

    monkeypatch.setattr(skill.storage.config, "make_store", spy)
    client = create_app(config).test_client()
    assert post_signed(client, fresh_launch()).status_code == 200
    assert seen[0].foot_routine_db == Path(config["FOOT_ROUTINE_DB"])
    assert seen[0].progress_table is None  # blank in the environment means unset
    assert seen[0].turn_budget_seconds == 2.5  # the environment fills what config leaves


def test_healthz_answers_small_json_without_secrets(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body == {
        "status": "ok",
        "verify_signature": True,
        "verify_timestamp": True,
        "skill_id_check": True,
    }
    assert SKILL_ID not in response.get_data(as_text=True)


def without(headers: dict[str, str], name: str) -> dict[str, str]:
    return {key: value for key, value in headers.items() if key != name}


HTTP_CERT_URL = "http://s3.amazonaws.com/echo.api/echo-api-cert.pem"
FORGERIES = {
    # name: (turn genuine (headers, body) into a forgery, the reason the endpoint must give)
    "tampered-body": (lambda h, b: (h, b + b" "), "signature does not match the request body"),
    "wrong-key": (
        lambda h, b: (signed_headers(b, key=pki().other_key), b),
        "signature does not match the request body",
    ),
    "http-cert-url": (
        lambda h, b: ({**h, "SignatureCertChainUrl": HTTP_CERT_URL}, b),
        "SignatureCertChainUrl is not https",
    ),
    "no-cert-url": (
        lambda h, b: (without(h, "SignatureCertChainUrl"), b),
        "missing SignatureCertChainUrl header",
    ),
    "no-signature": (
        lambda h, b: (without(h, "Signature-256"), b),
        "missing or empty Signature-256 header",
    ),
    "empty-signature": (
        lambda h, b: ({**h, "Signature-256": ""}, b),
        "missing or empty Signature-256 header",
    ),
    "bad-base64": (
        lambda h, b: ({**h, "Signature-256": "%%%"}, b),
        "Signature-256 is not valid base64",
    ),
}


@pytest.mark.parametrize("forgery", FORGERIES)
def test_forged_requests_are_refused_with_400_and_one_log_line(client, caplog, forgery):
    forge, reason = FORGERIES[forgery]
    body = body_of(fresh_launch())
    headers, body = forge(signed_headers(body), body)
    with caplog.at_level(logging.INFO, logger="skill.web"):
        response = client.post("/", data=body, headers=headers)
    assert assert_json_error(response, 400) == reason
    lines = [record for record in caplog.records if record.name == "skill.web"]
    assert len(lines) == 1 and reason in lines[0].getMessage()


@pytest.mark.parametrize(
    ("chain", "reason"),
    [
        ("expired_chain_pem", "signing certificate is expired or not yet valid"),
        ("wrong_san_chain_pem", "signing certificate does not name echo-api.amazon.com"),
        ("untrusted_chain_pem", "certificate chain does not lead to a trusted root"),
    ],
)
def test_bad_chains_are_refused(config, chain, reason):
    config["ALEXA_CERT_FETCHER"] = RecordingFetcher({CERT_URL: getattr(pki(), chain)})
    response = post_signed(create_app(config).test_client(), fresh_launch())
    assert assert_json_error(response, 400) == reason


@pytest.mark.parametrize("offset", [timedelta(seconds=-151), timedelta(seconds=151)])
def test_stale_and_future_requests_are_refused(client, offset):
    envelope = launch_envelope(datetime.now(UTC) + offset)
    response = post_signed(client, envelope)
    assert assert_json_error(response, 400) == "request timestamp is too old or in the future"


def test_a_request_for_another_skill_is_refused(client):
    response = post_signed(client, fresh_launch(skill_id="amzn1.ask.skill.someone-else"))
    assert assert_json_error(response, 400) == "request is for another skill id"


@pytest.mark.parametrize(
    ("content_type", "body", "reason"),
    [
        ("text/plain", b"{}", "content type must be application/json"),
        (None, b"{}", "content type must be application/json"),
        ("application/json", b"{not json", "body is not valid UTF-8 JSON"),
        ("application/json", b"\xff\xfe{}", "body is not valid UTF-8 JSON"),
        ("application/json", b"", "body is not valid UTF-8 JSON"),
        ("application/json", b"[" * 50_000 + b"]" * 50_000, "body is not valid UTF-8 JSON"),
        ("application/json", b"[1, 2]", "body is not a JSON object"),
    ],
)
def test_unreadable_bodies_are_refused_with_400(client, content_type, body, reason):
    headers = signed_headers(body)
    if content_type is None:
        del headers["Content-Type"]
    else:
        headers["Content-Type"] = content_type
    assert assert_json_error(client.post("/", data=body, headers=headers), 400) == reason


def test_a_body_over_128_kb_is_refused_with_413(client):
    envelope = fresh_launch()
    envelope["padding"] = "x" * Settings().serve_max_body_bytes
    response = post_signed(client, envelope)
    assert assert_json_error(response, 413) == "request entity too large"


def test_the_body_limit_follows_serve_max_body_bytes(config):
    config["SERVE_MAX_BODY_BYTES"] = "3000"
    client = create_app(config).test_client()
    fits = body_of(fresh_launch())
    assert post_signed(client, fresh_launch()).status_code == 200 and len(fits) < 3000
    response = client.post("/", data=b"{" * 3001, headers=signed_headers(b"{" * 3001))
    assert assert_json_error(response, 413) == "request entity too large"


@pytest.mark.parametrize("value", ["abc", "0", "-5", "1.5", "128 KB"])
def test_a_body_limit_that_is_not_a_positive_whole_number_is_refused(config, value):
    config["SERVE_MAX_BODY_BYTES"] = value
    with pytest.raises(ValueError, match="SERVE_MAX_BODY_BYTES must be a whole number"):
        create_app(config)


def test_a_body_that_is_not_utf8_is_refused_and_never_logged(client, caplog):
    secret = "amzn1.ask.account.SECRET-USER-7f3a"
    body = json.dumps({"session": {"user": {"userId": secret}}}).encode() + b"\xff\xfe"
    with caplog.at_level(logging.DEBUG):
        response = client.post("/", data=body, headers=signed_headers(body))
    assert assert_json_error(response, 400) == "body is not valid UTF-8 JSON"
    assert secret not in caplog.text and "\\xff" not in caplog.text
    [line] = [record.getMessage() for record in caplog.records if record.name == "skill.web"]
    assert line == (
        f"rejected Alexa request of {len(body)} bytes: body is not valid UTF-8 JSON "
        "(UnicodeDecodeError)"
    )


def test_a_signed_envelope_the_sdk_cannot_read_is_refused(client):
    envelope = fresh_launch()
    envelope["request"]["type"] = "NoSuchRequestType"
    response = post_signed(client, envelope)
    assert assert_json_error(response, 400) == "body is not an Alexa request envelope"


def test_a_signed_envelope_without_context_is_refused(config):
    del config["ALEXA_SKILL_ID"]
    envelope = fresh_launch()
    del envelope["context"]
    response = post_signed(create_app(config).test_client(), envelope)
    assert assert_json_error(response, 400) == "request envelope lacks request or context.System"


def test_a_crashing_skill_answers_500_without_traceback(client, monkeypatch, caplog):
    class Exploding:
        def invoke(self, request_envelope, context):
            raise RuntimeError("secret internals")

    monkeypatch.setattr(skill.alexa.app, "build_skill", lambda store, **kwargs: Exploding())
    with caplog.at_level(logging.ERROR, logger="skill.web"):
        response = post_signed(client, fresh_launch())
    assert assert_json_error(response, 500) == "internal error"
    assert "secret internals" not in response.get_data(as_text=True)
    assert any("secret internals" in (r.exc_text or "") for r in caplog.records)


@pytest.mark.parametrize(
    ("method", "path", "status"), [("get", "/", 405), ("get", "/nope", 404), ("put", "/", 405)]
)
def test_other_routes_answer_json_errors(client, method, path, status):
    assert_json_error(getattr(client, method)(path), status)


@pytest.mark.parametrize("off", ["0", "false", "FALSE", " False ", False])
def test_turning_signature_checks_off_warns_loudly(config, caplog, off):
    config["ALEXA_VERIFY_SIGNATURE"] = off
    with caplog.at_level(logging.WARNING, logger="skill.web"):
        app = create_app(config)
    assert "ALEXA_VERIFY_SIGNATURE IS OFF" in caplog.text
    body = body_of(fresh_launch())
    response = app.test_client().post("/", data=body, content_type="application/json")
    assert response.status_code == 200


@pytest.mark.parametrize("value", ["1", "true", "no", "off", "fasle", "", True])
def test_anything_but_0_or_false_keeps_checks_on(config, value):
    config["ALEXA_VERIFY_SIGNATURE"] = value
    config["ALEXA_VERIFY_TIMESTAMP"] = value
    health = create_app(config).test_client().get("/healthz").get_json()
    assert health["verify_signature"] and health["verify_timestamp"]


def test_environment_variables_apply_and_explicit_config_wins(config, monkeypatch):
    monkeypatch.setenv("ALEXA_VERIFY_TIMESTAMP", "false")
    monkeypatch.setenv("ALEXA_VERIFY_SIGNATURE", "false")
    config["ALEXA_VERIFY_SIGNATURE"] = "true"
    health = create_app(config).test_client().get("/healthz").get_json()
    assert health["verify_signature"] is True
    assert health["verify_timestamp"] is False


def test_trust_roots_can_be_a_path_from_the_environment(config, monkeypatch, tmp_path):
    bundle = tmp_path / "roots.pem"
    bundle.write_bytes(pki().root_pem)
    monkeypatch.setenv("ALEXA_TRUST_ROOTS", str(bundle))
    del config["ALEXA_TRUST_ROOTS"]
    assert post_signed(create_app(config).test_client(), fresh_launch()).status_code == 200


def test_a_fetcher_that_is_not_callable_is_a_configuration_error(config):
    config["ALEXA_CERT_FETCHER"] = "https://example.invalid/fetch"
    with pytest.raises(SettingsError, match="ALEXA_CERT_FETCHER"):
        create_app(config)


def test_importing_the_web_module_does_not_import_botocore():
    code = "import sys, skill.web, skill.web.serve; print('botocore' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


HEADER_NAMES = st.sampled_from(
    ["SignatureCertChainUrl", "Signature-256", "Signature", "Content-Type", "X-Anything"]
)
HEADER_VALUES = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=80),
    st.sampled_from(
        [CERT_URL, "application/json", "https://s3.amazonaws.com:443/echo.api/../echo.api/x"]
    ),
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
BODIES = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=200).map(str.encode),
    JSON_VALUES.map(lambda value: json.dumps(value).encode()),
)
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(body=BODIES, headers=st.dictionaries(HEADER_NAMES, HEADER_VALUES, max_size=5))
def test_fuzzed_bodies_and_headers_never_cause_a_500(client, body, headers):
    response = client.post("/", data=body, headers=headers)
    assert_json_error(response, 400)


@settings(FUZZ, max_examples=30)  # each example runs the real skill: keep it quick
@given(
    request=st.fixed_dictionaries(
        {"type": st.sampled_from(["LaunchRequest", "IntentRequest", "SessionEndedRequest"])},
        optional={
            "intent": st.fixed_dictionaries(
                {"name": st.text(max_size=30)},
                optional={"slots": st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=2)},
            ),
            "reason": st.text(max_size=12),
            "locale": st.sampled_from(["en-US", "de-DE", "", "xx"]),
        },
    ),
    extra=st.dictionaries(st.sampled_from(["session", "version"]), JSON_VALUES, max_size=1),
)
def test_signed_fuzzed_envelopes_never_cause_a_500(client, request, extra):
    envelope = {**fresh_launch(), **extra}
    envelope["request"] = {**envelope["request"], **request}
    response = post_signed(client, envelope)
    assert response.status_code in {200, 400}
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.fixture()
def restore_log_levels() -> Iterator[None]:
    """`serve` sets process-wide log levels; put them back for the tests that follow."""
    names = ["", *logs.LIBRARY_LOGGERS]
    saved = {name: logging.getLogger(name).level for name in names}
    yield
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


@pytest.mark.usefixtures("restore_log_levels")
class TestLogLevels:
    """LOG_LEVEL=DEBUG is for our code; libraries' debug logs carry user ids and tokens."""

    def test_debug_for_the_skill_leaves_libraries_at_warning(self):
        logs.configure(Settings(log_level="DEBUG"))
        assert logging.getLogger("skill.web").getEffectiveLevel() == logging.DEBUG
        for name in ("botocore.endpoint", "urllib3.connectionpool", "waitress", "werkzeug"):
            assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING, name

    def test_libraries_get_their_own_level_only_when_asked(self):
        logs.configure(Settings.from_mapping({"LOG_LEVEL": "warning",
                                              "LOG_LEVEL_LIBRARIES": "debug"}))
        assert logging.getLogger().level == logging.WARNING
        assert logging.getLogger("botocore.parsers").getEffectiveLevel() == logging.DEBUG

    @pytest.mark.parametrize("value", ["LOUD", "NOTSET", "10"])
    def test_an_unknown_level_name_is_an_error(self, value):
        with pytest.raises(SettingsError, match="LOG_LEVEL must be one of DEBUG, INFO"):
            Settings.from_mapping({"LOG_LEVEL": value})


class FakeServer:
    """Stands in for waitress' server: records that it was run instead of blocking."""

    def __init__(self, host: str, port: int) -> None:
        self.effective_host, self.effective_port = host.strip("[]"), port
        self.ran = False

    def run(self) -> None:
        self.ran = True


@pytest.mark.usefixtures("restore_log_levels")
class TestServe:
    """`serve` wires waitress with limits; `dev=True` must never expose an unverified endpoint."""

    DEFAULT_LIMITS: ClassVar[dict[str, Any]] = {
        "max_request_body_size": Settings().serve_max_body_bytes + 1,
        "channel_timeout": 10,
        "cleanup_interval": 5,
        "connection_limit": 500,
        "asyncore_use_poll": True,
    }

    @pytest.fixture()
    def waitress_calls(self, monkeypatch) -> list[tuple[Flask, dict[str, Any], FakeServer]]:
        calls: list[tuple[Flask, dict[str, Any], FakeServer]] = []

        def create_server(app: Flask, **kwargs: Any) -> FakeServer:
            calls.append((app, kwargs, FakeServer(kwargs["host"], kwargs["port"])))
            return calls[-1][2]

        monkeypatch.setattr(skill.web.serve.waitress, "create_server", create_server)
        return calls

    @pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "example.com", ""])
    def test_dev_mode_refuses_non_loopback_hosts(self, waitress_calls, host):
        with pytest.raises(SystemExit, match="loopback"):
            skill.web.serve.serve(host=host, dev=True)
        assert waitress_calls == []

    @pytest.mark.parametrize(
        ("host", "url"),
        [
            ("127.0.0.1", "http://127.0.0.1:8123/"),
            ("127.8.9.10", "http://127.8.9.10:8123/"),
            ("::1", "http://[::1]:8123/"),
            ("[::1]", "http://[::1]:8123/"),
        ],
    )
    def test_dev_mode_on_loopback_turns_verification_off_and_says_so(
        self, waitress_calls, config, host, url
    ):
        out = io.StringIO()
        skill.web.serve.serve(host=host, port=8123, dev=True, config=config, threads=2, out=out)
        [(app, kwargs, server)] = waitress_calls
        assert kwargs == {"host": host, "port": 8123, "threads": 2, **self.DEFAULT_LIMITS}
        assert server.ran
        health = app.test_client().get("/healthz").get_json()
        assert health["verify_signature"] is False and health["verify_timestamp"] is False
        assert out.getvalue() == (
            f"Foot Routine endpoint listening on {url} (signature check OFF, "
            "timestamp check OFF, skill id check on)\n"
        )

    def test_production_mode_keeps_verification_on_any_host(self, waitress_calls, config):
        del config["ALEXA_SKILL_ID"]
        out = io.StringIO()
        skill.web.serve.serve(host="0.0.0.0", config=config, out=out)
        [(app, kwargs, _)] = waitress_calls
        assert kwargs == {"host": "0.0.0.0", "port": 5000, "threads": 4, **self.DEFAULT_LIMITS}
        assert app.test_client().get("/healthz").get_json()["verify_signature"] is True
        assert out.getvalue().endswith(
            "(signature check on, timestamp check on, skill id check off (set ALEXA_SKILL_ID))\n"
        )

    def test_limits_come_from_config_or_environment(self, waitress_calls, config, monkeypatch):
        monkeypatch.setenv("SERVE_CHANNEL_TIMEOUT", "3")
        monkeypatch.setenv("SERVE_CONNECTION_LIMIT", "50")
        config["SERVE_MAX_BODY_BYTES"] = "65536"
        skill.web.serve.serve(config=config, out=io.StringIO())
        [(app, kwargs, _)] = waitress_calls
        assert (
            kwargs["max_request_body_size"], kwargs["channel_timeout"],
            kwargs["cleanup_interval"], kwargs["connection_limit"],
        ) == (65537, 3, 1, 50)
        assert app.config["MAX_CONTENT_LENGTH"] == 65536  # one limit, both layers

    @pytest.mark.parametrize(
        ("key", "value"),
        [
            ("SERVE_CHANNEL_TIMEOUT", "0"),
            ("SERVE_CONNECTION_LIMIT", "many"),
            ("SERVE_MAX_BODY_BYTES", "-1"),
            ("LOG_LEVEL", "LOUD"),
            ("ALEXA_TRUST_ROOTS", "/nonexistent/roots.pem"),
        ],
    )
    def test_a_bad_setting_ends_serve_with_one_line_naming_it(
        self, waitress_calls, config, key, value
    ):
        config[key] = value
        with pytest.raises(SystemExit) as stopped:
            skill.web.serve.serve(config=config, out=io.StringIO())
        message = str(stopped.value.code)
        assert message.startswith("foot-routine serve: ") and "\n" not in message
        assert (key if key != "ALEXA_TRUST_ROOTS" else value) in message
        assert waitress_calls == []


def test_concurrent_signed_requests_through_a_real_waitress_server(app, fetcher):
    """Waitress' WSGI environ (headers, body stream) works with the endpoint, under threads.

    The first request runs alone: concurrent first requests would share one fetch, and past
    the cap on fetching threads some would be refused (that cap is tested in test_verify).
    """
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    runner = threading.Thread(target=server.run, daemon=True)
    runner.start()
    try:
        url = f"http://127.0.0.1:{server.effective_port}/"
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # ignore *_proxy

        def post(_: int) -> int:
            body = body_of(fresh_launch())
            call = urllib.request.Request(url, data=body, headers=signed_headers(body))
            with direct.open(call, timeout=10) as response:
                return response.status

        assert post(0) == 200
        with ThreadPoolExecutor(max_workers=6) as pool:
            assert list(pool.map(post, range(12))) == [200] * 12
    finally:
        # Closed from the server's own loop thread (through its trigger): closed from here,
        # its sockets could vanish under a select() still running there.
        server.trigger.pull_trigger(server.close)
        runner.join(timeout=5)
        server.task_dispatcher.shutdown()
    assert not runner.is_alive()
    assert fetcher.calls == [CERT_URL]


@pytest.fixture(scope="module")
def dev_server() -> Iterator[ServeProcess]:
    """`foot-routine serve --dev` as a child process, as the README tells people to run it."""
    with tempfile.TemporaryDirectory(prefix="foot-routine-dev-") as workdir:
        running = start_serve(Path(workdir), ["--dev"], {})
        try:
            yield running
        finally:
            running.terminate()


def test_serve_dev_prints_one_ready_line_with_its_address_and_checks(dev_server):
    ready = [line for line in dev_server.log_text().splitlines() if "listening on" in line]
    expected = (
        f"Foot Routine endpoint listening on http://127.0.0.1:{dev_server.port}/ (signature "
        "check OFF, timestamp check OFF, skill id check off (set ALEXA_SKILL_ID))"
    )
    assert ready == [expected]


def test_the_readme_curl_gets_a_launch_request_answered(dev_server):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    [(url, data)] = re.findall(r"^curl -s (http://127\.0\.0\.1:5000/) .* -d '(\{.*\})'$",
                               readme, flags=re.MULTILINE)
    assert url == "http://127.0.0.1:5000/"  # `serve --dev`'s default address
    status, answer = dev_server.post(data.encode(), {"Content-Type": "application/json"})
    assert status == 200
    assert answer["response"]["outputSpeech"]["ssml"].startswith("<speak>")


def test_the_server_lets_a_thread_back_onto_the_gil_within_a_millisecond(monkeypatch, tmp_path):
    """The signature check and SQLite release the GIL; at CPython's default 5 ms switch
    interval, taking it back while the other worker runs Python cost ~0.3 ms of CPU a
    request (bench/endpoint.py). The interval is set as the server starts serving."""
    seen: list[float] = []

    class Server:
        effective_host, effective_port = "127.0.0.1", 5000

        def run(self) -> None:
            seen.append(sys.getswitchinterval())

    monkeypatch.setattr(skill.web.serve.waitress, "create_server", lambda *_a, **_k: Server())
    before = sys.getswitchinterval()
    try:
        skill.web.serve.serve(config={"FOOT_ROUTINE_DB": str(tmp_path / "db.sqlite3")},
                              dev=True, out=io.StringIO())
    finally:
        sys.setswitchinterval(before)
    assert seen == [pytest.approx(skill.web.serve.GIL_SWITCH_INTERVAL_S)]
    assert skill.web.serve.GIL_SWITCH_INTERVAL_S < 0.005
