"""One owner for a turn's progress I/O: load it, hand the coach's new version over, save it.

Progress travels in the session attributes Alexa carries between turns and is written to the
store only when something that matters across sessions changed, so most turns cost no write.
Everything about that rule (the session keys, the fingerprints of what was last saved, the
merge of what the store wrote back) lives here; the edge only asks for the turn's progress
and hands the new one over.
"""

from __future__ import annotations

import logging

from ask_sdk_core.dispatch_components import (
    AbstractRequestInterceptor,
    AbstractResponseInterceptor,
)
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import get_request_type
from ask_sdk_model import Response

from skill.conversation.frozen import replace
from skill.conversation.progress import Progress, progress_from_dict
from skill.storage.store import SESSION_STARTED, StoreError, session_started, user_id_of, user_ref

log = logging.getLogger(__name__)

# Request kinds that read or change progress; skill events and the like do not.
CONVERSATION_REQUESTS = frozenset(
    {"LaunchRequest", "IntentRequest", "SessionEndedRequest", "Alexa.Presentation.APL.UserEvent"}
)
# The session attribute holding the user's progress (telemetry reads it to see the phase).
PROGRESS_KEY = "progress"
# The fingerprints of what the store last held for this session (Progress.fingerprints).
_SAVED = "saved"
# Request attributes: this turn's progress, the coach's new version, a failed read.
_LOADED = "progress"
_NEW = "new_progress"
_UNAVAILABLE = "progress_unavailable"


def _user(handler_input: HandlerInput) -> str:
    return user_ref(user_id_of(handler_input.request_envelope))


def needs_write(progress: Progress, saved: list[str] | None, ending: bool) -> bool:
    """Write when something that matters across sessions changed (a new exercise, a
    finished routine, a reminder); the step within an exercise, a routine's start and the
    disclaimer heard wait for the session's end (Progress.fingerprints says why).

    Every way a session ends passes through here: either our reply ends it, or Alexa sends
    SessionEndedRequest (timeout, "exit", an error), so the exact step is never lost.
    """
    if not isinstance(saved, list) or len(saved) != 2:
        return True
    # The full fingerprint is computed only when the session ends and the coarse one held.
    return progress.coarse_fingerprint != saved[0] or (
        ending and progress.full_fingerprint != saved[1])


class ProgressSession:
    """A turn's view of the user's progress, over the ASK attributes manager."""

    def __init__(self, handler_input: HandlerInput) -> None:
        self.handler_input = handler_input
        self.manager = handler_input.attributes_manager
        # A request without a session (Alexa never sends one, a fuzzer might) has no
        # session attributes to keep: a throwaway dict stands in.
        self.has_session = handler_input.request_envelope.session is not None
        self.session = self.manager.session_attributes if self.has_session else {}

    def load(self) -> Progress:
        """Progress for this turn: from the session if Alexa carried it, else one store read
        (a failed read gives a fresh Progress and marks the turn's progress unavailable)."""
        # Every write of this session is held against a deletion made after it began.
        if SESSION_STARTED not in self.session:
            self.session[SESSION_STARTED] = session_started(self.handler_input.request_envelope)
        if PROGRESS_KEY in self.session:
            progress = progress_from_dict(self.session[PROGRESS_KEY])
        else:
            try:
                progress = progress_from_dict(self.manager.persistent_attributes)
                self.session[_SAVED] = progress.fingerprints()
            except StoreError as error:
                log.warning("progress read failed for %s: %s", _user(self.handler_input), error)
                progress = Progress()
                self.manager.request_attributes[_UNAVAILABLE] = True
        self.manager.request_attributes[_LOADED] = progress
        return progress

    def current(self) -> Progress:
        """The progress `load` found this turn (a fresh one if it was never loaded)."""
        loaded = self.manager.request_attributes.get(_LOADED)
        return Progress() if loaded is None else loaded

    @property
    def unavailable(self) -> bool:
        """True when this turn's store read failed, so the coach can say so."""
        return bool(self.manager.request_attributes.get(_UNAVAILABLE))

    def hand_over(self, progress: Progress) -> None:
        """The coach's new progress, kept for `save` once the response is built."""
        self.manager.request_attributes[_NEW] = progress

    def handed_over(self) -> Progress | None:
        return self.manager.request_attributes.get(_NEW)

    def save(self, progress: Progress, ending: bool) -> Progress:
        """Keep `progress` in the session always; write it to the store only when it changed
        (see `needs_write`). Returns the merged record: the session's fields over what the
        store wrote back (a store may add to what it was given, such as a write's date).

        A failed write is logged and retried on the next turn (the fingerprint still
        differs), and the session attributes hold the user's place meanwhile.
        """
        if needs_write(progress, self.session.get(_SAVED), ending):
            try:
                self.manager.persistent_attributes = progress.stored()
                self.manager.save_persistent_attributes()
                progress = self.written(progress, self.manager.persistent_attributes,
                                        own_place=True)
            except StoreError as error:
                log.warning("progress write failed for %s: %s", _user(self.handler_input), error)
        self.session[PROGRESS_KEY] = progress.session()
        return progress

    def written(self, progress: Progress, stored: dict, own_place: bool = False) -> Progress:
        """`progress` merged with what a store now holds for it (after a save, or after the
        store moved an account's progress to a voice), noted as saved for this session.

        `own_place`: after this session's own save, the merge may have kept another
        device's newer place (the next session is offered the newest one), but this
        session goes on from where its person is; only what adds up (finished routines, the
        disclaimer heard, preferences) comes back from the store.
        """
        merged = progress_from_dict({**progress.session(), **stored})
        if own_place:
            merged = replace(merged, position=progress.position, done=progress.done,
                             updated_at=progress.updated_at)
        if merged.time_zone is None and progress.time_zone == "":
            # A failed time zone lookup is stored as None (the next session retries) but
            # holds for the rest of this one, so no later turn waits on the API again.
            merged = replace(merged, time_zone="")
        self.session[_SAVED] = merged.fingerprints()
        return merged

    def forget_saved(self) -> None:
        """Forget what was last saved, so this turn's `save` writes whatever it holds.

        The hook of the benchmark's save-every-turn baseline (bench/baselines.py), which
        measures what the write-only-on-change rule saves on the very same skill.
        """
        self.session.pop(_SAVED, None)


class LoadProgress(AbstractRequestInterceptor):
    """Loads progress before any handler runs, for the requests of a conversation."""

    def process(self, handler_input: HandlerInput) -> None:
        if get_request_type(handler_input) in CONVERSATION_REQUESTS:
            ProgressSession(handler_input).load()


class SaveProgress(AbstractResponseInterceptor):
    """Saves what a handler handed over, once the response says whether the session ends."""

    def process(self, handler_input: HandlerInput, response: Response) -> None:
        session = ProgressSession(handler_input)
        progress = session.handed_over()
        if progress is None or not session.has_session:
            return
        ending = bool(response and response.should_end_session) or (
            get_request_type(handler_input) == "SessionEndedRequest"
        )
        session.save(progress, ending)
