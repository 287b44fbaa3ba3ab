"""Diagnostics download: entry, chargers, states and backend facts, personal data redacted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_EMAIL, CONF_PASSWORD, CONF_TOKEN, CONF_USERNAME
from homeassistant.core import HomeAssistant

from .balancer.diagnostics import async_balancer_diagnostics, is_balancer_entry
from .coordinator import EvChargingConfigEntry
from .sessions.diagnostics import async_sessions_diagnostics, is_sessions_entry

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
    # Enlighten accounts (Enphase): the stored login, the site, what locates a charger
    "auth_state",
    "manager_token",
    "site_id",
    "site_name",
    "serials",
    "sn",
    "ip_address",
    "mac_address",
    "configuration_url",
    "networkConfig",
    "gwSerialNum",
    "auth_token",
    "auth_id",
    "authIdentifier",
    "authToken",
    # cloud accounts (AMPECO payloads): ids of the account, charge points, EVSEs,
    # sessions and payments, and what locates or names the owner
    "id",
    "identifier",
    "evseId",
    "evse_identifier",
    "transaction_id",
    "account_id",
    "charge_point_ids",
    "paymentMethodId",
    "paymentDetails",
    "photo",
    "postcode",
    "location",
    "note",
    "first_name",
    "last_name",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: EvChargingConfigEntry
) -> dict[str, Any]:
    """Everything needed to debug an entry, nothing that identifies its owner."""
    if is_sessions_entry(entry):
        return await async_sessions_diagnostics(hass, entry)
    if is_balancer_entry(entry):
        return await async_balancer_diagnostics(hass, entry)
    coordinator = entry.runtime_data.coordinator
    data = {
        "entry": {"title": entry.title, "data": dict(entry.data), "options": dict(entry.options)},
        # Keyed by position: charger ids carry serials, and several chargers of one
        # cloud account can share a connector number.
        "chargers": {
            f"charger_{n}": asdict(info) | {"capabilities": str(info.capabilities)}
            for n, info in enumerate(coordinator.chargers.values(), 1)
        },
        "states": {
            f"charger_{n}": asdict(state)
            for n, (cid, state) in enumerate((coordinator.data or {}).items(), 1)
        },
        "backend": dict(coordinator.backend.diagnostics()),
        "last_update_success": coordinator.last_update_success,
    }
    redacted: dict[str, Any] = async_redact_data(data, TO_REDACT | {"charger_id", "via_charger_id"})
    return redacted
