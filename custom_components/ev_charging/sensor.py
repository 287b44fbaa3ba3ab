"""Sensors shared by every backend, plus each vendor's own."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from homeassistant.components.sensor import SensorDeviceClass, SensorEntity, SensorStateClass
from homeassistant.const import (
    EntityCategory,
    Platform,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfPower,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .backends.registry import BACKENDS
from .coordinator import EvChargingConfigEntry
from .entity import ChargerEntity
from .entity_descriptions import ChargerSensorDescription
from .features import add_feature_entities
from .models import Capability, ChargerState, ChargerStatus, Phases

PARALLEL_UPDATES = 0


def _has(capability: Capability) -> Any:
    return lambda info: info.can(capability)


def _phase(values: Phases | None, index: int) -> float | None:
    return None if values is None else values.as_tuple()[index]


def _has_phase(capability: Capability, index: int) -> Any:
    # A single-phase port has no L2/L3 current or power.
    return lambda info: info.can(capability) and (info.phases is None or info.phases > index)


def _status_attrs(state: ChargerState) -> dict[str, Any]:
    attrs: dict[str, Any] = {"vendor_status": state.vendor_status, "error": state.error}
    if "stale" in state.extra:  # pushed data that stopped changing (OCPP proxy)
        attrs["stale"] = state.extra["stale"]
    if (pending := state.extra.get("pending_action")) is not None:
        attrs["pending_action"] = pending  # e.g. the stop-then-start of a current change
    return attrs


def _energy_today_attrs(state: ChargerState) -> dict[str, Any]:
    sessions = state.extra.get("sessions_today")
    return {} if sessions is None else {"sessions": sessions}


def _limit_attrs(state: ChargerState) -> dict[str, Any]:
    return {"limited": state.current_limit is not None}


def _phase_sensors(
    kind: str,
    capability: Capability,
    device_class: SensorDeviceClass,
    unit: str,
    values: Any,
    *,
    enabled: bool,
    per_port: bool,
) -> tuple[ChargerSensorDescription, ...]:
    return tuple(
        ChargerSensorDescription(
            key=f"{kind}_l{i + 1}",
            translation_key=f"{kind}_l{i + 1}",
            device_class=device_class,
            native_unit_of_measurement=unit,
            state_class=SensorStateClass.MEASUREMENT,
            suggested_display_precision=1 if device_class != SensorDeviceClass.POWER else 0,
            entity_registry_enabled_default=enabled,
            entity_category=None if enabled else EntityCategory.DIAGNOSTIC,
            value_fn=lambda s, i=i: _phase(values(s), i),  # type: ignore[misc]
            exists_fn=_has_phase(capability, i) if per_port else _has(capability),
        )
        for i in range(3)
    )


SENSORS: tuple[ChargerSensorDescription, ...] = (
    ChargerSensorDescription(
        key="status",
        translation_key="status",
        device_class=SensorDeviceClass.ENUM,
        options=[status.value for status in ChargerStatus],
        value_fn=lambda s: s.status.value,
        attrs_fn=_status_attrs,
    ),
    ChargerSensorDescription(
        key="power",
        translation_key="power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda s: s.power,
        attrs_fn=lambda s: {"estimated": s.power_estimated},
        exists_fn=_has(Capability.POWER),
    ),
    *_phase_sensors(
        "current",
        Capability.PHASE_CURRENTS,
        SensorDeviceClass.CURRENT,
        UnitOfElectricCurrent.AMPERE,
        lambda s: s.currents,
        enabled=True,
        per_port=True,
    ),
    *_phase_sensors(
        "voltage",
        Capability.PHASE_VOLTAGES,
        SensorDeviceClass.VOLTAGE,
        UnitOfElectricPotential.VOLT,
        lambda s: s.voltages,
        enabled=True,
        per_port=False,
    ),
    *_phase_sensors(
        "power",
        Capability.PHASE_POWERS,
        SensorDeviceClass.POWER,
        UnitOfPower.WATT,
        lambda s: s.powers,
        enabled=False,
        per_port=True,
    ),
    ChargerSensorDescription(
        key="current_offered",
        translation_key="current_offered",
        device_class=SensorDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        value_fn=lambda s: s.current_offered,
        exists_fn=_has(Capability.CURRENT_OFFERED),
    ),
    ChargerSensorDescription(
        # Read-only view of the limit where it cannot be written (the number shows it otherwise).
        key="current_limit",
        translation_key="current_limit",
        device_class=SensorDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda s: s.current_limit,
        attrs_fn=_limit_attrs,
        exists_fn=lambda i: i.can(Capability.CURRENT_LIMIT) and not i.can(Capability.SET_CURRENT),
    ),
    ChargerSensorDescription(
        key="session_energy",
        translation_key="session_energy",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=2,
        value_fn=lambda s: s.session_energy,
        exists_fn=_has(Capability.SESSION_ENERGY),
    ),
    ChargerSensorDescription(
        key="session_duration",
        translation_key="session_duration",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_unit_of_measurement=UnitOfTime.MINUTES,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda s: s.session_duration,
        exists_fn=_has(Capability.SESSION_DURATION),
    ),
    ChargerSensorDescription(
        key="lifetime_energy",
        translation_key="lifetime_energy",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=1,
        value_fn=lambda s: s.lifetime_energy,
        exists_fn=_has(Capability.LIFETIME_ENERGY),
    ),
    ChargerSensorDescription(
        key="energy_today",
        translation_key="energy_today",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=2,
        value_fn=lambda s: s.energy_today,
        attrs_fn=_energy_today_attrs,
        exists_fn=_has(Capability.ENERGY_TODAY),
    ),
    ChargerSensorDescription(
        key="rfid_tag",
        translation_key="rfid_tag",
        value_fn=lambda s: s.rfid_tag,
        exists_fn=_has(Capability.RFID),
    ),
    ChargerSensorDescription(
        key="charge_mode",
        translation_key="charge_mode",
        value_fn=lambda s: s.charge_mode,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        exists_fn=_has(Capability.CHARGE_MODE),
    ),
    ChargerSensorDescription(
        key="vendor_status",
        translation_key="vendor_status",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda s: s.vendor_status,
    ),
    ChargerSensorDescription(
        key="firmware",
        translation_key="firmware",
        entity_category=EntityCategory.DIAGNOSTIC,
        info_fn=lambda i: i.firmware,
    ),
    ChargerSensorDescription(
        key="serial_number",
        translation_key="serial_number",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        info_fn=lambda i: i.serial,
    ),
    ChargerSensorDescription(
        key="model",
        translation_key="model",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        info_fn=lambda i: i.model,
    ),
    ChargerSensorDescription(
        key="api_version",
        translation_key="api_version",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        info_fn=lambda i: i.api_version,
        exists_fn=lambda i: i.api_version is not None,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EvChargingConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the sensors each charge port supports."""
    if add_feature_entities(Platform.SENSOR, hass, entry, async_add_entities):
        return
    coordinator = entry.runtime_data.coordinator
    descriptions = (*SENSORS, *BACKENDS[coordinator.backend.key].descriptions.sensors)
    async_add_entities(
        ChargerSensor(coordinator, charger_id, description)
        for charger_id, info in coordinator.chargers.items()
        for description in descriptions
        if description.exists_fn(info)
    )


class ChargerSensor(ChargerEntity, SensorEntity):
    """A sensor of one charge port."""

    entity_description: ChargerSensorDescription

    @property
    def native_value(self) -> StateType | datetime:
        """The value from the live state or the static info."""
        description = self.entity_description
        if description.info_fn is not None:
            return description.info_fn(self.info)
        state = self.charger_state
        if state is None or description.value_fn is None:
            return None
        return description.value_fn(state)

    @property
    def native_unit_of_measurement(self) -> str | None:
        """The description's unit, unless the live state names one (a currency)."""
        description = self.entity_description
        state = self.charger_state
        if description.unit_fn is not None and state is not None:
            return description.unit_fn(state) or description.native_unit_of_measurement
        return description.native_unit_of_measurement

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Attributes such as the vendor status or whether a value is estimated."""
        state = self.charger_state
        if state is None or self.entity_description.attrs_fn is None:
            return None
        return self.entity_description.attrs_fn(state)
