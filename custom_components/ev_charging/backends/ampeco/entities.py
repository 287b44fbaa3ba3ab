"""Entities only an AMPECO charger has, as descriptions over ``ChargerState.extra``.

The shared ones (status, power, session energy and duration, energy today, the
binary sensors, the charging switch, the refresh button) come from the platforms.
"""

from __future__ import annotations

from collections.abc import Callable

from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.const import EntityCategory, UnitOfEnergy, UnitOfPower
from homeassistant.helpers.typing import StateType

from ...entity_descriptions import ChargerSensorDescription, VendorDescriptions
from ...models import Capability, ChargerState


def _number(key: str) -> Callable[[ChargerState], StateType]:
    def value(state: ChargerState) -> StateType:
        raw = state.extra.get(key)
        return raw if isinstance(raw, int | float) and not isinstance(raw, bool) else None

    return value


def _text(key: str) -> Callable[[ChargerState], StateType]:
    def value(state: ChargerState) -> StateType:
        raw = state.extra.get(key)
        return raw if isinstance(raw, str) else None

    return value


def _currency(state: ChargerState) -> str | None:
    raw = state.extra.get("session_currency")
    return raw if isinstance(raw, str) and raw else None


_SENSORS = (
    ChargerSensorDescription(
        # Summed from the session history, like energy today (same capability).
        key="energy_this_month",
        translation_key="energy_this_month",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=2,
        value_fn=_number("energy_this_month"),
        exists_fn=lambda info: info.can(Capability.ENERGY_TODAY),
    ),
    ChargerSensorDescription(
        # A closed month's total from the cloud: no state class, it is not a meter.
        key="energy_last_month",
        translation_key="energy_last_month",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=1,
        value_fn=_number("last_month_energy"),
    ),
    ChargerSensorDescription(
        # The cost of the running (or last) session in the currency the cloud names;
        # no state class: it restarts with every session.
        key="session_cost",
        translation_key="session_cost",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        value_fn=_number("session_amount"),
        unit_fn=_currency,
    ),
    ChargerSensorDescription(
        key="max_power",
        translation_key="max_power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_unit_of_measurement=UnitOfPower.KILO_WATT,
        suggested_display_precision=1,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=_number("max_power"),
    ),
    ChargerSensorDescription(
        # The public EVSE id printed on the charger, which the vendor's app shows.
        key="evse_identifier",
        translation_key="evse_identifier",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=_text("evse_identifier"),
    ),
)

AMPECO_DESCRIPTIONS = VendorDescriptions(sensors=_SENSORS)
