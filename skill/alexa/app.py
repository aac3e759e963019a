"""The skill, assembled: the same object answers Lambda events and the web endpoint."""

from __future__ import annotations

from typing import Any

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.skill import CustomSkill
from ask_sdk_core.skill_builder import CustomSkillBuilder
from ask_sdk_model import RequestEnvelope, ResponseEnvelope
from ask_sdk_model.services import ApiClient

from skill.alexa.handlers import (
    Clock,
    KeepResponseUnderLimit,
    PoliteErrorHandler,
    Responder,
    request_handlers,
    utc_now,
)
from skill.alexa.serializer import FastSerializer
from skill.ops import budget
from skill.ops.telemetry import ObservedApiClient, ObservedErrors, ObservedStore, observer
from skill.settings import Settings
from skill.storage.session import LoadProgress, SaveProgress
from skill.storage.store import ProgressStore


class BudgetedSkill(CustomSkill):
    """A CustomSkill whose every turn runs inside one time budget for its outside calls.

    `invoke` is the one place both Lambda and the web endpoint pass through, so the budget
    starts as the request arrives and ends with the answer (skill/ops/budget.py).
    """

    def __init__(self, skill_configuration: Any, turn_budget_seconds: float) -> None:
        super().__init__(skill_configuration=skill_configuration)
        self.turn_budget_seconds = turn_budget_seconds

    def invoke(self, request_envelope: RequestEnvelope, context: Any) -> ResponseEnvelope:
        with budget.turn(self.turn_budget_seconds):
            return super().invoke(request_envelope=request_envelope, context=context)


def build_skill(
    store: AbstractPersistenceAdapter, clock: Clock = utc_now, api_client: ApiClient | None = None,
    turn_budget_seconds: float = budget.TURN_BUDGET_SECONDS,
) -> CustomSkill:
    """A ready skill on the given store.

    `clock` is injectable so tests control dates. `api_client` reaches Alexa's APIs (the
    device's time zone, reminders); without one, dates are UTC and reminders unavailable.
    `turn_budget_seconds` bounds all outside calls of one turn together.
    """
    # Telemetry's wrappers time every store and API call into the turn's log line and metrics.
    builder = CustomSkillBuilder(
        persistence_adapter=ObservedStore(store),
        api_client=ObservedApiClient(api_client) if api_client is not None else None,
    )
    # The store itself also serves the one progress move a coach can plan (Plan.claim).
    movable = store if isinstance(store, ProgressStore) else None
    responder = Responder(clock, look_up_time_zone=api_client is not None, store=movable)
    for handler in request_handlers(responder):
        builder.add_request_handler(handler)
    builder.add_global_request_interceptor(LoadProgress())
    builder.add_global_response_interceptor(SaveProgress())
    # Last, once the session attributes that travel with the response are final.
    builder.add_global_response_interceptor(KeepResponseUnderLimit())
    builder.add_exception_handler(ObservedErrors(PoliteErrorHandler()))
    skill = BudgetedSkill(builder.skill_configuration, turn_budget_seconds)
    skill.serializer = FastSerializer()
    return skill


def skill_from_settings(settings: Settings) -> CustomSkill:
    """The skill as Lambda, the web endpoint and the console run it.

    `alexa_api_calls=False` keeps it off Alexa's APIs (time zone, reminders): no API client
    is built at all, for clients such as the local console whose requests carry no real
    API token.
    """
    from skill.alexa.api_client import TimedApiClient
    from skill.storage.config import make_store

    return build_skill(make_store(settings),
                       api_client=TimedApiClient() if settings.alexa_api_calls else None,
                       turn_budget_seconds=settings.turn_budget_seconds)


def answer_event(skill: CustomSkill, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """One Alexa request envelope answered, as plain JSON dicts: Lambda's path, which the
    console takes too so that what a developer tries is what Alexa gets."""
    envelope = skill.serializer.deserialize_parsed(event, RequestEnvelope)
    response = observer.invoke(skill, envelope, context)
    return skill.serializer.serialize(response)
