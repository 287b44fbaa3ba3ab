"""The sensor entities of the demo chargers (the real integration's layout)."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from . import DemoOcppConfigEntry


async def async_setup_entry(
    hass: HomeAssistant, entry: DemoOcppConfigEntry, async_add_entities: AddEntitiesCallback
) -> None:
    """Every sensor of every charger of the entry."""
    async_add_entities(entry.runtime_data.entities(entry, "sensor"))
