"""The HTTP client for Alexa's APIs (settings, reminders), with a timeout and a lazy import.

ask-sdk-core's DefaultApiClient is the right client, but it sends requests without a
timeout (a slow API would hold the turn past Alexa's 8 seconds) and importing it pulls in
`requests` (~150 ms), which a Lambda cold start should only pay when an API is called.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from ask_sdk_model.services import ApiClient, ApiClientRequest, ApiClientResponse

API_TIMEOUT_SECONDS = 2.0


class TimedApiClient(ApiClient):
    def __init__(self, timeout: float = API_TIMEOUT_SECONDS) -> None:
        self.timeout = timeout
        self._client: Any = None

    def _default_client(self) -> Any:
        from ask_sdk_core.api_client import DefaultApiClient

        timeout = self.timeout

        class _WithTimeout(DefaultApiClient):
            def _resolve_method(self, request: ApiClientRequest) -> Any:
                return partial(super()._resolve_method(request), timeout=timeout)

        return _WithTimeout()

    def invoke(self, request: ApiClientRequest) -> ApiClientResponse:
        if self._client is None:
            self._client = self._default_client()
        return self._client.invoke(request)
