"""AMPECO cloud driver-app API: the client (``api``) and the backend (``backend``).

The client, the backend and their helpers import nothing from Home Assistant; the
glue does, and is not imported here: ``entry`` (an entry's backend and its tokens),
``flow`` (the config flow steps) and ``entities`` (the vendor-only entities).
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
