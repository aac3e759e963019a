"""The HTTP client for Alexa's APIs (settings, reminders), inside the turn's time budget.

ask-sdk-core's DefaultApiClient is the right client, but it sends requests without a
timeout (a slow API would hold the turn past Alexa's 8 seconds) and importing it pulls in
`requests` (~150 ms), which a Lambda cold start should only pay when an API is called.

Every call Alexa's APIs serve for us (the device's time zone, reminders) is optional: the
turn can answer without it. So a call gets what the turn's budget can spare after keeping
the progress write's reserve (skill/ops/budget.py), none at all once another call in the turn
has timed out, and a timeout here is noted so the rest of the turn skips them too.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from ask_sdk_model.services import ApiClient, ApiClientRequest, ApiClientResponse

from skill.ops import budget

# The most one call may take even with budget to spare: Alexa's APIs answer in well under a
# second when they are well.
API_TIMEOUT_SECONDS = 2.0


class TimedApiClient(ApiClient):
    def __init__(self, timeout: float = API_TIMEOUT_SECONDS) -> None:
        self.timeout = timeout
        self._sender: type | None = None

    @staticmethod
    def _sender_class() -> type:
        from ask_sdk_core.api_client import DefaultApiClient

        class _WithTimeout(DefaultApiClient):
            """DefaultApiClient holds no state, so one per call carries that call's timeout:
            a threaded web server's turns never share a setting."""

            def __init__(self, seconds: float) -> None:
                self.seconds = seconds

            def _resolve_method(self, request: ApiClientRequest) -> Any:
                return partial(super()._resolve_method(request), timeout=self.seconds)

        return _WithTimeout

    def invoke(self, request: ApiClientRequest) -> ApiClientResponse:
        from ask_sdk_core.exceptions import ApiClientException

        deadline = budget.current()
        seconds = deadline.optional_seconds(self.timeout)
        if not seconds:
            raise ApiClientException("skipped: no time left in this turn for an optional call")
        if self._sender is None:
            self._sender = self._sender_class()
        try:
            return self._sender(seconds).invoke(request)
        except ApiClientException as error:
            if budget.is_timeout(error):
                deadline.record_timeout()
            raise
