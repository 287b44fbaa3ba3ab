"""A refresh button: poll the charger now."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.const import EntityCategory, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import ChargerCoordinator, EvChargingConfigEntry
from .entity import ChargerEntity
from .features import add_feature_entities

PARALLEL_UPDATES = 1

REFRESH = ButtonEntityDescription(
    key="refresh",
    translation_key="refresh",
    entity_category=EntityCategory.DIAGNOSTIC,
    entity_registry_enabled_default=False,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EvChargingConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One refresh button per charge port."""
    if add_feature_entities(Platform.BUTTON, hass, entry, async_add_entities):
        return
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        RefreshButton(coordinator, charger_id) for charger_id in coordinator.chargers
    )


class RefreshButton(ChargerEntity, ButtonEntity):
    """Poll the connection at once (useful for slow cloud intervals)."""

    def __init__(self, coordinator: ChargerCoordinator, charger_id: str) -> None:
        super().__init__(coordinator, charger_id, REFRESH)

    async def async_press(self) -> None:
        """Refresh now."""
        await self.coordinator.async_refresh()
