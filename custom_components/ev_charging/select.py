"""The charge mode, where the vendor has modes."""

from __future__ import annotations

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import ChargerCoordinator, EvChargingConfigEntry
from .entity import ChargerEntity
from .features import add_feature_entities
from .models import Capability

PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EvChargingConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the charge mode select where the backend has modes."""
    if add_feature_entities(Platform.SELECT, hass, entry, async_add_entities):
        return
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        ChargeModeSelect(coordinator, charger_id)
        for charger_id, info in coordinator.chargers.items()
        if info.can(Capability.CHARGE_MODE) and info.charge_modes
    )


class ChargeModeSelect(ChargerEntity, SelectEntity):
    """The vendor's charge mode (translated option keys)."""

    _attr_translation_key = "charge_mode"

    def __init__(self, coordinator: ChargerCoordinator, charger_id: str) -> None:
        super().__init__(coordinator, charger_id, SelectEntityDescription(key="charge_mode"))
        self._attr_options = list(coordinator.chargers[charger_id].charge_modes)

    @property
    def current_option(self) -> str | None:
        """The mode in force."""
        state = self.charger_state
        if state is None or state.charge_mode not in self.options:
            return None
        return state.charge_mode

    async def async_select_option(self, option: str) -> None:
        """Switch the mode."""
        await self.coordinator.async_command(
            self.coordinator.backend.async_set_charge_mode, self.charger_id, option
        )
