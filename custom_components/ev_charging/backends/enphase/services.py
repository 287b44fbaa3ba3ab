"""The Enphase-only actions: ask a charger for an OCPP message, and the live stream.

Registered from the integration's ``services.py`` (which passes its device-target
resolver). Every target is checked before anything is sent: it must be an Enphase
charger, and the message one the cloud accepts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final, cast

from homeassistant.const import ATTR_DEVICE_ID, ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util.json import JsonValueType
import voluptuous as vol

from ...const import DOMAIN
from ...coordinator import ChargerCoordinator, translated
from ..base import BackendAuthError, BackendError
from .backend import EnphaseBackend
from .const import TRIGGER_MESSAGES

SERVICE_TRIGGER_MESSAGE: Final = "trigger_message"
SERVICE_START_LIVE_STREAM: Final = "start_live_stream"
SERVICE_STOP_LIVE_STREAM: Final = "stop_live_stream"
ATTR_MESSAGE: Final = "message"

_TARGET: dict[Any, Any] = {
    vol.Optional(ATTR_DEVICE_ID): vol.All(cv.ensure_list, [cv.string]),
    vol.Optional(ATTR_ENTITY_ID): cv.comp_entity_ids,
}
# The message is checked in the handler, so that a wrong one gets a translated error.
TRIGGER_SCHEMA = vol.Schema({**_TARGET, vol.Required(ATTR_MESSAGE): cv.string})
LIVE_STREAM_SCHEMA = vol.Schema(_TARGET)

type Targets = Callable[[HomeAssistant, ServiceCall], list[tuple[ChargerCoordinator, str]]]


def _enphase_targets(
    hass: HomeAssistant, call: ServiceCall, targets: Targets
) -> list[tuple[ChargerCoordinator, EnphaseBackend, str]]:
    """The targeted chargers, each of them an Enphase one."""
    found = []
    for coordinator, charger_id in targets(hass, call):
        backend = coordinator.backend
        if not isinstance(backend, EnphaseBackend):
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="enphase_only",
                translation_placeholders={"name": coordinator.chargers[charger_id].name},
            )
        found.append((coordinator, backend, charger_id))
    return found


async def _run[T](coordinator: ChargerCoordinator, call: Awaitable[T]) -> T:
    """Await a backend call, its errors translated as the other actions do."""
    try:
        return await call
    except BackendAuthError as err:
        coordinator.config_entry.async_start_reauth(coordinator.hass)
        raise translated(err) from err
    except BackendError as err:
        raise translated(err) from err


def async_setup_enphase_services(hass: HomeAssistant, targets: Targets) -> None:
    """Register the Enphase actions (``targets`` resolves devices to chargers)."""

    async def trigger_message(call: ServiceCall) -> ServiceResponse:
        message: str = call.data[ATTR_MESSAGE]
        if message not in TRIGGER_MESSAGES:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="rejected_invalid_message",
                translation_placeholders={"error": message},
            )
        results: list[JsonValueType] = []
        for coordinator, backend, charger_id in _enphase_targets(hass, call, targets):
            reply = await _run(coordinator, backend.async_trigger_message(charger_id, message))
            results.append(
                {
                    "name": coordinator.chargers[charger_id].name,
                    "serial": charger_id,
                    "response": cast("JsonValueType", dict(reply)),
                }
            )
        return {"results": results} if call.return_response else None

    async def live_stream(call: ServiceCall) -> None:
        start = call.service == SERVICE_START_LIVE_STREAM
        done: set[int] = set()  # one stream per site, however many of its chargers
        for coordinator, backend, _ in _enphase_targets(hass, call, targets):
            if id(backend) in done:
                continue
            done.add(id(backend))
            if start:
                await _run(coordinator, backend.async_start_live_stream())
            else:
                await _run(coordinator, backend.async_stop_live_stream())

    hass.services.async_register(
        DOMAIN,
        SERVICE_TRIGGER_MESSAGE,
        trigger_message,
        TRIGGER_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    for service in (SERVICE_START_LIVE_STREAM, SERVICE_STOP_LIVE_STREAM):
        hass.services.async_register(DOMAIN, service, live_stream, LIVE_STREAM_SCHEMA)
