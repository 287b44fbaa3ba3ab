"""Credentials and tokens of the AMPECO driver API (Laravel Passport OAuth).

Pure: no Home Assistant imports. The config entry stores :meth:`AmpecoTokens.as_dict`
and rebuilds the tokens with :meth:`AmpecoTokens.from_dict`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..base import BackendAuthError
from .payloads import as_float, as_str

#: Why authentication failed; each value doubles as a config-flow error key.
AuthFailure = Literal["invalid_auth", "invalid_client"]


class AmpecoAuthError(BackendAuthError):
    """Authentication failed and cannot be renewed without the user.

    ``reason`` is ``invalid_client`` when the OAuth client id or secret is wrong
    (every login would fail the same way) and ``invalid_auth`` otherwise (wrong
    e-mail or password, or a token the server rejects and we cannot renew).
    """

    def __init__(self, reason: AuthFailure, message: str = "") -> None:
        super().__init__(message or reason, reason=reason)
        self.reason: AuthFailure = reason


@dataclass(frozen=True, slots=True)
class OAuthClient:
    """The vendor app's OAuth client; the secret differs per white-label tenant."""

    client_id: str = "1"
    client_secret: str = ""


@dataclass(frozen=True, slots=True)
class AmpecoTokens:
    """A bearer token, with what is needed to renew it.

    ``expires_at`` is in the client's clock (seconds since the epoch by default);
    ``None`` when unknown, as for a pasted token.
    """

    access_token: str
    refresh_token: str | None = None
    expires_at: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form for the config entry."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AmpecoTokens:
        """The inverse of :meth:`as_dict`."""
        access = as_str(data.get("access_token"))
        if access is None:
            raise AmpecoAuthError("invalid_auth", "no access token stored")
        return cls(
            access_token=access,
            refresh_token=as_str(data.get("refresh_token")),
            expires_at=as_float(data.get("expires_at")),
        )

    @classmethod
    def from_grant(
        cls, body: Mapping[str, Any], *, now: float, previous_refresh: str | None = None
    ) -> AmpecoTokens:
        """Tokens from a Passport grant response.

        A refresh grant that returns no new refresh token keeps the previous one;
        Passport normally rotates it.
        """
        access = as_str(body.get("access_token"))
        if access is None:
            raise AmpecoAuthError("invalid_auth", "the token response holds no access token")
        expires_in = as_float(body.get("expires_in"))
        return cls(
            access_token=access,
            refresh_token=as_str(body.get("refresh_token")) or previous_refresh,
            expires_at=None if expires_in is None else now + expires_in,
        )
