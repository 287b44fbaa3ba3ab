"""Home Assistant glue of an Enphase entry: the backend built from the entry.

On top of :class:`.backend.EnphaseBackend` it keeps what must outlive a restart —
the login (in the entry data, through ``on_auth_changed``) and the charging wishes
of restart-resume (in a :class:`~homeassistant.helpers.storage.Store`) — raises the
"too many active sessions" repair issue, removes the devices of chargers no longer
chosen, and keeps serials and the site id out of the diagnostics.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from ...const import DOMAIN, LOGGER
from ...models import ChargerInfo, ChargerState
from ..base import Backend
from .api import EnphaseClient
from .auth import AuthState
from .backend import EnphaseBackend
from .entry import (
    CONF_AUTH_STATE,
    CONF_SERIALS,
    CONF_SITE_ID,
    OPT_TIMEOUT,
    backend_options,
    new_client,
    new_session,
    options_of,
)
from .errors import EnphaseTooManySessionsError

RESUME_STORE_KEY: Final = f"{DOMAIN}.enphase_resume"
RESUME_STORE_VERSION: Final = 1
ISSUE_TOO_MANY_SESSIONS: Final = "too_many_active_sessions"
_RESUME: HassKey[ResumeStore] = HassKey(f"{DOMAIN}_enphase_resume")
# Identifiers shorter than this are not scrubbed from text (too likely to hit other digits).
_MIN_SCRUB_LEN: Final = 5


class ResumeStore:
    """The charging wishes of every Enphase entry, in one file that prunes removed entries."""

    def __init__(self, hass: HomeAssistant) -> None:
        self._hass = hass
        self._store: Store[dict[str, Any]] = Store(hass, RESUME_STORE_VERSION, RESUME_STORE_KEY)
        self._data: dict[str, Any] | None = None
        self._lock = asyncio.Lock()

    async def _loaded(self) -> dict[str, Any]:
        if self._data is None:
            stored = await self._store.async_load()
            self._data = dict(stored) if isinstance(stored, dict) else {}
        return self._data

    async def async_get(self, entry_id: str) -> Mapping[str, Any]:
        """What the entry asked for before the restart (empty when nothing)."""
        async with self._lock:
            saved = (await self._loaded()).get(entry_id)
        return saved if isinstance(saved, Mapping) else {}

    async def async_put(self, entry_id: str, value: Mapping[str, Any]) -> None:
        """Save the entry's wishes; entries that no longer exist are dropped."""
        async with self._lock:
            data = await self._loaded()
            known = {entry.entry_id for entry in self._hass.config_entries.async_entries(DOMAIN)}
            self._data = {key: saved for key, saved in data.items() if key in known}
            self._data[entry_id] = dict(value)
            await self._store.async_save(self._data)


def _flags(value: object) -> dict[str, bool]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, bool)}


def _amps(value: object) -> dict[str, float]:
    if not isinstance(value, Mapping):
        return {}
    return {
        str(k): float(v)
        for k, v in value.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }


def _scrub(value: Any, aliases: Mapping[str, str]) -> Any:
    """``value`` with every identifier of ``aliases`` replaced, in keys and text alike."""
    if isinstance(value, str):
        for secret, alias in aliases.items():
            value = value.replace(secret, alias)
        return value
    if isinstance(value, Mapping):
        return {_scrub(k, aliases): _scrub(v, aliases) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(item, aliases) for item in value]
    return value


