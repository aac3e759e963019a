"""The skill, assembled: the same object answers Lambda events and the web endpoint."""

from __future__ import annotations

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.skill import CustomSkill
from ask_sdk_core.skill_builder import CustomSkillBuilder
from ask_sdk_model.services import ApiClient

from skill.handlers import (
    Clock,
    LoadProgress,
    PoliteErrorHandler,
    Responder,
    SaveProgress,
    request_handlers,
    utc_now,
)


def build_skill(
    store: AbstractPersistenceAdapter, clock: Clock = utc_now, api_client: ApiClient | None = None
) -> CustomSkill:
    """A ready skill on the given store.

    `clock` is injectable so tests control dates. `api_client` reaches Alexa's APIs (the
    device's time zone, reminders); without one, dates are UTC and reminders unavailable.
    """
    builder = CustomSkillBuilder(persistence_adapter=store, api_client=api_client)
    for handler in request_handlers(Responder(clock, look_up_time_zone=api_client is not None)):
        builder.add_request_handler(handler)
    builder.add_global_request_interceptor(LoadProgress())
    builder.add_global_response_interceptor(SaveProgress())
    builder.add_exception_handler(PoliteErrorHandler())
    return builder.create()
