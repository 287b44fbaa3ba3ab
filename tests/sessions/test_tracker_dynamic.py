"""Chargers coming and going around the household entry; diagnostics."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest

from custom_components.ev_charging.const import DOMAIN
from custom_components.ev_charging.diagnostics import async_get_config_entry_diagnostics
from custom_components.ev_charging.sessions.records import DataQuality
from tests.enovates.conftest import entry_for

from .conftest import (
    CHARGER,
    HOUSEHOLD_ID,
    Site,
    household_entry,
    setup_charger,
    setup_household,
    with_timers,
)


async def test_charger_loaded_after_the_household(
    hass: HomeAssistant, eno: object, freezer: object
) -> None:
    """The household first, the charger later: its sensors and sessions follow."""
    from .conftest import START

    freezer.move_to(START)  # type: ignore[attr-defined]
    tracker = await setup_household(hass, household_entry())
    assert tracker.charger_ids == []
    charger = await setup_charger(hass, entry_for(eno))  # type: ignore[arg-type]
    site = Site(hass, eno, charger, freezer)  # type: ignore[arg-type]
    assert tracker.charger_ids == [CHARGER]
    assert hass.states.get("sensor.eno_one_charging_session").state == "idle"
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, CHARGER)})
    assert device is not None
    assert HOUSEHOLD_ID in device.config_entries
    await site.plug_in()
    await site.run(600)
    await site.unplug()
    assert len(await tracker.store.async_records()) == 1


async def test_charger_reload_keeps_the_session(hass: HomeAssistant, site: Site) -> None:
    """Unloaded: the sensors are unavailable; back: the same session goes on."""
    tracker = await setup_household(hass, household_entry())
    await site.plug_in()
    await site.run(600)
    session = tracker.progress(CHARGER)
    assert await hass.config_entries.async_unload(site.charger.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.eno_one_charging_session").state == STATE_UNAVAILABLE
    assert not tracker.attached(CHARGER)
    site.sim.tick(60)
    site.freezer.tick(60)
    assert await with_timers(hass, hass.config_entries.async_setup(site.charger.entry_id))
    await hass.async_block_till_done()
    assert hass.states.get("sensor.eno_one_charging_session").state == "active"
    assert tracker.progress(CHARGER).session_id == session.session_id  # type: ignore[union-attr]
    await site.run(600)
    await site.unplug()
    records = await tracker.store.async_records()
    assert len(records) == 1
    assert records[0].connection_seconds == 1260


async def test_charger_removed(hass: HomeAssistant, site: Site) -> None:
    """A deleted charger: its session is closed, its sensors and device link removed."""
    tracker = await setup_household(hass, household_entry())
    await site.plug_in()
    await site.run(600)
    assert er.async_get(hass).async_get("sensor.eno_one_charging_session") is not None
    assert await hass.config_entries.async_remove(site.charger.entry_id)
    await hass.async_block_till_done()
    assert tracker.charger_ids == []
    assert er.async_get(hass).async_get("sensor.eno_one_charging_session") is None
    assert dr.async_get(hass).async_get_device(identifiers={(DOMAIN, CHARGER)}) is None
    records = await tracker.store.async_records()
    assert len(records) == 1
    assert DataQuality.CLOSED_BY_USER in records[0].flags
    assert CHARGER not in tracker.store.active


async def test_household_unload_and_reload(hass: HomeAssistant, site: Site) -> None:
    """Unloading saves the session; loading again continues it, with the totals."""
    tracker = await setup_household(hass, household_entry())
    await site.plug_in()
    await site.run(600)
    await site.unplug()
    await site.plug_in()
    await site.run(600)
    session = tracker.progress(CHARGER)
    energy = hass.states.get("sensor.alice_charged_energy").state
    assert await hass.config_entries.async_unload(HOUSEHOLD_ID)
    await hass.async_block_till_done()
    entry = hass.config_entries.async_get_entry(HOUSEHOLD_ID)
    assert entry.state is ConfigEntryState.NOT_LOADED
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(DOMAIN, "delete_session", {"session_id": "x"}, blocking=True)
    assert err.value.translation_key == "sessions_not_loaded"
    await site.run(120)
    assert await hass.config_entries.async_setup(HOUSEHOLD_ID)
    await hass.async_block_till_done()
    tracker = entry.runtime_data.tracker
    resumed = tracker.progress(CHARGER)
    assert resumed is not None
    assert resumed.session_id == session.session_id  # type: ignore[union-attr]
    assert hass.states.get("sensor.alice_charged_energy").state == energy
    assert hass.states.get("sensor.alice_charging_sessions").state == "1"


async def test_diagnostics_redact_people_and_cards(hass: HomeAssistant, site: Site) -> None:
    """Settings, engines and the store; no names, no card UIDs."""
    await setup_household(hass, household_entry())
    await site.plug_in()
    await site.run(300)
    entry = hass.config_entries.async_get_entry(HOUSEHOLD_ID)
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["options"]["mode"] == "static"
    assert diagnostics["tariff"] == {"source": "static", "currency": "EUR", "spot_intervals": None}
    assert diagnostics["chargers"]["charger_1"]["phase"] == "active"
    assert diagnostics["store"]["sessions"] == 0
    text = str(diagnostics)
    assert "Alice" not in text
    assert "04A1B2C3D4" not in text
    assert CHARGER not in text
