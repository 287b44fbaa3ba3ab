"""Exponential back-off after the cloud said "not now" (429, 5xx)."""

from __future__ import annotations

from dataclasses import dataclass

from .const import BACKOFF_BASE_S, BACKOFF_CAP_S
from .errors import EnphaseCloudUnavailableError


@dataclass(slots=True)
class Backoff:
    """One back-off scope: ``base x 2^(n-1)`` after ``n`` failures in a row, capped.

    A ``Retry-After`` longer than the exponential delay wins (still capped), so the
    client never calls back sooner than the cloud asked within the cap.
    """

    base_s: float = BACKOFF_BASE_S
    cap_s: float = BACKOFF_CAP_S
    failures: int = 0
    until: float | None = None
    error_type: type[EnphaseCloudUnavailableError] = EnphaseCloudUnavailableError
    reason: str = ""

    def active(self, now: float) -> bool:
        """Whether calls are refused at ``now``."""
        return self.until is not None and now < self.until

    def record(
        self,
        now: float,
        error_type: type[EnphaseCloudUnavailableError],
        reason: str,
        retry_after: float | None = None,
    ) -> float:
        """Count a failure; return the time before which nothing is sent."""
        self.failures += 1
        delay = self.base_s * 2 ** min(self.failures - 1, 16)
        if retry_after is not None:
            delay = max(delay, retry_after)
        self.until = now + min(delay, self.cap_s)
        self.error_type = error_type
        self.reason = reason
        return self.until

    def reset(self) -> None:
        """A call went through: start over."""
        self.failures = 0
        self.until = None

    def refusal(self) -> EnphaseCloudUnavailableError:
        """The error raised, without a request, while the back-off runs."""
        return self.error_type(f"backing off after {self.reason}", retry_at=self.until)
