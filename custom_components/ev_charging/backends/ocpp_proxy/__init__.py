"""A proxy over the ``ocpp`` custom integration: one connector of one of its chargers."""

from __future__ import annotations

from .backend import LIMIT_MODE_PROFILE, LIMIT_MODE_STATION, LIMIT_MODES, OcppProxyBackend
from .discovery import (
    REASON_MISSING_ENTITIES,
    REASON_NO_CHARGER,
    REASON_NOT_SET_UP,
    OcppChargerChoice,
    OcppDiscoveryError,
    async_list_ocpp_chargers,
)

__all__ = [
    "LIMIT_MODES",
    "LIMIT_MODE_PROFILE",
    "LIMIT_MODE_STATION",
    "REASON_MISSING_ENTITIES",
    "REASON_NOT_SET_UP",
    "REASON_NO_CHARGER",
    "OcppChargerChoice",
    "OcppDiscoveryError",
    "OcppProxyBackend",
    "async_list_ocpp_chargers",
]
