"""The household entry as a site feature: setup, unload, updates without reload."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.config_entries import SIGNAL_CONFIG_ENTRY_CHANGED, ConfigEntry, ConfigEntryChange
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..const import CONF_FEATURE, DOMAIN, LOGGER
from ..features import Feature
from .const import CONF_USER, FEATURE_SESSIONS, ISSUE_CORRUPT_STORE, SUBENTRY_CARD, SUBENTRY_USER
from .entities import EntityManager
from .store import CorruptStore, SessionStore
from .tracker import SessionTracker

PLATFORMS = [Platform.SENSOR]


@dataclass(slots=True)
class SessionsRuntime:
    """What a loaded household entry holds."""

    tracker: SessionTracker
    entities: EntityManager


type SessionsConfigEntry = ConfigEntry[SessionsRuntime]


async def async_setup_entry(hass: HomeAssistant, entry: ConfigEntry[Any]) -> bool:
    """Load the stores, attach to the chargers, create the sensors."""
    store = SessionStore(hass, on_corrupt=_corrupt_reporter(hass))
    await store.async_load()
    tracker = SessionTracker(hass, entry, store)
    entry.runtime_data = SessionsRuntime(tracker, EntityManager(tracker))
    await tracker.async_start()
    entry.async_on_unload(entry.add_update_listener(_async_entry_updated))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: ConfigEntry[Any]) -> bool:
    """Remove the sensors, save the sessions in progress."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        runtime: SessionsRuntime = entry.runtime_data
        await runtime.tracker.async_stop()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
    """The household entry was deleted: its history and snapshots go with it."""
    await SessionStore(hass).async_remove_all()


@callback
def async_watch_removal(hass: HomeAssistant) -> None:
    """Delete the tracker's files when the household entry is deleted.

    Registered once with the actions: a feature has no removal hook of its own, and the
    entry's own listeners are gone (unloaded) by the time it is removed.
    """

    @callback
    def changed(change: ConfigEntryChange, entry: ConfigEntry[Any]) -> None:
        if (
            change is ConfigEntryChange.REMOVED
            and entry.domain == DOMAIN
            and entry.data.get(CONF_FEATURE) == FEATURE_SESSIONS
        ):
            hass.async_create_task(async_remove_entry(hass, entry), "ev_charging sessions removal")

    async_dispatcher_connect(hass, SIGNAL_CONFIG_ENTRY_CHANGED, changed)


def _corrupt_reporter(hass: HomeAssistant) -> Any:
    """A callback raising a repair issue for a store file moved aside."""

    @callback
    def report(problem: CorruptStore) -> None:
        LOGGER.error(
            "The session store %s could not be read; it was moved aside as %s",
            problem.key,
            problem.moved_to,
        )
        ir.async_create_issue(
            hass,
            DOMAIN,
            f"corrupt_store_{problem.key}",
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_CORRUPT_STORE,
            translation_placeholders={"key": problem.key, "moved_to": problem.moved_to},
        )

    return report


async def _async_entry_updated(hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
    """Options or subentries changed: apply them in place (sessions keep running)."""
    users = {sid for sid, sub in entry.subentries.items() if sub.subentry_type == SUBENTRY_USER}
    orphans = [
        sid
        for sid, sub in entry.subentries.items()
        if sub.subentry_type == SUBENTRY_CARD and sub.data.get(CONF_USER) not in users
    ]
    for subentry_id in orphans:  # a deleted user's cards go with it
        hass.config_entries.async_remove_subentry(entry, subentry_id)
    if orphans:
        return  # the removal calls this listener again
    runtime: SessionsRuntime = entry.runtime_data
    await runtime.tracker.async_reconfigure()
    runtime.entities.sync_users()


@callback
def _add_sensors(
    hass: HomeAssistant, entry: ConfigEntry[Any], add: AddConfigEntryEntitiesCallback
) -> None:
    runtime: SessionsRuntime = entry.runtime_data
    runtime.entities.setup(hass, add)


FEATURE = Feature(
    key=FEATURE_SESSIONS,
    async_setup_entry=async_setup_entry,
    async_unload_entry=async_unload_entry,
    entities={Platform.SENSOR: _add_sensors},
)
