"""Diagnostics download: entry, chargers, states and backend facts, personal data redacted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_EMAIL, CONF_PASSWORD, CONF_TOKEN, CONF_USERNAME
from homeassistant.core import HomeAssistant

from .coordinator import EvChargingConfigEntry

TO_REDACT = {
    CONF_EMAIL,
    CONF_PASSWORD,
    CONF_TOKEN,
    CONF_USERNAME,
    "access_token",
    "refresh_token",
    "client_secret",
    "cookies",
    "session_id",
    "rfid_tag",
    "id_tag",
    "serial",
    "serial_number",
    "latitude",
    "longitude",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: EvChargingConfigEntry
) -> dict[str, Any]:
    """Everything needed to debug an entry, nothing that identifies its owner."""
    coordinator = entry.runtime_data.coordinator
    data = {
        "entry": {"title": entry.title, "data": dict(entry.data), "options": dict(entry.options)},
        "chargers": {
            f"port_{info.connector}": asdict(info) | {"capabilities": str(info.capabilities)}
            for info in coordinator.chargers.values()
        },
        "states": {
            f"port_{coordinator.chargers[cid].connector}": asdict(state)
            for cid, state in (coordinator.data or {}).items()
        },
        "backend": dict(coordinator.backend.diagnostics()),
        "last_update_success": coordinator.last_update_success,
    }
    redacted: dict[str, Any] = async_redact_data(data, TO_REDACT | {"charger_id", "via_charger_id"})
    return redacted
