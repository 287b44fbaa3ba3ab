"""Login artefacts: JWT claims, cookies, the persisted auth state, the HTML login wall."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import asdict, dataclass
import json
from typing import Any

from .parse import as_float, as_str

_WALL_MARKERS = ("/login/login", "enphaseenergy.com", "optanonwrapper", "x-ua-compatible")


def jwt_claims(token: str | None) -> dict[str, Any]:
    """The payload of a JWT, unverified (only read for ``exp``, user and session ids)."""
    if not token or token.count(".") != 2:
        return {}
    segment = token.split(".")[1]
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        claims = json.loads(raw)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


def claim(claims: Mapping[str, Any], *names: str) -> str | None:
    """A claim by any of ``names``, at the top level or nested under ``data``."""
    nested = claims.get("data")
    for scope in (claims, nested if isinstance(nested, Mapping) else {}):
        for name in names:
            value = as_str(scope.get(name))
            if value is not None:
                return value
    return None


def jwt_expiry(token: str | None) -> float | None:
    """The ``exp`` claim (epoch seconds)."""
    return as_float(jwt_claims(token).get("exp"))


def looks_like_login_wall(text: str) -> bool:
    """An HTML login page served where JSON was expected (the session is gone)."""
    head = text.lstrip()[:4096].lower()
    if not (head.startswith("<!doctype html") or "<html" in head):
        return False
    return any(marker in text.lower() for marker in _WALL_MARKERS)


def b64(text: str) -> str:
    """Base64 of UTF-8 text (the MFA form encodes e-mail and code this way)."""
    return base64.b64encode(text.encode()).decode()


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthState:
    """What a logged-in client needs to carry on after a restart, without the password.

    ``as_dict``/``from_dict`` give a JSON-safe form to keep in the config entry (the
    caller redacts it from diagnostics).
    """

    session_id: str | None = None
    token: str | None = None  # the Entrez JWT
    token_expires_at: float | None = None
    manager_token: str | None = None
    cookies: Mapping[str, str] | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-safe copy."""
        data = asdict(self)
        data["cookies"] = dict(self.cookies or {})
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AuthState:
        """Read back :meth:`as_dict` (unknown or odd values are dropped)."""
        cookies = data.get("cookies")
        return cls(
            session_id=as_str(data.get("session_id")),
            token=as_str(data.get("token")),
            token_expires_at=as_float(data.get("token_expires_at")),
            manager_token=as_str(data.get("manager_token")),
            cookies=(
                {str(k): str(v) for k, v in cookies.items()}
                if isinstance(cookies, Mapping)
                else None
            ),
        )
