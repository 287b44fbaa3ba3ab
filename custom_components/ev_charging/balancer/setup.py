"""The load balancer as a site feature: setup, unload, settings changed at runtime."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from ..features import Feature
from .const import FEATURE_LOAD_BALANCER
from .controller import BalancerController, BalancerRuntime
from .entities import FACTORIES, expected_unique_ids
from .settings import BalancerSettings

PLATFORMS = [
    Platform.BINARY_SENSOR,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
]


async def async_setup_entry(hass: HomeAssistant, entry: ConfigEntry[Any]) -> bool:
    """Start the controller, then create the entities."""
    settings = BalancerSettings.from_entry(entry)
    controller = BalancerController(hass, entry, settings)
    entry.runtime_data = BalancerRuntime(controller)
    await controller.async_start()
    entry.async_on_unload(entry.add_update_listener(_async_entry_updated))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    _remove_stale_entities(hass, entry, settings)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: ConfigEntry[Any]) -> bool:
    """Remove the entities and stop the controller (timers, listeners, commands)."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        runtime: BalancerRuntime = entry.runtime_data
        await runtime.controller.async_stop()
    return unloaded


async def _async_entry_updated(hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
    """Apply new settings in place; other chargers or phases need other entities: reload."""
    runtime: BalancerRuntime = entry.runtime_data
    new = BalancerSettings.from_entry(entry)
    old = runtime.controller.settings
    if new.charger_ids != old.charger_ids or new.phases != old.phases:
        hass.config_entries.async_schedule_reload(entry.entry_id)
        return
    runtime.controller.apply(new)


def _remove_stale_entities(
    hass: HomeAssistant, entry: ConfigEntry[Any], settings: BalancerSettings
) -> None:
    """Entities of chargers or phases that are no longer configured."""
    registry = er.async_get(hass)
    keep = expected_unique_ids(settings)
    for entity in er.async_entries_for_config_entry(registry, entry.entry_id):
        if entity.unique_id not in keep:
            registry.async_remove(entity.entity_id)


FEATURE = Feature(
    key=FEATURE_LOAD_BALANCER,
    async_setup_entry=async_setup_entry,
    async_unload_entry=async_unload_entry,
    entities=FACTORIES,
)
