"""Retrying one call to a code host's API, bounded in time.

The platform says which errors are transient (``classify``); this module decides how
long to wait. Every wait is capped by ``max_wait`` so a CI job never sleeps for what a
server's Retry-After asks when that is longer than the job can afford, and no wait runs
past one deadline for the whole publishing run (``ARCH_REVIEW_PUBLISH_DEADLINE``, 600 s),
so a rate-limited or failing host costs a job minutes, never hours.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, Callable

ATTEMPTS = 4
RATE_LIMIT_WAITS = 5
DEFAULT_DEADLINE = 600.0


def publish_deadline() -> float:
    """Seconds all retry waits of one run may add up to, from the environment."""
    try:
        return max(float(os.environ.get("ARCH_REVIEW_PUBLISH_DEADLINE", DEFAULT_DEADLINE)), 0.0)
    except ValueError:
        return DEFAULT_DEADLINE


@dataclass(frozen=True)
class Transient:
    reason: str  # e.g. "HTTP 502", for the log line
    retry_after: float | None = None  # a rate limit: wait this long, then try again


class Retrier:
    """Retries one API call: rate limits waited out, other transient errors with backoff.

    A write that failed may still have happened: ``recheck`` re-reads what exists and
    returns a result when the write is already there, so it is not repeated.
    """

    def __init__(
        self,
        host: str,
        classify: Callable[[BaseException], Transient | None],
        *,
        max_wait: float,
        sleep: Callable[[float], None] = time.sleep,
        log: Callable[[str], None] = print,
        clock: Callable[[], float] = time.monotonic,
        deadline: float | None = None,
    ):
        self.host = host
        self.classify = classify
        self.max_wait = max_wait
        self.sleep = sleep
        self.log = log
        self.clock = clock
        self.deadline = clock() + (publish_deadline() if deadline is None else deadline)

    def _wait(self, seconds: float, what: str) -> bool:
        """Sleeps unless that would run past the deadline (then says so and returns False)."""
        if self.clock() + seconds > self.deadline:
            self.log(f"arch-review: {self.host}: publishing deadline reached, giving up on {what}")
            return False
        self.sleep(seconds)
        return True

    def call(self, what: str, action: Callable[[], Any], recheck: Callable[[], Any] | None = None) -> Any:
        failures = waits = 0
        while True:
            try:
                return action()
            except Exception as exc:
                transient = self.classify(exc)
                if transient is None:
                    raise
                if transient.retry_after is not None:
                    if waits >= RATE_LIMIT_WAITS:
                        raise
                    waits += 1
                    wait = min(max(transient.retry_after, 0.0), self.max_wait)
                    self.log(f"arch-review: {self.host} rate limit on {what}: waiting {wait:.0f}s")
                    if not self._wait(wait, what):
                        raise
                    continue
                failures += 1
                if failures >= ATTEMPTS:
                    raise
                self.log(f"arch-review: {self.host} answered {transient.reason} to {what}: retrying")
                if not self._wait(min(2.0**failures, self.max_wait), what):
                    raise
            if recheck is not None:
                done = recheck()
                if done is not None:
                    return done


def parse_retry_after(value: str | None, default: float = 60.0) -> float:
    """Seconds from a Retry-After header (delta-seconds; an HTTP date is not worth parsing here)."""
    try:
        return max(float(value), 0.0) if value is not None else default
    except ValueError:
        return default
