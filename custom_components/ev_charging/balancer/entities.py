"""Entities of the load balancer, on a device of their own.

- sensors: the operating state, the available current per phase, the site power, the
  configured meter-failure behaviour, and per charger the current allocated to it (with
  why, as attributes) and the last command sent to it (with how it fared);
- binary sensors: the meter is healthy, the fallback is active, and per charger whether
  the balancer holds it below its maximum;
- per charger, a select for its mode (off, fast, solar, min + solar);
- a switch that turns balancing on and off;
- numbers for the limits changed at runtime: each phase's limit, the margin, the hold
  time before an increase, and per charger the maximum current the balancer gives it.

The settings entities write the entry's options; its update listener applies them to
the controller without a reload.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import (
    EntityCategory,
    Platform,
    UnitOfElectricCurrent,
    UnitOfPower,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from ..const import DOMAIN
from ..features import EntityFactory
from .actuator import Command, CommandStatus, LastCommand
from .const import TITLE, UNIQUE_ID
from .controller import BalancerController, ChargerView, Snapshot
from .model import PHASE_NAMES, ChargeMode, FallbackMode, OperatingState
from .settings import BalancerSettings

MAX_PHASE_LIMIT = 250.0
MAX_MARGIN = 20.0
MAX_HOLD_TIME = 600.0


def _site_uid(key: str) -> str:
    return f"{UNIQUE_ID}_{key}"


def _charger_uid(charger_id: str, key: str) -> str:
    return f"{UNIQUE_ID}_charger_{charger_id}_{key}"


class BalancerEntity(Entity):
    """An entity of the balancer device; written when the controller publishes."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(
        self,
        entry: ConfigEntry[Any],
        description: EntityDescription,
        *,
        charger_id: str | None = None,
        placeholders: Mapping[str, str] | None = None,
    ) -> None:
        self.entry = entry
        self.entity_description = description
        self.charger_id = charger_id
        self._attr_unique_id = (
            _site_uid(description.key)
            if charger_id is None
            else _charger_uid(charger_id, description.key)
        )
        if placeholders:
            self._attr_translation_placeholders = dict(placeholders)
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, UNIQUE_ID)},
            name=TITLE,
            model=TITLE,
            entry_type=DeviceEntryType.SERVICE,
        )

    @property
    def controller(self) -> BalancerController:
        """The entry's controller."""
        controller: BalancerController = self.entry.runtime_data.controller
        return controller

    @property
    def snapshot(self) -> Snapshot:
        """What the controller published last."""
        return self.controller.snapshot

    @property
    def view(self) -> ChargerView | None:
        """The charger's part of the snapshot (absent while starting or disabled)."""
        return self.snapshot.chargers.get(self.charger_id or "")

    @property
    def settings(self) -> BalancerSettings:
        """The entry's settings as stored (also before the controller applied them)."""
        return BalancerSettings.from_entry(self.entry)

    async def async_added_to_hass(self) -> None:
        """Follow the controller."""
        self.async_on_remove(self.controller.add_listener(self.async_write_ha_state))

    @callback
    def _store(self, settings: BalancerSettings) -> None:
        """Write settings into the options; the update listener applies them."""
        self.hass.config_entries.async_update_entry(self.entry, options=settings.to_dict())
        self.async_write_ha_state()


# --------------------------------------------------------------------------- sensors


@dataclass(frozen=True, kw_only=True)
class BalancerSensorDescription(SensorEntityDescription):
    """A sensor reading the published snapshot."""

    value_fn: Callable[[Snapshot], StateType]
    attrs_fn: Callable[[Snapshot], dict[str, Any]] | None = None


def _available(index: int) -> Callable[[Snapshot], StateType]:
    def value(snapshot: Snapshot) -> StateType:
        available = snapshot.available
        return available[index] if available is not None else None

    return value


def _state_attrs(snapshot: Snapshot) -> dict[str, Any]:
    return {
        "non_ev_load": list(snapshot.non_ev_load) if snapshot.non_ev_load else None,
        "surplus": snapshot.surplus,
    }


STATE_SENSOR = BalancerSensorDescription(
    key="state",
    translation_key="balancer_state",
    device_class=SensorDeviceClass.ENUM,
    options=[state.value for state in OperatingState],
    value_fn=lambda s: s.operating_state.value,
    attrs_fn=_state_attrs,
)
SITE_POWER_SENSOR = BalancerSensorDescription(
    key="site_power",
    translation_key="balancer_site_power",
    device_class=SensorDeviceClass.POWER,
    native_unit_of_measurement=UnitOfPower.WATT,
    state_class=SensorStateClass.MEASUREMENT,
    value_fn=lambda s: s.site_power,
)


