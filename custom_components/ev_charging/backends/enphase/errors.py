"""Enphase-specific refinements of the backend errors.

Each one subclasses a generic error of :mod:`..base`, so callers that only know the
generic kinds keep working; the Home Assistant side can catch the refinements for
repair issues (``too_many_active_sessions``, ``rate_limited``) and config-flow
errors (``otp_invalid``, ``otp_blocked``, ``resend_wait``).
"""

from __future__ import annotations

from ..base import BackendAuthError, BackendCommandRejectedError, BackendConnectionError


class EnphaseCloudUnavailableError(BackendConnectionError):
    """The cloud answered 5xx (or the client is backing off after one).

    ``retry_at`` is the client clock time before which the client sends nothing.
    """

    translation_key = "service_unavailable"

    def __init__(self, message: str = "", *, retry_at: float | None = None) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class EnphaseRateLimitedError(EnphaseCloudUnavailableError):
    """The cloud answered 429, or the client is backing off after one."""

    translation_key = "rate_limited"


class EnphaseTooManySessionsError(EnphaseCloudUnavailableError):
    """The account has too many active sessions; logins pause until ``retry_at``."""

    translation_key = "too_many_active_sessions"


class EnphaseMfaRequiredError(BackendAuthError):
    """A login needs a one-time code, which only the user can give."""

    translation_key = "mfa_required"


class EnphaseOtpInvalidError(BackendAuthError):
    """The one-time code was wrong or expired."""

    translation_key = "otp_invalid"


class EnphaseOtpBlockedError(BackendAuthError):
    """Too many wrong codes or resends: the cloud blocks the login for a while."""

    translation_key = "otp_blocked"


class EnphaseMfaResendWaitError(BackendCommandRejectedError):
    """A new code was asked for too soon after the previous one."""

    def __init__(self, wait_s: float) -> None:
        super().__init__("resend_wait", f"wait {wait_s:.0f} s", user_error=True)
        self.wait_s = wait_s
