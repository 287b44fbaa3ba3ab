"""What a config entry of an OCPP charger stores, and the backend built from it."""

from __future__ import annotations

from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from .backend import LIMIT_MODE_PROFILE, OcppProxyBackend
from .entities import OCPP_DOMAIN

CONF_OCPP_DEVICE_ID: Final = "ocpp_device_id"
CONF_CPID: Final = "cpid"
CONF_CONNECTOR: Final = "connector"
CONF_LIMIT_MODE: Final = "limit_mode"


def charger_unique_id(cpid: str, connector: int) -> str:
    """The entry's unique id: one entry per connector of an ``ocpp`` charger.

    The same string as the backend's charger id, so it also keys our device.
    """
    return f"ocpp_{cpid}_{connector}"


def create_backend(hass: HomeAssistant, entry: ConfigEntry[Any]) -> OcppProxyBackend:
    """The backend of an entry.

    The device is found again by its cpid first: removing and re-adding the ``ocpp``
    integration gives its devices new registry ids, not new cpids.
    """
    data = entry.data
    device = dr.async_get(hass).async_get_device(identifiers={(OCPP_DOMAIN, data[CONF_CPID])})
    return OcppProxyBackend(
        hass,
        ocpp_device_id=device.id if device is not None else data[CONF_OCPP_DEVICE_ID],
        connector=data[CONF_CONNECTOR],
        limit_mode=data.get(CONF_LIMIT_MODE, LIMIT_MODE_PROFILE),
    )
