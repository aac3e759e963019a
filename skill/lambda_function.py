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

from skill.app import skill_from_config
from skill.telemetry import emit_emf_on_lambda, observer

logging.getLogger().setLevel(os.environ.get("LOG_LEVEL", "INFO").upper())

_skill = skill_from_config()
emit_emf_on_lambda()


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer one Alexa request envelope with a response envelope, as plain JSON dicts."""
    envelope = _skill.serializer.deserialize(json.dumps(event), RequestEnvelope)
    response = observer.invoke(_skill, envelope, context)
    return _skill.serializer.serialize(response)
