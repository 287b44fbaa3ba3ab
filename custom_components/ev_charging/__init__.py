"""EV Charging: home EV chargers of several vendors in one normalized model."""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.typing import ConfigType

from .backends.registry import BACKENDS
from .const import CONF_BACKEND, DOMAIN
from .coordinator import ChargerCoordinator, EvChargingConfigEntry, EvChargingRuntimeData
from .features import feature_of
from .services import async_setup_services

PLATFORMS = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions once, so automations validate even before an entry loads."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: EvChargingConfigEntry) -> bool:
    """Connect to the charger, read it once, then create its entities."""
    if (feature := feature_of(entry)) is not None:
        return await feature.async_setup_entry(hass, entry)
    backend = BACKENDS[entry.data[CONF_BACKEND]].create(hass, entry)
    coordinator = ChargerCoordinator(hass, entry, backend)
    entry.async_on_unload(backend.async_close)
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = EvChargingRuntimeData(backend=backend, coordinator=coordinator)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: EvChargingConfigEntry) -> bool:
    """Remove the entities; the backend closes through async_on_unload."""
    if (feature := feature_of(entry)) is not None:
        return await feature.async_unload_entry(hass, entry)
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
