"""Exponential back-off after failures of the cloud (429, 5xx, unreachable).

Pure: the clock is whatever the client passes in. After the n-th consecutive
failure no request goes out for ``min(base * 2**(n-1), cap)`` seconds, or for the
server's ``Retry-After`` when that is longer (still capped); a success resets it.
"""

from __future__ import annotations

from dataclasses import dataclass

BACKOFF_BASE = 30.0  # s, the fast poll interval: the first failure skips one poll
BACKOFF_CAP = 900.0  # s, 15 minutes


@dataclass(slots=True)
class Backoff:
    """Consecutive failures and the time before which no request may go out."""

    base: float = BACKOFF_BASE
    cap: float = BACKOFF_CAP
    failures: int = 0
    until: float | None = None

    def remaining(self, now: float) -> float:
        """Seconds left to wait (0 when requests may go out)."""
        return 0.0 if self.until is None else max(0.0, self.until - now)

    def failure(self, now: float, retry_after: float | None = None) -> float:
        """Record a failure; return the delay chosen."""
        self.failures += 1
        delay = min(self.base * float(2 ** min(self.failures - 1, 16)), self.cap)
        if retry_after is not None and retry_after > delay:
            delay = min(retry_after, self.cap)
        self.until = now + delay
        return delay

    def success(self) -> None:
        """The cloud answered: forget earlier failures."""
        self.failures = 0
        self.until = None
