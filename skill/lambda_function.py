"""AWS Lambda entry point (`skill.lambda_function.handler` in template.yaml).

The settings are read and the skill built at import, so warm invocations reuse both and a
bad setting fails the cold start with its name; building is cheap because the DynamoDB
client is only created on the first turn that reads or writes progress.

The garbage collector is paused while that happens: loading the modules and building the
skill make ~40,000 objects the collector tracks and free almost none, so the ~45
collections they would trigger (~10-15 ms of a cold start here, more at Lambda's CPU
share) find nothing to collect. What init made is then frozen (`gc.freeze`): it lives as
long as the process, so no later collection, in any warm turn, walks it again either.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

Answer = Callable[[Any, dict[str, Any], Any], dict[str, Any]]


def _initialise() -> tuple[Any, Answer]:
    """The skill as the settings describe it, and the function that answers an event."""
    gc.disable()
    try:
        from skill.alexa.app import answer_event, skill_from_settings
        from skill.ops import logs
        from skill.ops.telemetry import emit_emf_on_lambda
        from skill.settings import Settings

        settings = Settings.from_environment()
        logs.set_level(settings)
        skill = skill_from_settings(settings)
        emit_emf_on_lambda()
    finally:
        gc.enable()
    gc.freeze()
    return skill, answer_event


_skill, _answer_event = _initialise()


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer one Alexa request envelope with a response envelope, as plain JSON dicts."""
    return _answer_event(_skill, event, context)
