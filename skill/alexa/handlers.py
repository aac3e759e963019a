"""Thin ASK SDK edges: Alexa requests in as coach Events, coach Replies out as responses.

No conversational rule lives here (see skill/conversation/) and no progress I/O (see
skill/storage/session.py); this module only maps requests to events, performs the outside
calls a coach plans, turns replies into responses, and makes sure every failure still gets
a polite spoken answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ask_sdk_core.dispatch_components import (
    AbstractExceptionHandler,
    AbstractRequestHandler,
    AbstractResponseInterceptor,
)
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import RESPONSE_FORMAT_VERSION, get_request_type
from ask_sdk_model import Response, ResponseEnvelope
from ask_sdk_model.canfulfill import (
    CanFulfillIntent,
    CanFulfillIntentValues,
    CanFulfillSlot,
    CanFulfillSlotValues,
    CanUnderstandSlotValues,
)
from ask_sdk_model.ui import AskForPermissionsConsentCard
from ask_sdk_runtime.utils import UserAgentManager

from skill.alexa import reminders, screens
from skill.alexa.reminders import REMINDERS_PERMISSION, parse_time_slot
from skill.alexa.serializer import FastSerializer, serialized_as
from skill.content.routine import load_routine
from skill.content.texts import load_texts
from skill.conversation.coach import can_fulfill, coach_for
from skill.conversation.frozen import replace
from skill.conversation.progress import Progress
from skill.conversation.speech import (
    MAX_RESPONSE_BYTES,
    Say,
    SpeechLimitError,
    response_size,
    to_ssml,
)
from skill.conversation.timeline import Played, Timeline, as_speech, to_apla
from skill.conversation.values import Event, EventKind
from skill.ops import budget
from skill.storage.session import ProgressSession
from skill.storage.store import ProgressStore, StoreError, person_id_of, user_id_of, user_ref

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

INTENT_EVENTS: dict[str, EventKind] = {
    "StartRoutineIntent": EventKind.START,
    "NextExerciseIntent": EventKind.NEXT,
    "SkipExerciseIntent": EventKind.SKIP,
    "GoToExerciseIntent": EventKind.GO_TO,
    "PainIntent": EventKind.PAIN,
    "ProgressIntent": EventKind.PROGRESS,
    "ListExercisesIntent": EventKind.LIST,
    "DisclaimerIntent": EventKind.DISCLAIMER,
    "StreakIntent": EventKind.STREAK,
    "AMAZON.NextIntent": EventKind.NEXT,
    "AMAZON.RepeatIntent": EventKind.REPEAT,
    "AMAZON.PreviousIntent": EventKind.PREVIOUS,
    "AMAZON.PauseIntent": EventKind.PAUSE,
    "AMAZON.ResumeIntent": EventKind.RESUME,
    "AMAZON.StartOverIntent": EventKind.START_OVER,
    "AMAZON.YesIntent": EventKind.YES,
    "AMAZON.NoIntent": EventKind.NO,
    "AMAZON.HelpIntent": EventKind.HELP,
    "AMAZON.StopIntent": EventKind.STOP,
    "AMAZON.CancelIntent": EventKind.STOP,
    "AMAZON.NavigateHomeIntent": EventKind.STOP,
    "AMAZON.FallbackIntent": EventKind.UNKNOWN,
    "SetReminderIntent": EventKind.SET_REMINDER,
    "CancelReminderIntent": EventKind.CANCEL_REMINDER,
    "ReminderStatusIntent": EventKind.REMINDER_STATUS,
    # How people talk mid-exercise: the coach tells "I'm done" mid-set from "I'm done" at
    # a question, and a cramp from pain (skill/conversation/safety.py).
    "SetDoneIntent": EventKind.SET_DONE,
    "CrampIntent": EventKind.CRAMP,
    "DizzyIntent": EventKind.DIZZY,
    "TiredIntent": EventKind.TIRED,
    "FeelFineIntent": EventKind.FEEL_FINE,
    "TimeLeftIntent": EventKind.TIME_LEFT,
    "SideQuestionIntent": EventKind.WHICH_SIDE,
    "EquipmentQuestionIntent": EventKind.EQUIPMENT,
    "PurposeIntent": EventKind.PURPOSE,
    "NoEquipmentIntent": EventKind.NO_EQUIPMENT,
    "SeatedIntent": EventKind.SEATED,
    "SlowerIntent": EventKind.SLOWER,
    "FasterIntent": EventKind.FASTER,
    # A household's own: each person's level, a short routine, the week's summary.
    "EasierIntent": EventKind.EASIER,
    "HarderIntent": EventKind.HARDER,
    "LevelIntent": EventKind.LEVEL,
    "ShortRoutineIntent": EventKind.SHORT_ROUTINE,
    "WeekSummaryIntent": EventKind.WEEK,
}

# Buttons on the screen do what the same words would.
BUTTON_EVENTS = {"next": EventKind.NEXT, "repeat": EventKind.REPEAT}

# The last response's timeline (skill.conversation.timeline.Played), while its session lasts.
_PLAYED = "played"


def utc_now() -> datetime:
    return datetime.now(UTC)


def _alexa_now(handler_input: HandlerInput, clock: Clock) -> datetime:
    """"Now" is the request's timestamp, set by Alexa: one clock for the whole conversation
    (dates, streaks, staleness, where a barge-in landed), whatever the skill's own clock
    says. `clock` only answers for a request without one."""
    stamp = getattr(handler_input.request_envelope.request, "timestamp", None)
    return stamp if isinstance(stamp, datetime) and stamp.tzinfo is not None else clock()


def _locale(handler_input: HandlerInput) -> str:
    return getattr(handler_input.request_envelope.request, "locale", None) or "en-US"


def _user(handler_input: HandlerInput) -> str:
    return user_ref(user_id_of(handler_input.request_envelope))


def _look_up_time_zone(handler_input: HandlerInput) -> str:
    """The device's time zone from Alexa's settings API, so "today" in a streak or a
    reminder is the user's today. Asked once per user (it is stored with the progress);
    any failure means "" (UTC for now, asked again next session)."""
    system = handler_input.request_envelope.context.system
    if not system.api_access_token:
        return ""
    try:
        ups = handler_input.service_client_factory.get_ups_service()
        return ups.get_system_time_zone(system.device.device_id) or ""
    except Exception as error:  # noqa: BLE001 - any API trouble means UTC, not a failed turn
        log.info("time zone lookup failed: %s", type(error).__name__)
        return ""


_SERIALIZER = FastSerializer()
# Parts of a response the user can do without, dropped first to last when it is too big.
_SCREEN_PREFIX = "Alexa.Presentation.APL."  # visual APL only (audio APLA is "...APLA.")


def _directive_type(directive: Any) -> str:
    """A model object's type, or a plain dict's (directives built as JSON, like APLA's)."""
    if isinstance(directive, dict):
        return str(directive.get("type", ""))
    return getattr(directive, "object_type", None) or ""


def _drop_screen(response: Response) -> bool:
    kept = [d for d in response.directives or []
            if not _directive_type(d).startswith(_SCREEN_PREFIX)]
    dropped = len(kept) != len(response.directives or [])
    response.directives = kept or None
    return dropped


def _drop_card(response: Response) -> bool:
    dropped, response.card = response.card is not None, None
    return dropped


class KeepResponseUnderLimit(AbstractResponseInterceptor):
    """Alexa rejects a response over 24 KB, and the user then hears a generic error: before
    that, the screen and then the card are dropped (each drop logged), since the speech is
    the answer. A response still too big raises, and the polite error handler answers."""

    def process(self, handler_input: HandlerInput, response: Response) -> None:
        if response is None:
            return
        envelope = handler_input.request_envelope
        session = handler_input.attributes_manager.session_attributes if envelope.session else None

        def size() -> int:
            # The envelope as CustomSkill.invoke then builds it, serialised once: the answer
            # reuses this form (the skill's serializer is a FastSerializer too), so the size
            # is that of the bytes sent and the response is walked once a turn.
            return response_size(_SERIALIZER.measured(ResponseEnvelope(
                response=response, version=RESPONSE_FORMAT_VERSION, session_attributes=session,
                user_agent=UserAgentManager.get_user_agent())))

        measured = size()
        for part, drop in (("screen", _drop_screen), ("card", _drop_card)):
            if measured <= MAX_RESPONSE_BYTES:
                return
            if drop(response):
                log.warning("response of %d bytes is over Alexa's %d: sent without its %s",
                            measured, MAX_RESPONSE_BYTES, part)
                measured = size()
        if measured > MAX_RESPONSE_BYTES:
            raise SpeechLimitError(f"response is {measured} bytes without screen and card")


def _apla_directive(timeline: Timeline) -> Any:
    """The SDK's model of the directive (the response builder reads its type), sent as the
    JSON built once for this timeline."""
    # Imported here, as screens.py does for APL: only a set's turn needs the model class.
    from ask_sdk_model.interfaces.alexa.presentation.apla import RenderDocumentDirective

    sent = to_apla(timeline, "rounds")
    return serialized_as(RenderDocumentDirective(token=sent["token"], document=sent["document"],
                                                 datasources=sent["datasources"]), sent)


class Responder:
    """Runs one event through the coach and turns its reply into an Alexa response."""

    def __init__(self, clock: Clock, look_up_time_zone: bool = False,
                 store: ProgressStore | None = None) -> None:
        self.clock = clock
        self.look_up_time_zone = look_up_time_zone
        # For the one outside call on progress a coach can plan: moving an account's
        # progress to a recognised voice (Plan.claim).
        self.store = store

    def respond(self, handler_input: HandlerInput, event: Event) -> Response:
        stored = ProgressSession(handler_input)
        session = handler_input.request_envelope.session
        now = _alexa_now(handler_input, self.clock)
        attributes = stored.session
        played = Played.from_session(attributes.pop(_PLAYED, None))
        event = replace(event, opens_session=bool(session and session.new),
                        progress_unavailable=stored.unavailable,
                        person=person_id_of(handler_input.request_envelope),
                        reached=played.reached(now) if played is not None else None)
        progress = stored.current()
        # The time zone is optional: once a call of this turn has timed out (or the budget is
        # short) it is not asked, and is still due next session. Reminder calls are refused
        # the same way by the API client, after the permission check that needs no call.
        coach = coach_for(_locale(handler_input))
        plan = coach.plan(progress, event, now.date())
        if (plan.time_zone and self.look_up_time_zone
                and budget.current().allows_optional_calls()):
            event = replace(event, time_zone=_look_up_time_zone(handler_input))
        progress, now = coach.local(progress, event, now)
        if plan.claim:
            progress, claimed = self._claim(stored, progress)
            event = replace(event, claimed=claimed)
        job = plan.reminder
        if job is not None:
            text = coach.texts.line("reminder_text")
            result = reminders.perform(job, handler_input, now, coach.texts.locale, text)
            event = replace(event, reminder=result)
        progress, reply = coach.handle(progress, event, now)
        stored.hand_over(progress)
        builder = handler_input.response_builder
        if reply.needs_permission:
            builder.set_card(AskForPermissionsConsentCard(permissions=[REMINDERS_PERMISSION]))
        elif reply.card:
            builder.set_card(screens.simple_card(reply.card))
        if reply.screen and screens.supports_apl(handler_input.request_envelope):
            builder.add_directive(screens.render_directive(reply.screen))
        speech = as_speech(reply.speech)
        if speech is None:
            # A set's rounds: ticks, chimes and marks need APL for Audio (see timeline.py),
            # and the session keeps where each round starts for the next request.
            builder.add_directive(_apla_directive(reply.speech))
            sent = Played.of(reply.speech, now)
            if sent is not None and not reply.end_session:
                attributes[_PLAYED] = sent.session()
        elif speech:
            builder.speak(to_ssml(speech))
        if reply.end_session:
            builder.set_should_end_session(True)
        else:
            builder.ask(to_ssml(reply.reprompt))
        return builder.response


    def _claim(self, stored: ProgressSession, progress: Progress) -> tuple[Progress, bool]:
        """The account's progress moved to this recognised voice's item (written by the
        store as it moves it, so the session's record of what is saved follows)."""
        if self.store is None:
            return progress, False
        envelope = stored.handler_input.request_envelope
        try:
            written = self.store.take_account_progress(envelope, progress.stored())
        except StoreError as error:
            log.warning("moving the account's progress for %s failed: %s",
                        _user(stored.handler_input), error)
            return progress, False
        return stored.written(progress, written), True


class RequestTypeHandler(AbstractRequestHandler):
    """One handler per request kind: `request_type` says which."""

    request_type: str

    def __init__(self, responder: Responder) -> None:
        self.responder = responder

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return get_request_type(handler_input) == self.request_type

    def respond(self, handler_input: HandlerInput, event: Event) -> Response:
        return self.responder.respond(handler_input, event)


class LaunchHandler(RequestTypeHandler):
    request_type = "LaunchRequest"

    def handle(self, handler_input: HandlerInput) -> Response:
        return self.respond(handler_input, Event(EventKind.LAUNCH))


def _exercise_event(handler_input: HandlerInput) -> Event:
    """The spoken exercise name, resolved by Alexa's entity resolution or by our synonyms."""
    slot = _slot(handler_input, "exercise")
    spoken = getattr(slot, "value", None)
    exercise = _value_id(slot)
    if exercise is None and spoken:
        index = load_routine().find(spoken)
        exercise = load_routine().exercises[index].id if index is not None else None
    return Event(EventKind.GO_TO, exercise=exercise, spoken=spoken)


def _item_event(handler_input: HandlerInput) -> Event:
    """The thing someone lacks, by Alexa's entity resolution or by its id or noun; none
    ("I don't have one") lets the coach take the current exercise's."""
    slot = _slot(handler_input, "item")
    item = _value_id(slot)
    spoken = (getattr(slot, "value", None) or "").lower()
    if item is None and spoken:
        item = next((thing.id for thing in load_routine().items()
                     if spoken in (thing.id, thing.noun, thing.name)), None)
    return Event(EventKind.NO_EQUIPMENT, item=item)


def _slot(handler_input: HandlerInput, name: str) -> Any:
    """A slot of an IntentRequest or a CanFulfillIntentRequest, or None."""
    intent = getattr(handler_input.request_envelope.request, "intent", None)
    return (getattr(intent, "slots", None) or {}).get(name)


def _event_for(handler_input: HandlerInput) -> Event:
    intent = getattr(handler_input.request_envelope.request, "intent", None)
    kind = INTENT_EVENTS.get(getattr(intent, "name", None), EventKind.UNKNOWN)
    if kind is EventKind.GO_TO:
        return _exercise_event(handler_input)
    if kind is EventKind.SET_REMINDER:
        return Event(kind, time=parse_time_slot(getattr(_slot(handler_input, "time"), "value", None)))
    if kind is EventKind.NO_EQUIPMENT:
        return _item_event(handler_input)
    return Event(kind)


def _value_id(slot: Any) -> str | None:
    """The id Alexa's entity resolution matched ("band" for "resistance band"), or None."""
    resolutions = getattr(slot, "resolutions", None)
    for authority in getattr(resolutions, "resolutions_per_authority", None) or []:
        if authority.status.code.value == "ER_SUCCESS_MATCH" and authority.values:
            return str(authority.values[0].value.id)
    return None


class IntentHandler(RequestTypeHandler):
    """Every intent of the model; unknown intent names count as not understood."""

    request_type = "IntentRequest"

    def handle(self, handler_input: HandlerInput) -> Response:
        return self.respond(handler_input, _event_for(handler_input))


class ScreenButtonHandler(RequestTypeHandler):
    """A touch on the exercise screen's Next or Repeat button."""

    request_type = "Alexa.Presentation.APL.UserEvent"

    def handle(self, handler_input: HandlerInput) -> Response:
        arguments = getattr(handler_input.request_envelope.request, "arguments", None) or [None]
        kind = BUTTON_EVENTS.get(arguments[0], EventKind.UNKNOWN)
        return self.respond(handler_input, Event(kind))


class CanFulfillHandler(RequestTypeHandler):
    """Alexa asks, without our name being said, whether we can serve an intent.

    Answered from the intent and slot alone: no progress is read or written.
    """

    request_type = "CanFulfillIntentRequest"

    def handle(self, handler_input: HandlerInput) -> Response:
        event = _event_for(handler_input)
        answer = CanFulfillIntentValues(can_fulfill(event).value)
        slots = {}
        if event.kind is EventKind.GO_TO and event.spoken:
            known = event.exercise is not None
            slots["exercise"] = CanFulfillSlot(
                can_understand=CanUnderstandSlotValues.YES if known else CanUnderstandSlotValues.NO,
                can_fulfill=CanFulfillSlotValues.YES if known else CanFulfillSlotValues.NO,
            )
        handler_input.response_builder.set_can_fulfill_intent(
            CanFulfillIntent(can_fulfill=answer, slots=slots or None)
        )
        return handler_input.response_builder.response


class SessionEndedHandler(RequestTypeHandler):
    """The user went quiet, left, or Alexa hit an error: keep their place, say nothing."""

    request_type = "SessionEndedRequest"

    def handle(self, handler_input: HandlerInput) -> Response:
        error = getattr(handler_input.request_envelope.request, "error", None)
        if error is not None:
            log.warning("session ended with error %s", getattr(error, "object_type", error))
        return self.respond(handler_input, Event(EventKind.SESSION_ENDED))


class SkillDisabledHandler(RequestTypeHandler):
    """The user disabled the skill: forget everything we stored about them."""

    request_type = "AlexaSkillEvent.SkillDisabled"

    def handle(self, handler_input: HandlerInput) -> Response:
        try:
            handler_input.attributes_manager.delete_persistent_attributes()
        except StoreError as error:
            # Raised on, not answered: a failed event is retried by Alexa, a swallowed one
            # would leave the data until its TTL.
            log.error("deleting progress for %s failed, event failed for a retry: %s",
                      _user(handler_input), error)
            raise
        log.info("deleted progress for %s after SkillDisabled", _user(handler_input))
        return handler_input.response_builder.response


class PoliteErrorHandler(AbstractExceptionHandler):
    """Whatever failed, the user hears a calm sentence and keeps their place."""

    def can_handle(self, handler_input: HandlerInput, exception: Exception) -> bool:
        # Nobody hears a skill event; a failed deletion must fail the event so Alexa retries.
        return get_request_type(handler_input) != SkillDisabledHandler.request_type

    def handle(self, handler_input: HandlerInput, exception: Exception) -> Response:
        # The exception text may quote request data; log its type and where it happened.
        log.error("turn failed: %s", type(exception).__name__, exc_info=exception)
        builder = handler_input.response_builder
        if get_request_type(handler_input) in ("LaunchRequest", "IntentRequest"):
            line = to_ssml((Say(load_texts(_locale(handler_input)).line("error")),))
            builder.speak(line).ask(line)
        return builder.response


def request_handlers(responder: Responder) -> list[AbstractRequestHandler]:
    return [
        LaunchHandler(responder),
        IntentHandler(responder),
        ScreenButtonHandler(responder),
        CanFulfillHandler(responder),
        SessionEndedHandler(responder),
        SkillDisabledHandler(responder),
    ]