def _available_sensor(index: int) -> BalancerSensorDescription:
    return BalancerSensorDescription(
        key=f"available_current_{PHASE_NAMES[index].lower()}",
        translation_key="balancer_available_current",
        device_class=SensorDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        value_fn=_available(index),
    )


ALLOCATED_SENSOR = SensorEntityDescription(
    key="allocated_current",
    translation_key="balancer_allocated_current",
    device_class=SensorDeviceClass.CURRENT,
    native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
    state_class=SensorStateClass.MEASUREMENT,
    suggested_display_precision=1,
)


class BalancerSensor(BalancerEntity, SensorEntity):
    """A site-wide sensor."""

    entity_description: BalancerSensorDescription

    @property
    def native_value(self) -> StateType:
        """The value from the snapshot."""
        return self.entity_description.value_fn(self.snapshot)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Details, for the sensors that have some."""
        attrs_fn = self.entity_description.attrs_fn
        return attrs_fn(self.snapshot) if attrs_fn is not None else None


class AllocatedCurrentSensor(BalancerEntity, SensorEntity):
    """The current the balancer gives one charger (0: paused or idle)."""

    @property
    def native_value(self) -> float | None:
        """The target of the last decision; unknown while starting or disabled."""
        view = self.view
        return view.current if view is not None else None

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Why, its share before the ramp rules, and on how many phases."""
        view = self.view
        if view is None:
            return {"reason": None, "share": None, "phases": None}
        return {"reason": view.reason, "share": view.allocated, "phases": view.phases}


FALLBACK_SENSOR = SensorEntityDescription(
    key="fallback",
    translation_key="balancer_fallback_mode",
    device_class=SensorDeviceClass.ENUM,
    entity_category=EntityCategory.DIAGNOSTIC,
    options=[mode.value for mode in FallbackMode],
)


class FallbackSensor(BalancerEntity, SensorEntity):
    """What the chargers do while the meter fails, and the fixed current of each."""

    @property
    def native_value(self) -> str:
        """Stop, hold or a fixed current."""
        return self.settings.fallback.value

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The current each charger gets in the fixed mode (its fallback, else its minimum)."""
        controller = self.controller
        return {
            "fixed_current": {
                controller.charger_name(c.charger_id): (
                    c.fallback_current if c.fallback_current is not None else c.min_current
                )
                for c in controller.config.chargers
            }
        }


LAST_COMMAND_SENSOR = SensorEntityDescription(
    key="last_command",
    translation_key="balancer_last_command",
    device_class=SensorDeviceClass.ENUM,
    entity_category=EntityCategory.DIAGNOSTIC,
    options=[command.value for command in Command],
)
STATUSES = [status.value for status in CommandStatus]


class LastCommandSensor(BalancerEntity, SensorEntity):
    """The last command sent to one charger: what, why, and how it fared."""

    @property
    def last(self) -> LastCommand | None:
        """The actuator's record of its last command."""
        return self.controller.actuators[self.charger_id or ""].last

    @property
    def native_value(self) -> str | None:
        """Set current, start or stop; unknown before the first command."""
        last = self.last
        return last.command.value if last is not None else None

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The target, its reason, the status, the error, when, how fast, how many retries."""
        last = self.last
        if last is None:
            return dict.fromkeys(
                (
                    "target_current",
                    "reason",
                    "status",
                    "last_error",
                    "timestamp",
                    "latency_ms",
                    "retry_count",
                )
            )
        return {
            "target_current": last.target.current,
            "reason": last.target.reason.value,
            "status": last.status.value,
            "last_error": last.error,
            "timestamp": dt_util.utc_from_timestamp(last.sent_at).isoformat(),
            "latency_ms": last.latency_ms,
            "retry_count": last.retries,
        }


# --------------------------------------------------------------------------- binary sensors


@dataclass(frozen=True, kw_only=True)
class BalancerBinaryDescription(BinarySensorEntityDescription):
    """A binary sensor reading the published snapshot."""

    is_on_fn: Callable[[Snapshot], bool]


BINARY_SENSORS = (
    BalancerBinaryDescription(
        key="meter",
        translation_key="balancer_meter",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=lambda s: s.meter_ok,
    ),
    BalancerBinaryDescription(
        key="fallback_active",
        translation_key="balancer_fallback",
        device_class=BinarySensorDeviceClass.PROBLEM,
        is_on_fn=lambda s: s.fallback,
    ),
)


class BalancerBinarySensor(BalancerEntity, BinarySensorEntity):
    """Meter health or fallback."""

    entity_description: BalancerBinaryDescription

    @property
    def is_on(self) -> bool:
        """From the snapshot."""
        return self.entity_description.is_on_fn(self.snapshot)


LIMITED_BINARY = BinarySensorEntityDescription(key="limited", translation_key="balancer_limited")


class LimitedBinarySensor(BalancerEntity, BinarySensorEntity):
    """On while the balancer gives one charger less than its maximum and a car wants it."""

    @property
    def is_on(self) -> bool:
        """From the last decision; off while starting or disabled."""
        view = self.view
        return view is not None and view.limited


# --------------------------------------------------------------------------- settings


MODE_SELECT = SelectEntityDescription(
    key="mode",
    translation_key="balancer_mode",
    options=[mode.value for mode in ChargeMode],
)


class ModeSelect(BalancerEntity, SelectEntity):
    """How one charger wants to charge."""

    entity_description: SelectEntityDescription

    @property
    def current_option(self) -> str:
        """The charger's mode."""
        return self.settings.charger(self.charger_id or "").mode.value

    async def async_select_option(self, option: str) -> None:
        """Store the new mode; the next cycle follows it."""
        self._store(self.settings.with_charger(self.charger_id or "", mode=ChargeMode(option)))


