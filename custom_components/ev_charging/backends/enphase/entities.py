"""Entities only the Enphase cloud has, as descriptions reading ``ChargerState.extra``.

Cloud health (reachable, latency, last error, back-off end), today's sessions, the
connector reason, the stop-then-start of a current change, and the charging wish
behind restart-resume.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from homeassistant.components.binary_sensor import BinarySensorDeviceClass
from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.const import EntityCategory, UnitOfTime

from ...entity_descriptions import (
    ChargerBinarySensorDescription,
    ChargerSensorDescription,
    VendorDescriptions,
)
from ...models import ChargerState


def _number(state: ChargerState, key: str) -> float | None:
    value = state.extra.get(key)
    return float(value) if isinstance(value, int | float) else None


def _text(state: ChargerState, key: str) -> str | None:
    value = state.extra.get(key)
    return str(value) if value else None


def _moment(state: ChargerState, key: str) -> datetime | None:
    value = state.extra.get(key)
    return value if isinstance(value, datetime) else None


def _sessions(state: ChargerState) -> list[Any] | None:
    value = state.extra.get("sessions_today")
    return list(value) if isinstance(value, list) else None


def _session_count(state: ChargerState) -> int | None:
    sessions = _sessions(state)
    return None if sessions is None else len(sessions)


def _last_error_attrs(state: ChargerState) -> dict[str, Any]:
    at = _moment(state, "cloud_last_error_at")
    return {"occurred_at": at.isoformat() if at else None}


def _flag(state: ChargerState, key: str) -> bool | None:
    value = state.extra.get(key)
    return value if isinstance(value, bool) else None


ENPHASE_DESCRIPTIONS = VendorDescriptions(
    sensors=(
        ChargerSensorDescription(
            key="sessions_today",
            translation_key="sessions_today",
            state_class=SensorStateClass.MEASUREMENT,
            value_fn=_session_count,
            attrs_fn=lambda s: {"sessions": _sessions(s) or []},
        ),
        ChargerSensorDescription(
            key="connector_reason",
            translation_key="connector_reason",
            entity_category=EntityCategory.DIAGNOSTIC,
            value_fn=lambda s: _text(s, "connector_reason"),
        ),
        ChargerSensorDescription(
            key="cloud_latency",
            translation_key="cloud_latency",
            device_class=SensorDeviceClass.DURATION,
            native_unit_of_measurement=UnitOfTime.MILLISECONDS,
            state_class=SensorStateClass.MEASUREMENT,
            suggested_display_precision=0,
            entity_category=EntityCategory.DIAGNOSTIC,
            value_fn=lambda s: _number(s, "cloud_latency_ms"),
        ),
        ChargerSensorDescription(
            key="cloud_last_error",
            translation_key="cloud_last_error",
            entity_category=EntityCategory.DIAGNOSTIC,
            value_fn=lambda s: _text(s, "cloud_last_error"),
            attrs_fn=_last_error_attrs,
        ),
        ChargerSensorDescription(
            key="cloud_backoff_until",
            translation_key="cloud_backoff_until",
            device_class=SensorDeviceClass.TIMESTAMP,
            entity_category=EntityCategory.DIAGNOSTIC,
            value_fn=lambda s: _moment(s, "cloud_backoff_until"),
        ),
    ),
    binary_sensors=(
        ChargerBinarySensorDescription(
            # Home Assistant -> Enlighten; "off" (not unavailable) while the cloud fails.
            key="cloud_reachable",
            translation_key="cloud_reachable",
            device_class=BinarySensorDeviceClass.CONNECTIVITY,
            entity_category=EntityCategory.DIAGNOSTIC,
            value_fn=lambda s: _flag(s, "cloud_reachable"),
            always_available=True,
        ),
        ChargerBinarySensorDescription(
            # A current change while charging is a stop, 30 s, then a start.
            key="current_change_pending",
            translation_key="current_change_pending",
            value_fn=lambda s: s.extra.get("pending_action") == "restart",
        ),
        ChargerBinarySensorDescription(
            # What restart-resume acts on: charging was asked for and not stopped since.
            key="charging_requested",
            translation_key="charging_requested",
            entity_category=EntityCategory.DIAGNOSTIC,
            value_fn=lambda s: _flag(s, "charging_requested"),
        ),
    ),
)
