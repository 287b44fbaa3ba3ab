"""The base entity: one device per charge port, availability from the coordinator."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import ChargerCoordinator
from .models import ChargerInfo, ChargerState


def device_info(info: ChargerInfo) -> DeviceInfo:
    """The device of a charge port."""
    device = DeviceInfo(
        identifiers={(DOMAIN, info.charger_id)},
        name=info.name,
        manufacturer=info.manufacturer,
        model=info.model,
        model_id=info.model_id,
        serial_number=info.serial,
        sw_version=info.firmware,
        hw_version=info.hardware,
    )
    if info.via_charger_id:
        device["via_device"] = (DOMAIN, info.via_charger_id)
    if info.configuration_url:
        device["configuration_url"] = info.configuration_url
    return device


class ChargerEntity(CoordinatorEntity[ChargerCoordinator]):
    """An entity of one charge port."""

    _attr_has_entity_name = True

    def __init__(
        self, coordinator: ChargerCoordinator, charger_id: str, description: EntityDescription
    ) -> None:
        super().__init__(coordinator)
        self.entity_description = description
        self.charger_id = charger_id
        self._attr_unique_id = f"{charger_id}_{description.key}"
        self._attr_device_info = device_info(coordinator.chargers[charger_id])

    @property
    def info(self) -> ChargerInfo:
        """The static facts of the port (refreshed when the backend re-reads them)."""
        return self.coordinator.chargers[self.charger_id]

    @property
    def charger_state(self) -> ChargerState | None:
        """The last state of the port, if the last poll had one."""
        if self.coordinator.data is None:
            return None
        return self.coordinator.data.get(self.charger_id)

    @property
    def available(self) -> bool:
        """Available while the connection works and the port has a state."""
        return super().available and self.charger_state is not None
