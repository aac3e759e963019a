"""Alexa request envelopes, shaped like the ones Alexa really sends.

The console and the tests both talk to the skill through these, so what they exercise
is the same JSON path a device exercises: deserialisation, handlers, session attributes.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DEFAULT_SKILL_ID = "amzn1.ask.skill.00000000-0000-0000-0000-000000000000"
DEFAULT_USER_ID = "amzn1.ask.account.LOCAL-DEVELOPER"
DEFAULT_DEVICE_ID = "amzn1.ask.device.LOCAL-CONSOLE"
PERSON_ID_PREFIX = "amzn1.ask.person."


def person_id_for(name: str) -> str:
    """A stable, opaque person id for a name typed in the console, shaped like Alexa's: the
    same name is the same recognised voice in every run (its progress is kept), and the
    name itself is not in the id, as Alexa never tells a skill the name."""
    digest = hashlib.sha256(name.strip().lower().encode()).hexdigest().upper()
    return f"{PERSON_ID_PREFIX}LOCAL{digest[:40]}"


def _timestamp(now: datetime | None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


def slot(name: str, spoken: str, value_id: str | None = None, value_name: str | None = None,
         skill_id: str = DEFAULT_SKILL_ID) -> dict[str, Any]:
    """A slot with entity resolution, as Alexa fills it for a custom slot type."""
    authority = f"amzn1.er-authority.echo-sdk.{skill_id}.EXERCISE_NAME"
    if value_id:
        resolution = {
            "authority": authority,
            "status": {"code": "ER_SUCCESS_MATCH"},
            "values": [{"value": {"name": value_name or spoken, "id": value_id}}],
        }
    else:
        resolution = {"authority": authority, "status": {"code": "ER_SUCCESS_NO_MATCH"}}
    return {
        "name": name,
        "value": spoken,
        "confirmationStatus": "NONE",
        "source": "USER",
        "resolutions": {"resolutionsPerAuthority": [resolution]},
    }


@dataclass
class Device:
    """One user on one device: carries the session and its attributes between turns."""

    user_id: str = DEFAULT_USER_ID
    device_id: str = DEFAULT_DEVICE_ID
    skill_id: str = DEFAULT_SKILL_ID
    locale: str = "en-US"
    interfaces: dict[str, Any] = field(default_factory=dict)
    session_id: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    api_endpoint: str = "https://api.amazonalexa.com"
    consent_token: str | None = None  # set once the user granted a permission
    # Alexa's clock for requests not dated by the caller (the console: the real time; a
    # test: its own clock, so a conversation's dates and playback times are its own).
    clock: Callable[[], datetime] | None = None
    # A recognised voice (context.System.person), as Alexa sends it when the skill has
    # personalisation on and the speaker's voice ID is known; None is an unrecognised voice.
    person_id: str | None = None

    def _envelope(self, request: dict[str, Any], now: datetime | None) -> dict[str, Any]:
        new = self.session_id is None
        if new:
            self.session_id = f"amzn1.echo-api.session.{uuid.uuid4()}"
            self.attributes = {}
        application = {"applicationId": self.skill_id}
        user: dict[str, Any] = {"userId": self.user_id}
        if self.consent_token:
            user["permissions"] = {"consentToken": self.consent_token}
        request = {
            "requestId": f"amzn1.echo-api.request.{uuid.uuid4()}",
            "timestamp": _timestamp(now or (self.clock() if self.clock else None)),
            "locale": self.locale,
            **request,
        }
        session: dict[str, Any] = {
            "new": new,
            "sessionId": self.session_id,
            "application": application,
            "user": user,
        }
        if not new:
            session["attributes"] = self.attributes
        system: dict[str, Any] = {
            "application": application,
            "user": user,
            "device": {
                "deviceId": self.device_id,
                "supportedInterfaces": self.interfaces,
            },
            "apiEndpoint": self.api_endpoint,
            "apiAccessToken": "local-access-token",
        }
        if self.person_id:
            system["person"] = {"personId": self.person_id}
        return {
            "version": "1.0",
            "session": session,
            "context": {"System": system},
            "request": request,
        }

    def launch(self, now: datetime | None = None) -> dict[str, Any]:
        """Always a new session, like "Alexa, open foot routine"."""
        self.session_id = None
        return self._envelope({"type": "LaunchRequest"}, now)

    def intent(self, name: str, slots: dict[str, dict[str, Any]] | None = None,
               now: datetime | None = None) -> dict[str, Any]:
        """An intent in the open session, or a one-shot opening a new one."""
        intent = {"name": name, "confirmationStatus": "NONE", "slots": slots or {}}
        return self._envelope({"type": "IntentRequest", "dialogState": "COMPLETED",
                               "intent": intent}, now)

    def can_fulfill(self, name: str, slots: dict[str, dict[str, Any]] | None = None,
                    now: datetime | None = None) -> dict[str, Any]:
        """Alexa asking, before routing a name-free request, whether we can serve it."""
        self.session_id = None
        intent = {"name": name, "confirmationStatus": "NONE", "slots": slots or {}}
        return self._envelope({"type": "CanFulfillIntentRequest", "intent": intent}, now)

    def touch(self, *arguments: str, now: datetime | None = None) -> dict[str, Any]:
        """A button press on an APL screen, sent as Alexa.Presentation.APL.UserEvent."""
        return self._envelope({"type": "Alexa.Presentation.APL.UserEvent",
                               "token": "exercise", "arguments": list(arguments),
                               "source": {"type": "TouchWrapper", "handler": "Press",
                                          "id": f"{arguments[0]}Button"}}, now)

    def session_ended(self, reason: str = "USER_INITIATED",
                      now: datetime | None = None) -> dict[str, Any]:
        envelope = self._envelope({"type": "SessionEndedRequest", "reason": reason}, now)
        self.session_id = None
        return envelope

    def skill_disabled(self, now: datetime | None = None) -> dict[str, Any]:
        """A skill event: no session, as Alexa sends it to the skill's endpoint."""
        envelope = self._envelope({"type": "AlexaSkillEvent.SkillDisabled",
                                   "body": {"userInformation": {"consentToken": None}},
                                   "eventCreationTime": _timestamp(now),
                                   "eventPublishingTime": _timestamp(now)}, now)
        del envelope["session"]
        self.session_id = None
        return envelope

    def receive(self, response: dict[str, Any]) -> None:
        """Carry the session on like Alexa does, or close it when the skill ended it."""
        if response.get("response", {}).get("shouldEndSession", True) is True:
            self.session_id = None
            self.attributes = {}
        else:
            self.attributes = response.get("sessionAttributes") or {}
