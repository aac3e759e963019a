"""AWS Lambda entry point (`skill.lambda_function.handler` in template.yaml).

The skill is built at import so warm invocations reuse it; building it is cheap because
the DynamoDB client is only created on the first turn that reads or writes progress.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from ask_sdk_model import RequestEnvelope

from skill.api_client import TimedApiClient
from skill.app import build_skill
from skill.config import make_store

logging.getLogger().setLevel(os.environ.get("LOG_LEVEL", "INFO").upper())

# ALEXA_API_CALLS=0 keeps the skill off Alexa's APIs (the local console has no real token).
_api_client = None if os.environ.get("ALEXA_API_CALLS", "1").lower() in ("0", "false") else (
    TimedApiClient()
)
_skill = build_skill(make_store(), api_client=_api_client)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer one Alexa request envelope with a response envelope, as plain JSON dicts."""
    envelope = _skill.serializer.deserialize(json.dumps(event), RequestEnvelope)
    response = _skill.invoke(request_envelope=envelope, context=context)
    return _skill.serializer.serialize(response)
