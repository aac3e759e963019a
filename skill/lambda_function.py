"""AWS Lambda entry point (`skill.lambda_function.handler` in template.yaml).

The settings are read and the skill built at import, so warm invocations reuse both and a
bad setting fails the cold start with its name; building is cheap because the DynamoDB
client is only created on the first turn that reads or writes progress.
"""

from __future__ import annotations

from typing import Any

from skill.alexa.app import answer_event, skill_from_settings
from skill.ops import logs
from skill.ops.telemetry import emit_emf_on_lambda
from skill.settings import Settings

_settings = Settings.from_environment()
logs.set_level(_settings)
_skill = skill_from_settings(_settings)
emit_emf_on_lambda()


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer one Alexa request envelope with a response envelope, as plain JSON dicts."""
    return answer_event(_skill, event, context)
