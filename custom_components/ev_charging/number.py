"""The charging current limit as a number."""

from __future__ import annotations

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import Platform, UnitOfElectricCurrent
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
    """Create the current limit where the backend can set it."""
    if add_feature_entities(Platform.NUMBER, hass, entry, async_add_entities):
        return
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        ChargingCurrentNumber(coordinator, charger_id)
        for charger_id, info in coordinator.chargers.items()
        if info.can(Capability.SET_CURRENT)
    )


class ChargingCurrentNumber(ChargerEntity, NumberEntity):
    """The current the charger may offer the car, within the charger's range."""

    _attr_translation_key = "charging_current"
    _attr_device_class = NumberDeviceClass.CURRENT
    _attr_native_unit_of_measurement = UnitOfElectricCurrent.AMPERE
    _attr_mode = NumberMode.SLIDER

    def __init__(self, coordinator: ChargerCoordinator, charger_id: str) -> None:
        super().__init__(coordinator, charger_id, NumberEntityDescription(key="charging_current"))
        info = coordinator.chargers[charger_id]
        self._attr_native_min_value = info.min_current
        self._attr_native_max_value = info.max_current
        self._attr_native_step = info.current_step

    @property
    def native_value(self) -> float | None:
        """The limit in force; the charger maximum while no limit is set."""
        state = self.charger_state
        if state is None:
            return None
        if state.current_limit is None:
            return self.info.max_current
        return state.current_limit

    async def async_set_native_value(self, value: float) -> None:
        """Write the limit."""
        await self.coordinator.async_command(
            self.coordinator.backend.async_set_current, self.charger_id, value
        )