ENABLE_SWITCH = SwitchEntityDescription(key="enabled", translation_key="balancer_enabled")


class EnableSwitch(BalancerEntity, SwitchEntity):
    """Balancing on or off; while off nothing is sent to the chargers."""

    @property
    def is_on(self) -> bool:
        """Whether the balancer drives the chargers."""
        return self.settings.enabled

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Balance again (from what the chargers do now)."""
        self._store(replace(self.settings, enabled=True))

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop balancing; the chargers keep their last current."""
        self._store(replace(self.settings, enabled=False))


def _limit_number(index: int) -> NumberEntityDescription:
    return NumberEntityDescription(
        key=f"limit_{PHASE_NAMES[index].lower()}",
        translation_key="balancer_phase_limit",
        device_class=NumberDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        entity_category=EntityCategory.CONFIG,
        mode=NumberMode.BOX,
        native_min_value=1.0,
        native_max_value=MAX_PHASE_LIMIT,
        native_step=0.5,
    )


MARGIN_NUMBER = NumberEntityDescription(
    key="margin",
    translation_key="balancer_margin",
    device_class=NumberDeviceClass.CURRENT,
    native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
    entity_category=EntityCategory.CONFIG,
    mode=NumberMode.BOX,
    native_min_value=0.0,
    native_max_value=MAX_MARGIN,
    native_step=0.5,
)


HOLD_TIME_NUMBER = NumberEntityDescription(
    key="hold_time",
    translation_key="balancer_hold_time",
    device_class=NumberDeviceClass.DURATION,
    native_unit_of_measurement=UnitOfTime.SECONDS,
    entity_category=EntityCategory.CONFIG,
    mode=NumberMode.BOX,
    native_min_value=0.0,
    native_max_value=MAX_HOLD_TIME,
    native_step=1.0,
)
MAX_CURRENT_NUMBER = NumberEntityDescription(
    key="max_current",
    translation_key="balancer_max_current",
    device_class=NumberDeviceClass.CURRENT,
    native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
    entity_category=EntityCategory.CONFIG,
    mode=NumberMode.BOX,
    native_step=0.5,
)


class LimitNumber(BalancerEntity, NumberEntity):
    """The limit of one site phase (a lower value cuts at once)."""

    def __init__(self, entry: ConfigEntry[Any], index: int) -> None:
        super().__init__(entry, _limit_number(index), placeholders={"phase": PHASE_NAMES[index]})
        self.index = index

    @property
    def native_value(self) -> float:
        """The phase's limit."""
        return self.settings.phase_limits[self.index]

    async def async_set_native_value(self, value: float) -> None:
        """Store the new limit."""
        settings = self.settings
        limits = list(settings.phase_limits)
        limits[self.index] = value
        self._store(replace(settings, phase_limits=tuple(limits)))


class MarginNumber(BalancerEntity, NumberEntity):
    """The current kept free on every phase."""

    @property
    def native_value(self) -> float:
        """The margin."""
        return self.settings.margin

    async def async_set_native_value(self, value: float) -> None:
        """Store the new margin."""
        self._store(replace(self.settings, margin=value))


class HoldTimeNumber(BalancerEntity, NumberEntity):
    """How long the headroom must allow an increase before the first step."""

    @property
    def native_value(self) -> float:
        """The hold time."""
        return self.settings.hold_time

    async def async_set_native_value(self, value: float) -> None:
        """Store the new hold time."""
        self._store(replace(self.settings, hold_time=value))


