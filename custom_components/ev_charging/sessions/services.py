"""Actions on sessions: export, assign to a user, delete, close a stuck one."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_DEVICE_ID, ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    entity_registry as er,
)
from homeassistant.util import dt as dt_util, slugify
import voluptuous as vol

from ..const import CONF_FEATURE, DOMAIN
from .const import EXPORT_DIR, FEATURE_SESSIONS
from .export import FORMAT_CSV, FORMATS, render, write_file
from .setup import async_watch_removal
from .tracker import SessionInProgressError, SessionNotFoundError, SessionTracker

SERVICE_EXPORT = "export_sessions"
SERVICE_ASSIGN = "assign_session"
SERVICE_DELETE = "delete_session"
SERVICE_CLOSE = "close_session"

ATTR_FORMAT = "format"
ATTR_START = "start_date"
ATTR_END = "end_date"
ATTR_USER = "user"
ATTR_VEHICLE = "vehicle"
ATTR_SESSION_ID = "session_id"

EXPORT_SCHEMA = vol.Schema(
    {
        vol.Optional(ATTR_FORMAT, default=FORMAT_CSV): vol.In(FORMATS),
        vol.Optional(ATTR_START): cv.date,
        vol.Optional(ATTR_END): cv.date,
        vol.Optional(ATTR_USER): cv.string,
    }
)
ASSIGN_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_SESSION_ID): cv.string,
        vol.Required(ATTR_USER): cv.string,
        vol.Optional(ATTR_VEHICLE): cv.string,
    }
)
DELETE_SCHEMA = vol.Schema({vol.Required(ATTR_SESSION_ID): cv.string})
CLOSE_SCHEMA = vol.Schema(
    {
        vol.Optional(ATTR_DEVICE_ID): vol.All(cv.ensure_list, [cv.string]),
        vol.Optional(ATTR_ENTITY_ID): cv.comp_entity_ids,
    },
    extra=vol.ALLOW_EXTRA,
)


def _tracker(hass: HomeAssistant) -> SessionTracker:
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.data.get(CONF_FEATURE) == FEATURE_SESSIONS:
            if entry.state is ConfigEntryState.LOADED:
                tracker: SessionTracker = entry.runtime_data.tracker
                return tracker
            break
    raise ServiceValidationError(translation_domain=DOMAIN, translation_key="sessions_not_loaded")


def _error(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


async def _export(call: ServiceCall) -> ServiceResponse:
    hass = call.hass
    tracker = _tracker(hass)
    start: date | None = call.data.get(ATTR_START)
    end: date | None = call.data.get(ATTR_END)
    if start and end and end < start:
        raise _error("invalid_date_range", start=start.isoformat(), end=end.isoformat())
    user_id = None
    if (text := call.data.get(ATTR_USER)) is not None:
        user = tracker.find_user(text)
        if user is None:
            raise _error("unknown_user", user=text)
        user_id = user.id
    tz = dt_util.get_default_time_zone()
    since = datetime.combine(start, time(), tzinfo=tz) if start else None
    until = datetime.combine(end + timedelta(days=1), time(), tzinfo=tz) if end else None
    records = await tracker.async_records(since, until, user_id)
    fmt: str = call.data[ATTR_FORMAT]
    parts = ["sessions", start.isoformat() if start else "all", end.isoformat() if end else "all"]
    if user_id is not None and (user := tracker.user(user_id)) is not None:
        parts.append(slugify(user.name))
    parts.append(dt_util.now().strftime("%Y%m%dT%H%M%S"))
    path = Path(hass.config.path(EXPORT_DIR)) / f"{'_'.join(parts)}.{fmt}"
    try:
        await hass.async_add_executor_job(write_file, path, render(records, fmt))
    except OSError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="export_failed",
            translation_placeholders={"path": str(path), "error": str(err)},
        ) from err
    return {"path": str(path), "sessions": len(records)}


async def _assign(call: ServiceCall) -> None:
    tracker = _tracker(call.hass)
    user = tracker.find_user(call.data[ATTR_USER])
    if user is None:
        raise _error("unknown_user", user=call.data[ATTR_USER])
    vehicle = None
    if (text := call.data.get(ATTR_VEHICLE)) is not None:
        vehicle = tracker.find_vehicle(text)
        if vehicle is None:
            raise _error("unknown_vehicle", vehicle=text)
    try:
        await tracker.async_assign(call.data[ATTR_SESSION_ID], user, vehicle)
    except SessionNotFoundError as err:
        raise _error("session_not_found", session_id=call.data[ATTR_SESSION_ID]) from err


async def _delete(call: ServiceCall) -> None:
    tracker = _tracker(call.hass)
    session_id = call.data[ATTR_SESSION_ID]
    try:
        await tracker.async_delete(session_id)
    except SessionNotFoundError as err:
        raise _error("session_not_found", session_id=session_id) from err
    except SessionInProgressError as err:
        raise _error("session_in_progress", session_id=session_id) from err


async def _close(call: ServiceCall) -> None:
    hass = call.hass
    tracker = _tracker(hass)
    for charger_id in _charger_ids(hass, call, tracker):
        try:
            await tracker.async_close(charger_id)
        except SessionNotFoundError as err:
            raise _error("no_active_session", name=tracker.charger_name(charger_id)) from err


def _charger_ids(hass: HomeAssistant, call: ServiceCall, tracker: SessionTracker) -> list[str]:
    """The tracked charge ports behind the targeted devices and entities."""
    device_ids = set(call.data.get(ATTR_DEVICE_ID, []))
    entities = er.async_get(hass)
    for entity_id in call.data.get(ATTR_ENTITY_ID, []):
        entity = entities.async_get(entity_id)
        if entity is not None and entity.device_id is not None:
            device_ids.add(entity.device_id)
    if not device_ids:
        raise _error("no_target")
    devices = dr.async_get(hass)
    found: list[str] = []
    for device_id in sorted(device_ids):
        device = devices.async_get(device_id)
        ids = (
            {ident for domain, ident in device.identifiers if domain == DOMAIN} if device else set()
        )
        charger_id = next((cid for cid in tracker.charger_ids if cid in ids), None)
        if charger_id is None:
            raise _error("not_a_charger", device_id=device_id)
        found.append(charger_id)
    return found


def async_setup_session_services(hass: HomeAssistant) -> None:
    """Register the session actions (from the integration's ``async_setup``).

    Also watches for the household entry's deletion, to delete its files.
    """
    hass.services.async_register(
        DOMAIN,
        SERVICE_EXPORT,
        _export,
        EXPORT_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(DOMAIN, SERVICE_ASSIGN, _assign, ASSIGN_SCHEMA)
    hass.services.async_register(DOMAIN, SERVICE_DELETE, _delete, DELETE_SCHEMA)
    hass.services.async_register(DOMAIN, SERVICE_CLOSE, _close, CLOSE_SCHEMA)
    async_watch_removal(hass)
