"""The self-hosted HTTPS endpoint: Flask in front of the ask-sdk-core skill.

Why not flask-ask-sdk: it cannot be imported here (its oscrypto dependency is broken), and its
verifier rests on unmaintained crypto. This module is the thin replacement: it reads the raw
body, has `skill.web.verify.RequestVerifier` apply Amazon's checks, and hands the envelope to the
skill through the SDK's own serializer. Every failure becomes a short JSON error, never a
traceback, so a probe learns nothing about the internals, and nothing of a request body is
ever logged (it holds user ids and API tokens): a rejection logs its size and reason only.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from typing import Any

from ask_sdk_core.exceptions import SerializationException
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_core.skill import CustomSkill
from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from skill.alexa.serializer import FastSerializer
from skill.ops.telemetry import log_turns_as_json_lines, observer
from skill.settings import Settings
from skill.web.verify import RequestVerifier, VerificationError

logger = logging.getLogger(__name__)

VERIFIER_EXTENSION = "foot_routine_verifier"
JSON_CONTENT_TYPE = "application/json;charset=UTF-8"


class BadRequest(Exception):
    """A request the endpoint refuses before it reaches the skill; carries the HTTP status."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class LazySkill:
    """Builds the skill (and its store) on first use, once, even under concurrent requests.

    Why lazy: building the store may open a database or a DynamoDB client (botocore); doing it
    at import or app-creation time would make `create_app` slow and fail before the server can
    report it.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._skill: CustomSkill | None = None
        self._lock = threading.Lock()

    def get(self) -> CustomSkill:
        with self._lock:
            if self._skill is None:
                from skill.alexa.app import skill_from_settings  # deferred: loads on first use

                self._skill = skill_from_settings(self._settings)
            return self._skill


def build_verifier(settings: Settings) -> RequestVerifier:
    """A verifier from the settings, warning loudly about every check that is off."""
    verifier = RequestVerifier(
        trust_roots=settings.alexa_trust_roots,
        fetcher=settings.alexa_cert_fetcher,
        skill_id=settings.alexa_skill_id,
        verify_signature=settings.alexa_verify_signature,
        verify_timestamp=settings.alexa_verify_timestamp,
    )
    if not verifier.verifies_signature:
        logger.warning(
            "ALEXA_VERIFY_SIGNATURE IS OFF: anyone can call this endpoint as if they were "
            "Alexa. Use this only on a loopback address for local testing."
        )
    if not verifier.verifies_timestamp:
        logger.warning("ALEXA_VERIFY_TIMESTAMP IS OFF: replayed Alexa requests are accepted.")
    if not verifier.checks_skill_id:
        logger.info("ALEXA_SKILL_ID is not set: requests for any skill id are accepted.")
    return verifier


def checks_in_force(verifier: RequestVerifier) -> dict[str, bool]:
    """Which of Amazon's checks this endpoint applies, as /healthz and `serve` report them."""
    return {
        "verify_signature": verifier.verifies_signature,
        "verify_timestamp": verifier.verifies_timestamp,
        "skill_id_check": verifier.checks_skill_id,
    }


def json_response(body: Mapping[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type=JSON_CONTENT_TYPE)


def parse_envelope(raw_body: bytes) -> dict[str, Any]:
    """The request's JSON object (the caller keeps the raw bytes: signatures cover them)."""
    if request.mimetype != "application/json":
        raise BadRequest("content type must be application/json")
    try:
        parsed = json.loads(raw_body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BadRequest("body is not valid UTF-8 JSON") from exc
    if not isinstance(parsed, dict):
        raise BadRequest("body is not a JSON object")
    return parsed


def to_request_envelope(serializer: DefaultSerializer, raw_body: bytes) -> Any:
    """The SDK's RequestEnvelope, refusing shapes the SDK would crash on before dispatch."""
    try:
        envelope = serializer.deserialize(raw_body.decode("utf-8"), "ask_sdk_model.RequestEnvelope")
    except SerializationException as exc:
        raise BadRequest("body is not an Alexa request envelope") from exc
    if envelope.request is None or envelope.context is None or envelope.context.system is None:
        raise BadRequest("request envelope lacks request or context.System")
    return envelope


def create_app(config: Mapping[str, Any] | Settings | None = None) -> Flask:
    """The endpoint app: `POST /` for Alexa, `GET /healthz` for load balancers and monitors.

    `config` is either settings already read (as `serve` passes them) or a dict of variables
    by name, each winning over the environment variable of the same name.
    """
    settings = config if isinstance(config, Settings) else Settings.from_environment(config)
    log_turns_as_json_lines()  # the same turn line Lambda logs, as JSON on stderr
    verifier = build_verifier(settings)
    skill = LazySkill(settings)
    serializer = FastSerializer()

    app = Flask(__name__)
    app.extensions[VERIFIER_EXTENSION] = verifier  # so `serve` can say which checks are on
    body_limit = settings.serve_max_body_bytes
    app.config["MAX_CONTENT_LENGTH"] = body_limit

    @app.post("/")
    def alexa() -> Response:
        raw_body = request.get_data(cache=False)  # over MAX_CONTENT_LENGTH: werkzeug raises 413
        try:
            parsed = parse_envelope(raw_body)
            verifier.verify(request.headers, raw_body, parsed)
            envelope = to_request_envelope(serializer, raw_body)
        except VerificationError as exc:
            return _reject(exc.reason, 400, exc, len(raw_body))
        except BadRequest as exc:
            return _reject(exc.reason, exc.status, exc, len(raw_body))
        return invoke(skill, serializer, envelope)

    def too_large(exc: HTTPException) -> Response:
        logger.warning("rejected Alexa request: body larger than %d bytes", body_limit)
        return _http_error(exc)

    @app.get("/healthz")
    def healthz() -> Response:
        return json_response({"status": "ok", **checks_in_force(verifier)})

    app.register_error_handler(413, too_large)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    return app


def invoke(skill: LazySkill, serializer: DefaultSerializer, envelope: Any) -> Response:
    """Run the skill; if it raises anyway (it has a catch-all), log it and answer a bare 500."""
    try:
        response = observer.invoke(skill.get(), envelope)
        body = serializer.serialize(response)
    except Exception:
        logger.exception("skill failed on request %s", envelope.request.request_id)
        return json_response({"error": "internal error"}, 500)
    return json_response(body)


def _reject(reason: str, status: int, exc: Exception, size: int) -> Response:
    """One log line: the failed check, the body's size and the cause's type, one JSON error.

    Only the type of the cause: its text can quote the body (a UnicodeDecodeError carries
    every byte of it), and bodies hold user ids and API tokens.
    """
    cause = f" ({type(exc.__cause__).__name__})" if exc.__cause__ is not None else ""
    logger.warning("rejected Alexa request of %d bytes: %s%s", size, reason, cause)
    return json_response({"error": reason}, status)


def _http_error(exc: HTTPException) -> Response:
    """Werkzeug's errors (404, 405, 413, ...) as JSON instead of HTML pages."""
    return json_response({"error": (exc.name or "error").lower()}, exc.code or 500)


def _unexpected_error(exc: Exception) -> Response:
    """Last resort: never let Flask render a traceback."""
    logger.error("unexpected error in the web endpoint", exc_info=exc)
    return json_response({"error": "internal error"}, 500)
