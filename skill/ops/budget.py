"""One time budget per turn for every outside call (DynamoDB, Alexa's settings and Reminders APIs).

Why: Alexa waits 8 s for an answer and our Lambda is stopped at 7 s. With a timeout per call
only, a hanging table (a failed read, then a failed write) took 6.3 s, and a hanging settings
API on top 8.3 s: the user heard Alexa's generic error. So a turn gets one budget, started when
the request arrives; each call is given what is left as its timeout, retries stop when it is
spent, and once anything has timed out the optional calls (time zone, reminders) are skipped so
the skill answers calmly from what it already knows.

How the budget reaches the calls: the ASK SDK hands our store and our API client no
per-request argument (`get_attributes(request_envelope)`, `invoke(request)`), so the turn's
Deadline is held in a ContextVar for the length of `invoke`. A ContextVar is per thread (and
per asyncio task), so the threaded web server's turns never see each other's budget, and no
mutable state is shared between threads.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

# All outside calls of one turn together: leaves room within Lambda's 7 s and Alexa's 8 s for
# a cold start and our own work. Configurable as TURN_BUDGET_SECONDS (skill/settings.py).
TURN_BUDGET_SECONDS = 3.0
# The most a deployment may configure: above this a slow turn would meet Lambda's 7 s timeout.
MAX_TURN_BUDGET_SECONDS = 6.0
# The progress write keeps the user's place, so an optional call never eats this last part of
# the budget; with the default budget an optional call gets at most 2 s.
STORE_RESERVE_SECONDS = 1.0
# Less time than this left is not worth starting a call for: it would only time out.
MIN_CALL_SECONDS = 0.1
# Full-jitter exponential back-off between attempts (AWS's advice), so devices throttled at
# the same moment do not retry in step; short, because the whole turn has ~3 s.
BACKOFF_BASE_SECONDS = 0.05
BACKOFF_CAP_SECONDS = 0.5
# Jitter from the OS, not the `random` module's seeded state: under Lambda SnapStart every
# environment restored from one snapshot would share that state and retry in step.
_JITTER = random.SystemRandom()

T = TypeVar("T")


class Deadline:
    """The end of one turn's budget, and whether a call in this turn has timed out."""

    __slots__ = ("_clock", "ends_at", "seconds", "timed_out")

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.seconds = seconds  # the whole budget, for telemetry's "over budget"
        self.ends_at = clock() + seconds
        self.timed_out = False

    def remaining(self) -> float:
        return max(0.0, self.ends_at - self._clock())

    def record_timeout(self) -> None:
        """A call timed out: what is slow now will be slow for the rest of the turn."""
        self.timed_out = True

    def optional_seconds(self, cap: float) -> float:
        """Time an optional call may take: none once anything timed out, never the store's
        reserve, at most `cap`; 0.0 means skip the call."""
        if self.timed_out:
            return 0.0
        seconds = min(cap, self.remaining() - STORE_RESERVE_SECONDS)
        return seconds if seconds >= MIN_CALL_SECONDS else 0.0

    def allows_optional_calls(self) -> bool:
        return self.optional_seconds(MAX_TURN_BUDGET_SECONDS) > 0.0


_current: ContextVar[Deadline | None] = ContextVar("turn_deadline", default=None)


@contextmanager
def turn(seconds: float = TURN_BUDGET_SECONDS) -> Iterator[Deadline]:
    """The budget of the turn run inside this block (Lambda invocation or web request)."""
    deadline = Deadline(seconds)
    token = _current.set(deadline)
    try:
        yield deadline
    finally:
        _current.reset(token)


def current() -> Deadline:
    """This turn's deadline; outside a turn (a test reading the store, a script), a budget of
    the default length for this call alone."""
    return _current.get() or Deadline(TURN_BUDGET_SECONDS)


def is_timeout(error: BaseException) -> bool:
    """Whether a failure was a timeout, whichever client raised it.

    Clients wrap the socket's TimeoutError in their own errors (botocore's ReadTimeoutError,
    requests' ReadTimeout, then ask-sdk's ApiClientException) and keep it in the chain; an
    error raised without a chain still says so in its class name (ConnectTimeoutError).
    """
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        if isinstance(link, TimeoutError) or "Timeout" in type(link).__name__:
            return True
        seen.add(id(link))
        link = link.__cause__ or link.__context__
    return False


def backoff_seconds(failed_attempts: int) -> float:
    """The pause after the n-th failed attempt: anywhere from nothing to a ceiling that
    doubles with each failure (0.05 s, then 0.1 s, ...), capped."""
    ceiling = BACKOFF_BASE_SECONDS * 2 ** (failed_attempts - 1)
    return _JITTER.uniform(0, min(BACKOFF_CAP_SECONDS, ceiling))


def retry_within(
    seconds: float,
    attempt: Callable[[float], T],
    retryable: Callable[[Exception], bool],
    max_attempts: int,
    min_attempt_seconds: float = MIN_CALL_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    on_retry: Callable[[Exception, int], None] | None = None,
) -> T:
    """Attempts (each given the seconds left) until one answers, the failure is final, the
    attempts are used up or the time is spent; then the last failure is raised.

    The one retry loop of every outside call (the DynamoDB clients, ours and botocore's):
    a retry is started only if, after its jittered pause, at least `min_attempt_seconds`
    are left. `on_retry(error, attempts_so_far)` hears each failure that is retried.
    """
    deadline = Deadline(seconds, clock)
    number = 1
    while True:  # bounded: at most max_attempts rounds
        try:
            return attempt(deadline.remaining())
        except Exception as error:
            pause = backoff_seconds(number)
            if (number >= max_attempts or not retryable(error)
                    or deadline.remaining() - pause < min_attempt_seconds):
                raise
            if on_retry is not None:
                on_retry(error, number)
        sleep(pause)
        number += 1
