"""The actions: start, stop and set the current of chargers picked as devices."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_DEVICE_ID, ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    entity_registry as er,
)
import voluptuous as vol

from .backends.enphase.services import async_setup_enphase_services
from .const import (
    ATTR_CURRENT,
    CONF_BACKEND,
    DOMAIN,
    SERVICE_REFRESH,
    SERVICE_SET_CURRENT,
    SERVICE_START_CHARGING,
    SERVICE_STOP_CHARGING,
)
from .coordinator import ChargerCoordinator, EvChargingConfigEntry
from .models import Capability
from .sessions.services import async_setup_session_services

_TARGET: dict[Any, Any] = {
    vol.Optional(ATTR_DEVICE_ID): vol.All(cv.ensure_list, [cv.string]),
    vol.Optional(ATTR_ENTITY_ID): cv.comp_entity_ids,
}
TARGET_SCHEMA = vol.Schema(_TARGET, extra=vol.ALLOW_EXTRA)
SET_CURRENT_SCHEMA = vol.Schema(
    {**_TARGET, vol.Required(ATTR_CURRENT): vol.Coerce(float)}, extra=vol.ALLOW_EXTRA
)


def _targets(hass: HomeAssistant, call: ServiceCall) -> list[tuple[ChargerCoordinator, str]]:
    """The (coordinator, charger id) of every targeted charge port, validated."""
    device_ids = set(call.data.get(ATTR_DEVICE_ID, []))
    ent_reg = er.async_get(hass)
    for entity_id in call.data.get(ATTR_ENTITY_ID, []):
        entity = ent_reg.async_get(entity_id)
        if entity is not None and entity.device_id is not None:
            device_ids.add(entity.device_id)
    if not device_ids:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="no_target")
    dev_reg = dr.async_get(hass)
    targets = []
    for device_id in sorted(device_ids):
        device = dev_reg.async_get(device_id)
        charger_id = (
            next((ident for domain, ident in device.identifiers if domain == DOMAIN), None)
            if device
            else None
        )
        if device is None or charger_id is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="not_a_charger",
                translation_placeholders={"device_id": device_id},
            )
        entry = _loaded_entry(hass, device, charger_id)
        targets.append((entry.runtime_data.coordinator, charger_id))
    return targets


def _loaded_entry(
    hass: HomeAssistant, device: dr.DeviceEntry, charger_id: str
) -> EvChargingConfigEntry:
    for entry_id in device.config_entries:
        entry = hass.config_entries.async_get_entry(entry_id)
        # The household's sensors sit on the charger's device too: only a charger
        # entry (one with a backend) drives it.
        if entry is None or entry.domain != DOMAIN or CONF_BACKEND not in entry.data:
            continue
        if entry.state is not ConfigEntryState.LOADED:
            break
        typed: EvChargingConfigEntry = entry
        if charger_id in typed.runtime_data.coordinator.chargers:
            return typed
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="charger_not_loaded",
        translation_placeholders={"name": device.name_by_user or device.name or charger_id},
    )


def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions."""

    async def start(call: ServiceCall) -> None:
        for coordinator, charger_id in _targets(hass, call):
            await coordinator.async_command(coordinator.backend.async_start, charger_id)

    async def stop(call: ServiceCall) -> None:
        for coordinator, charger_id in _targets(hass, call):
            await coordinator.async_command(coordinator.backend.async_stop, charger_id)

    async def refresh(call: ServiceCall) -> None:
        # One poll per connection, however many of its ports were targeted.
        for coordinator in {id(c): c for c, _ in _targets(hass, call)}.values():
            await coordinator.async_refresh()

    async def set_current(call: ServiceCall) -> None:
        amps: float = call.data[ATTR_CURRENT]
        targets = _targets(hass, call)
        for coordinator, charger_id in targets:  # validate every target before acting on one
            info = coordinator.chargers[charger_id]
            if not info.can(Capability.SET_CURRENT):
                raise ServiceValidationError(
                    translation_domain=DOMAIN,
                    translation_key="set_current_not_supported",
                    translation_placeholders={"name": info.name},
                )
            if not info.min_current <= amps <= info.max_current:
                raise ServiceValidationError(
                    translation_domain=DOMAIN,
                    translation_key="current_out_of_range",
                    translation_placeholders={
                        "current": f"{amps:g}",
                        "min": f"{info.min_current:g}",
                        "max": f"{info.max_current:g}",
                        "name": info.name,
                    },
                )
        for coordinator, charger_id in targets:
            await coordinator.async_command(coordinator.backend.async_set_current, charger_id, amps)

    hass.services.async_register(DOMAIN, SERVICE_START_CHARGING, start, TARGET_SCHEMA)
    hass.services.async_register(DOMAIN, SERVICE_STOP_CHARGING, stop, TARGET_SCHEMA)
    hass.services.async_register(DOMAIN, SERVICE_SET_CURRENT, set_current, SET_CURRENT_SCHEMA)
    hass.services.async_register(DOMAIN, SERVICE_REFRESH, refresh, TARGET_SCHEMA)
    async_setup_enphase_services(hass, _targets)
    async_setup_session_services(hass)