class EnphaseEntryBackend(EnphaseBackend):
    """The backend of one config entry (see the module docstring)."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        client: EnphaseClient,
        resume: ResumeStore,
    ) -> None:
        super().__init__(
            client,
            str(entry.data[CONF_SITE_ID]),
            serials=entry.data.get(CONF_SERIALS) or None,
            options=backend_options(entry.options),
            utcnow=dt_util.utcnow,
        )
        self._hass = hass
        self._entry = entry
        self._resume = resume
        self._saved: dict[str, Any] | None = None
        client.on_auth_changed = self._auth_changed

    @property
    def _issue_id(self) -> str:
        return f"{ISSUE_TOO_MANY_SESSIONS}_{self._entry.entry_id}"

    def _auth_changed(self, state: AuthState) -> None:
        """A login or token renewal: keep it for the next start; logins work again."""
        self._hass.config_entries.async_update_entry(
            self._entry, data={**self._entry.data, CONF_AUTH_STATE: state.as_dict()}
        )
        ir.async_delete_issue(self._hass, DOMAIN, self._issue_id)

    @asynccontextmanager
    async def _tracked(self) -> AsyncIterator[None]:
        """Raise the repair issue on "too many active sessions"; save changed wishes."""
        try:
            yield
        except EnphaseTooManySessionsError:
            ir.async_create_issue(
                self._hass,
                DOMAIN,
                self._issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key=ISSUE_TOO_MANY_SESSIONS,
                translation_placeholders={"title": self._entry.title},
            )
            raise
        finally:
            await self._persist()

    async def _persist(self) -> None:
        wishes = {
            "charging_requested": dict(self.charging_requested),
            "requested_current": dict(self.requested_current),
        }
        if self._saved is not None and wishes != self._saved:
            self._saved = wishes
            await self._resume.async_put(self._entry.entry_id, wishes)

    async def async_setup(self) -> Sequence[ChargerInfo]:
        """Set up, then restore what charging was asked for before the restart."""
        async with self._tracked():
            infos = await super().async_setup()
            saved = await self._resume.async_get(self._entry.entry_id)
            wanted = _flags(saved.get("charging_requested"))
            amps = _amps(saved.get("requested_current"))
            self.charging_requested.update(
                {sn: v for sn, v in wanted.items() if sn in self.chargers}
            )
            self.requested_current.update({sn: v for sn, v in amps.items() if sn in self.chargers})
            self._saved = {"charging_requested": wanted, "requested_current": amps}
            if any(self.charging_requested.values()):
                LOGGER.debug("Restored charging requests %s", self.charging_requested)
        ir.async_delete_issue(self._hass, DOMAIN, self._issue_id)
        self._remove_stale_devices()
        return infos

    def _remove_stale_devices(self) -> None:
        """Chargers no longer chosen (reconfigure) lose their device."""
        registry = dr.async_get(self._hass)
        for device in dr.async_entries_for_config_entry(registry, self._entry.entry_id):
            ids = {ident for domain, ident in device.identifiers if domain == DOMAIN}
            if ids and not ids & self.chargers.keys():
                registry.async_update_device(device.id, remove_config_entry_id=self._entry.entry_id)

    async def async_fetch(self, now: float) -> dict[str, ChargerState]:
        """Poll; a poll that went through means the session works."""
        async with self._tracked():
            states = await super().async_fetch(now)
        ir.async_delete_issue(self._hass, DOMAIN, self._issue_id)
        return states

    async def async_start(self, charger_id: str) -> None:
        """Start, and remember that charging was asked for."""
        async with self._tracked():
            await super().async_start(charger_id)

    async def async_stop(self, charger_id: str) -> None:
        """Stop, and remember that it was asked for."""
        async with self._tracked():
            await super().async_stop(charger_id)

    async def async_set_current(self, charger_id: str, amps: float) -> None:
        """Set the amps, and remember them for the next start."""
        async with self._tracked():
            await super().async_set_current(charger_id, amps)

    def diagnostics(self) -> Mapping[str, Any]:
        """The backend's diagnostics without serials or the site id (keys and text too)."""
        aliases = {
            serial: f"charger_{index}" for index, serial in enumerate(self._chargers, start=1)
        }
        aliases[self.site_id] = "site"
        aliases = {k: v for k, v in aliases.items() if len(k) >= _MIN_SCRUB_LEN}
        data = dict(super().diagnostics())
        data["resume_saved"] = self._saved
        scrubbed: Mapping[str, Any] = _scrub(data, aliases)
        return scrubbed


def create_enphase_backend(hass: HomeAssistant, entry: ConfigEntry[Any]) -> Backend:
    """The backend of the entry being set up (``BackendType.create``).

    Besides its data it needs the entry's options, its id (for the stored wishes)
    and its unload hooks.
    """
    options = options_of(entry.options)
    # Created during the entry's setup: Home Assistant detaches it when the entry unloads.
    session = new_session(hass, auto_cleanup=True)
    client = new_client(session, entry.data, timeout=options[OPT_TIMEOUT])
    if (resume := hass.data.get(_RESUME)) is None:
        resume = hass.data[_RESUME] = ResumeStore(hass)

    async def options_updated(hass: HomeAssistant, updated: ConfigEntry[Any]) -> None:
        # Data updates (a renewed login) also land here; only new options need a reload.
        if options_of(updated.options) != options:
            hass.config_entries.async_schedule_reload(updated.entry_id)

    entry.async_on_unload(entry.add_update_listener(options_updated))
    return EnphaseEntryBackend(hass, entry, client, resume)
