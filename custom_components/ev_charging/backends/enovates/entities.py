"""Entities only the ENO one has: its extra registers, as descriptions."""

from __future__ import annotations

from typing import Any

from homeassistant.components.binary_sensor import BinarySensorDeviceClass
from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
)

from ...entity_descriptions import (
    ChargerBinarySensorDescription,
    ChargerSensorDescription,
    VendorDescriptions,
)
from ...models import ChargerInfo, ChargerState
from .registers import LedColor, LockState, Mode3State


def _extra(key: str) -> Any:
    def value(state: ChargerState) -> Any:
        raw = state.extra.get(key)
        return raw.value if isinstance(raw, LockState | LedColor | Mode3State) else raw

    return value


def _port1(info: ChargerInfo) -> bool:
    # Device-wide registers are shown once, on port 1.
    return info.connector == 1


def _diag_sensor(key: str, **kwargs: Any) -> ChargerSensorDescription:
    return ChargerSensorDescription(
        key=key,
        translation_key=key,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_extra(key),
        **kwargs,
    )


def _pilot(key: str, **kwargs: Any) -> ChargerSensorDescription:
    return _diag_sensor(key, entity_registry_enabled_default=False, **kwargs)


_SENSORS = (
    _diag_sensor(
        "lock_state",
        device_class=SensorDeviceClass.ENUM,
        options=[m.value for m in LockState],
    ),
    _diag_sensor(
        "led_color",
        device_class=SensorDeviceClass.ENUM,
        options=[m.value for m in LedColor],
    ),
    _pilot(
        "mode3_state", device_class=SensorDeviceClass.ENUM, options=[m.value for m in Mode3State]
    ),
    _pilot(
        "pwm_current",
        device_class=SensorDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
    ),
    _pilot(
        "duty_cycle",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
    ),
    _pilot(
        "cable_rating",
        device_class=SensorDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
    ),
    _pilot(
        "cp_positive",
        device_class=SensorDeviceClass.VOLTAGE,
        native_unit_of_measurement=UnitOfElectricPotential.VOLT,
    ),
    _pilot(
        "cp_negative",
        device_class=SensorDeviceClass.VOLTAGE,
        native_unit_of_measurement=UnitOfElectricPotential.VOLT,
    ),
    _diag_sensor("number_of_phases"),
    _diag_sensor(
        "max_amp_per_phase",
        device_class=SensorDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
    ),
    *(
        _diag_sensor(
            f"installation_current_l{n}",
            device_class=SensorDeviceClass.CURRENT,
            native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
            state_class=SensorStateClass.MEASUREMENT,
            suggested_display_precision=2,
            exists_fn=_port1,
        )
        for n in (1, 2, 3)
    ),
)

_BINARY_SENSORS = (
    ChargerBinarySensorDescription(
        key="cable_locked",
        translation_key="cable_locked",
        # The lock device class reads "on" as unlocked; a plain sensor says what it means.
        value_fn=lambda s: (
            None
            if s.extra.get("lock_state") is None
            else s.extra.get("lock_state") is LockState.LOCKED
        ),
    ),
    ChargerBinarySensorDescription(
        key="contactor_closed",
        translation_key="contactor_closed",
        device_class=BinarySensorDeviceClass.POWER,
        value_fn=lambda s: bool(s.extra.get("contactor_closed")),
    ),
    ChargerBinarySensorDescription(
        key="ocpp_connected",
        translation_key="ocpp_connected",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda s: bool(s.extra.get("ocpp_connected")),
        exists_fn=_port1,
    ),
    ChargerBinarySensorDescription(
        key="load_shedding",
        translation_key="load_shedding",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda s: bool(s.extra.get("load_shedding")),
        exists_fn=_port1,
    ),
)

ENOVATES_DESCRIPTIONS = VendorDescriptions(sensors=_SENSORS, binary_sensors=_BINARY_SENSORS)
