"""AMPECO cloud driver-app API: the client (``api``) and the backend (``backend``).

No Home Assistant imports anywhere in this package.
"""

from .api import AmpecoClient, normalize_host
from .auth import AmpecoAuthError, AmpecoTokens, OAuthClient
from .backend import AmpecoBackend, charger_id_for
from .payloads import AmpecoChargePoint, AmpecoEvse, AmpecoProfile, AmpecoSession

__all__ = [
    "AmpecoAuthError",
    "AmpecoBackend",
    "AmpecoChargePoint",
    "AmpecoClient",
    "AmpecoEvse",
    "AmpecoProfile",
    "AmpecoSession",
    "AmpecoTokens",
    "OAuthClient",
    "charger_id_for",
    "normalize_host",
]
