"""Entities only an OCPP charger has: its transaction, stop reason and stale data."""

from __future__ import annotations

from homeassistant.components.binary_sensor import BinarySensorDeviceClass
from homeassistant.const import EntityCategory

from ...entity_descriptions import (
    ChargerBinarySensorDescription,
    ChargerSensorDescription,
    VendorDescriptions,
)
from ...models import ChargerState


def _stop_reason(state: ChargerState) -> str | None:
    reason = state.extra.get("stop_reason")
    # The integration shows "" until a transaction has stopped.
    return reason if isinstance(reason, str) and reason else None


OCPP_DESCRIPTIONS = VendorDescriptions(
    sensors=(
        ChargerSensorDescription(
            key="transaction_id",
            translation_key="transaction_id",
            entity_category=EntityCategory.DIAGNOSTIC,
            value_fn=lambda s: s.transaction_id,
        ),
        ChargerSensorDescription(
            key="stop_reason",
            translation_key="stop_reason",
            entity_category=EntityCategory.DIAGNOSTIC,
            value_fn=_stop_reason,
        ),
    ),
    binary_sensors=(
        # The ocpp integration keeps its last states after a charger drops its
        # connection; "on" while a charging connector has sent no meter values for
        # longer than the backend's stale time.
        ChargerBinarySensorDescription(
            key="data_stale",
            translation_key="data_stale",
            device_class=BinarySensorDeviceClass.PROBLEM,
            entity_category=EntityCategory.DIAGNOSTIC,
            value_fn=lambda s: s.extra.get("stale") is True,
        ),
    ),
)
