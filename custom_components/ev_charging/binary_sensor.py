"""Binary sensors shared by every backend, plus each vendor's own."""

from __future__ import annotations

from homeassistant.components.binary_sensor import BinarySensorDeviceClass, BinarySensorEntity
from homeassistant.const import EntityCategory, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .backends.registry import BACKENDS
from .coordinator import EvChargingConfigEntry
from .entity import ChargerEntity
from .entity_descriptions import ChargerBinarySensorDescription
from .features import add_feature_entities

PARALLEL_UPDATES = 0

BINARY_SENSORS: tuple[ChargerBinarySensorDescription, ...] = (
    ChargerBinarySensorDescription(
        key="plugged_in",
        translation_key="plugged_in",
        device_class=BinarySensorDeviceClass.PLUG,
        value_fn=lambda s: s.car_connected,
    ),
    ChargerBinarySensorDescription(
        key="charging",
        translation_key="charging",
        device_class=BinarySensorDeviceClass.BATTERY_CHARGING,
        value_fn=lambda s: s.charging,
    ),
    ChargerBinarySensorDescription(
        key="problem",
        translation_key="problem",
        device_class=BinarySensorDeviceClass.PROBLEM,
        value_fn=lambda s: s.problem,
    ),
    ChargerBinarySensorDescription(
        key="connectivity",
        translation_key="connectivity",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda s: s.online,
        always_available=True,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EvChargingConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the binary sensors each charge port supports."""
    if add_feature_entities(Platform.BINARY_SENSOR, hass, entry, async_add_entities):
        return
    coordinator = entry.runtime_data.coordinator
    descriptions = (
        *BINARY_SENSORS,
        *BACKENDS[coordinator.backend.key].descriptions.binary_sensors,
    )
    async_add_entities(
        ChargerBinarySensor(coordinator, charger_id, description)
        for charger_id, info in coordinator.chargers.items()
        for description in descriptions
        if description.exists_fn(info)
    )


class ChargerBinarySensor(ChargerEntity, BinarySensorEntity):
    """A binary sensor of one charge port."""

    entity_description: ChargerBinarySensorDescription

    @property
    def available(self) -> bool:
        """Connectivity stays available so that a lost connection reads "off"."""
        return self.entity_description.always_available or super().available

    @property
    def is_on(self) -> bool | None:
        """The value from the live state."""
        state = self.charger_state
        if self.entity_description.always_available and not self.coordinator.last_update_success:
            return False
        if state is None:
            return None
        return self.entity_description.value_fn(state)
