"""The skill, assembled: the same object answers Lambda events and the web endpoint."""

from __future__ import annotations

import os
from collections.abc import Mapping

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
from skill.serializer import FastSerializer
from skill.telemetry import ObservedApiClient, ObservedErrors, ObservedStore


def build_skill(
    store: AbstractPersistenceAdapter, clock: Clock = utc_now, api_client: ApiClient | None = None
) -> CustomSkill:
    """A ready skill on the given store.

    `clock` is injectable so tests control dates. `api_client` reaches Alexa's APIs (the
    device's time zone, reminders); without one, dates are UTC and reminders unavailable.
    """
    # Telemetry's wrappers time every store and API call into the turn's log line and metrics.
    builder = CustomSkillBuilder(
        persistence_adapter=ObservedStore(store),
        api_client=ObservedApiClient(api_client) if api_client is not None else None,
    )
    for handler in request_handlers(Responder(clock, look_up_time_zone=api_client is not None)):
        builder.add_request_handler(handler)
    builder.add_global_request_interceptor(LoadProgress())
    builder.add_global_response_interceptor(SaveProgress())
    builder.add_exception_handler(ObservedErrors(PoliteErrorHandler()))
    skill = builder.create()
    skill.serializer = FastSerializer()
    return skill


def skill_from_config(config: Mapping[str, str] | None = None) -> CustomSkill:
    """The skill as Lambda and the web endpoint run it, configured from the environment.

    `ALEXA_API_CALLS=0` keeps it off Alexa's APIs (time zone, reminders), for clients such
    as the local console whose requests carry no real API token.
    """
    from skill.api_client import TimedApiClient
    from skill.config import make_store

    config = os.environ if config is None else config
    calls_allowed = config.get("ALEXA_API_CALLS", "1").strip().lower() not in ("0", "false")
    return build_skill(make_store(config), api_client=TimedApiClient() if calls_allowed else None)
