"""Daily reminders through the Alexa Reminders API: the I/O edge the coach asks for.

The coach decides *that* a reminder should be set, moved, cancelled or checked (a
ReminderJob in the turn's Plan); this module performs it with ask-sdk-core's
ReminderManagementServiceClient and reports a ReminderResult the coach can phrase. Every API failure becomes a status, so
a turn never fails because the Reminders API did.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from skill.conversation.values import ReminderAction, ReminderJob, ReminderResult, ReminderStatus

log = logging.getLogger(__name__)

REMINDERS_PERMISSION = "alexa::alerts:reminders:skill:readwrite"


def _status_for(error: Exception) -> ReminderStatus:
    code = getattr(error, "status_code", None)
    if code == 401:
        return ReminderStatus.NO_PERMISSION
    if code == 403:
        return ReminderStatus.FORBIDDEN
    if code == 404:
        return ReminderStatus.GONE
    if code == 429:
        return ReminderStatus.THROTTLED
    return ReminderStatus.UNAVAILABLE


def next_occurrence(now: datetime, time: str) -> datetime:
    """The next moment at HH:MM in the user's time zone (today if still ahead)."""
    hour, minute = (int(part) for part in time.split(":"))
    candidate = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return candidate if candidate > now else candidate + timedelta(days=1)


def reminder_request(job: ReminderJob, now: datetime, locale: str, text: str) -> Any:
    """The documented JSON shape: an absolute daily trigger in the user's time zone."""
    from ask_sdk_model.services.reminder_management import (
        AlertInfo,
        PushNotification,
        PushNotificationStatus,
        Recurrence,
        ReminderRequest,
        SpokenInfo,
        SpokenText,
        Trigger,
        TriggerType,
    )

    first = next_occurrence(now, job.time or now.strftime("%H:%M"))
    local = "%Y-%m-%dT%H:%M:%S.000"
    return ReminderRequest(
        request_time=now.strftime(local),
        trigger=Trigger(
            object_type=TriggerType.SCHEDULED_ABSOLUTE,
            scheduled_time=first.strftime(local),
            time_zone_id=getattr(now.tzinfo, "key", "UTC"),
            recurrence=Recurrence(
                start_date_time=first.strftime(local),
                recurrence_rules=[
                    f"FREQ=DAILY;BYHOUR={first.hour};BYMINUTE={first.minute};BYSECOND=0"
                ],
            ),
        ),
        alert_info=AlertInfo(spoken_info=SpokenInfo(content=[SpokenText(locale=locale,
                                                                            text=text)])),
        push_notification=PushNotification(status=PushNotificationStatus.ENABLED),
    )


def has_permission(handler_input: Any) -> bool:
    """Alexa sends a consent token only once the user has granted the permission."""
    permissions = handler_input.request_envelope.context.system.user.permissions
    return bool(permissions and permissions.consent_token)


def perform(job: ReminderJob, handler_input: Any, now: datetime, locale: str,
            text: str) -> ReminderResult:
    """Carry out one job; the result says what happened, never raises."""
    if not has_permission(handler_input):
        return ReminderResult(ReminderStatus.NO_PERMISSION)
    try:
        client = handler_input.service_client_factory.get_reminder_management_service()
        if job.action is ReminderAction.CHECK:
            client.get_reminder(job.reminder_id)
            return ReminderResult(ReminderStatus.OK, job.reminder_id)
        if job.action is ReminderAction.CANCEL:
            client.delete_reminder(job.reminder_id)
            return ReminderResult(ReminderStatus.OK)
        request = reminder_request(job, now, locale, text)
        time = job.time or now.strftime("%H:%M")
        if job.reminder_id:
            try:
                client.update_reminder(job.reminder_id, request)
                return ReminderResult(ReminderStatus.OK, job.reminder_id, time)
            except Exception as error:
                if _status_for(error) is not ReminderStatus.GONE:
                    raise
        created = client.create_reminder(request)
        return ReminderResult(ReminderStatus.OK, created.alert_token, time)
    except Exception as error:  # noqa: BLE001 - any API failure is a spoken status
        status = _status_for(error)
        if job.action is ReminderAction.CANCEL and status is ReminderStatus.GONE:
            return ReminderResult(ReminderStatus.OK)
        log.warning("reminders %s failed: %s %s", job.action, type(error).__name__,
                    getattr(error, "status_code", ""))
        return ReminderResult(status)


# AMAZON.TIME resolves vague times to these codes; we pick a sensible hour for each.
_VAGUE_TIMES = {"MO": "09:00", "AF": "14:00", "EV": "19:00", "NI": "21:00"}


def parse_time_slot(value: str | None) -> str | None:
    """An AMAZON.TIME slot value ("08:00", "MO", ...) as "HH:MM", or None if unusable."""
    if not value:
        return None
    if value in _VAGUE_TIMES:
        return _VAGUE_TIMES[value]
    try:
        parsed = datetime.strptime(value[:5], "%H:%M")
    except ValueError:
        return None
    return parsed.strftime("%H:%M")