class MaxCurrentNumber(BalancerEntity, NumberEntity):
    """The most the balancer gives one charger, between the charger's own limits."""

    @property
    def native_min_value(self) -> float:
        """The charger's minimum."""
        return self.controller.charger_range(self.charger_id or "")[0]

    @property
    def native_max_value(self) -> float:
        """The charger's own maximum."""
        return self.controller.charger_range(self.charger_id or "")[1]

    @property
    def native_value(self) -> float:
        """The cap set by the user, else the charger's own maximum."""
        cap = self.settings.charger(self.charger_id or "").max_current
        return cap if cap is not None else self.native_max_value

    async def async_set_native_value(self, value: float) -> None:
        """Store the new cap; the next cycle respects it."""
        self._store(self.settings.with_charger(self.charger_id or "", max_current=value))


# --------------------------------------------------------------------------- factories


def _names(entry: ConfigEntry[Any]) -> dict[str, str]:
    controller: BalancerController = entry.runtime_data.controller
    return {cid: controller.charger_name(cid) for cid in controller.settings.charger_ids}


@callback
def _sensors(
    hass: HomeAssistant, entry: ConfigEntry[Any], add: AddConfigEntryEntitiesCallback
) -> None:
    settings = BalancerSettings.from_entry(entry)
    entities: list[Entity] = [
        BalancerSensor(entry, STATE_SENSOR),
        BalancerSensor(entry, SITE_POWER_SENSOR),
    ]
    entities += [
        BalancerSensor(entry, _available_sensor(i), placeholders={"phase": PHASE_NAMES[i]})
        for i in range(settings.phases)
    ]
    entities.append(FallbackSensor(entry, FALLBACK_SENSOR))
    for cid, name in _names(entry).items():
        placeholders = {"charger": name}
        entities += [
            AllocatedCurrentSensor(
                entry, ALLOCATED_SENSOR, charger_id=cid, placeholders=placeholders
            ),
            LastCommandSensor(
                entry, LAST_COMMAND_SENSOR, charger_id=cid, placeholders=placeholders
            ),
        ]
    add(entities)


@callback
def _binary_sensors(
    hass: HomeAssistant, entry: ConfigEntry[Any], add: AddConfigEntryEntitiesCallback
) -> None:
    entities: list[Entity] = [
        BalancerBinarySensor(entry, description) for description in BINARY_SENSORS
    ]
    entities += [
        LimitedBinarySensor(entry, LIMITED_BINARY, charger_id=cid, placeholders={"charger": name})
        for cid, name in _names(entry).items()
    ]
    add(entities)


@callback
def _selects(
    hass: HomeAssistant, entry: ConfigEntry[Any], add: AddConfigEntryEntitiesCallback
) -> None:
    add(
        ModeSelect(entry, MODE_SELECT, charger_id=cid, placeholders={"charger": name})
        for cid, name in _names(entry).items()
    )


@callback
def _switches(
    hass: HomeAssistant, entry: ConfigEntry[Any], add: AddConfigEntryEntitiesCallback
) -> None:
    add([EnableSwitch(entry, ENABLE_SWITCH)])


@callback
def _numbers(
    hass: HomeAssistant, entry: ConfigEntry[Any], add: AddConfigEntryEntitiesCallback
) -> None:
    settings = BalancerSettings.from_entry(entry)
    entities: list[Entity] = [LimitNumber(entry, i) for i in range(settings.phases)]
    entities += [MarginNumber(entry, MARGIN_NUMBER), HoldTimeNumber(entry, HOLD_TIME_NUMBER)]
    entities += [
        MaxCurrentNumber(entry, MAX_CURRENT_NUMBER, charger_id=cid, placeholders={"charger": name})
        for cid, name in _names(entry).items()
    ]
    add(entities)


FACTORIES: dict[Platform, EntityFactory] = {
    Platform.SENSOR: _sensors,
    Platform.BINARY_SENSOR: _binary_sensors,
    Platform.SELECT: _selects,
    Platform.SWITCH: _switches,
    Platform.NUMBER: _numbers,
}


def expected_unique_ids(settings: BalancerSettings) -> set[str]:
    """The unique ids the factories create for these settings."""
    site = [
        "state",
        "site_power",
        "fallback",
        "meter",
        "fallback_active",
        "enabled",
        "margin",
        "hold_time",
    ]
    for index in range(settings.phases):
        phase = PHASE_NAMES[index].lower()
        site += [f"available_current_{phase}", f"limit_{phase}"]
    per_charger = ("allocated_current", "last_command", "limited", "mode", "max_current")
    return {_site_uid(key) for key in site} | {
        _charger_uid(cid, key) for cid in settings.charger_ids for key in per_charger
    }
