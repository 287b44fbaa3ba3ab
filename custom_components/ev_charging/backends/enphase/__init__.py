"""Enphase IQ EV Charger 2 through the Enlighten cloud.

``api`` (the client: login, MFA, tokens, endpoints) on ``transport`` (headers,
cookies, back-off, health), with ``auth``, ``parse``, ``data``, ``energy``,
``backoff``, ``errors`` and ``const``, is plain Python on ``aiohttp``; ``backend``
maps the client onto the charger model.
"""

from __future__ import annotations

from .api import EnphaseClient
from .auth import AuthState
from .backend import EnphaseBackend, EnphaseOptions, map_status
from .data import (
    ChargeMode,
    CloudHealth,
    CommandOutcome,
    EnphaseSite,
    EnphaseSummary,
    LoginResult,
)
from .errors import (
    EnphaseCloudUnavailableError,
    EnphaseMfaRequiredError,
    EnphaseMfaResendWaitError,
    EnphaseOtpBlockedError,
    EnphaseOtpInvalidError,
    EnphaseRateLimitedError,
    EnphaseTooManySessionsError,
)

__all__ = [
    "AuthState",
    "ChargeMode",
    "CloudHealth",
    "CommandOutcome",
    "EnphaseBackend",
    "EnphaseClient",
    "EnphaseCloudUnavailableError",
    "EnphaseMfaRequiredError",
    "EnphaseMfaResendWaitError",
    "EnphaseOptions",
    "EnphaseOtpBlockedError",
    "EnphaseOtpInvalidError",
    "EnphaseRateLimitedError",
    "EnphaseSite",
    "EnphaseSummary",
    "EnphaseTooManySessionsError",
    "LoginResult",
    "map_status",
]
