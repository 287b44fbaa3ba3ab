"""Setup, unload, retry and the adaptive polling of an ENO one entry."""

from __future__ import annotations

from datetime import timedelta
import time

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant

from tests.simulators.enovates import EnovatesSimulator

from .conftest import entry_for, setup_entry


async def test_setup_and_unload_close_the_connection(
    hass: HomeAssistant, charging_sim: EnovatesSimulator
) -> None:
    """Unloading closes the Modbus connection and removes the states."""
    entry = await setup_entry(hass, entry_for(charging_sim))
    client = entry.runtime_data.backend.client  # type: ignore[attr-defined]
    assert entry.state is ConfigEntryState.LOADED
    assert client._client is not None
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert client._client is None
    assert hass.states.get("sensor.eno_one_status").state == "unavailable"


async def test_charger_away_at_start_retries(
    hass: HomeAssistant, idle_sim: EnovatesSimulator
) -> None:
    """A charger that does not answer makes the entry retry, not fail."""
    await idle_sim.pause()
    entry = entry_for(idle_sim)
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    await idle_sim.resume()
    await hass.config_entries.async_reload(entry.entry_id)
    assert entry.state is ConfigEntryState.LOADED


async def test_firmware_too_old_is_an_error(
    hass: HomeAssistant, idle_sim: EnovatesSimulator
) -> None:
    """An API older than 1.2 stops the setup for good (a retry would not help)."""
    idle_sim.set_value(1, "api_version_minor", 1)
    entry = entry_for(idle_sim)
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert entry.reason is not None
    assert "1.1" in entry.reason


async def test_polling_adapts_to_the_car(hass: HomeAssistant, idle_sim: EnovatesSimulator) -> None:
    """5 s with no car, every second with a car, every second after a command."""
    entry = await setup_entry(hass, entry_for(idle_sim))
    coordinator = entry.runtime_data.coordinator
    assert coordinator.update_interval == timedelta(seconds=5)
    idle_sim.plug_in()
    await coordinator.async_refresh()
    assert coordinator.update_interval == timedelta(seconds=1)
    idle_sim.unplug()
    await coordinator.async_refresh()
    assert coordinator.update_interval == timedelta(seconds=5)
    await coordinator.async_command(
        entry.runtime_data.backend.async_set_current, "EN1A2401000123", 10
    )
    await coordinator.async_refresh()
    assert coordinator.update_interval == timedelta(seconds=1)


async def test_fast_poll_costs_three_requests(
    hass: HomeAssistant, charging_sim: EnovatesSimulator
) -> None:
    """With EMS control a poll reads state, measurements and 400-417 in one go each."""
    entry = await setup_entry(hass, entry_for(charging_sim))
    coordinator = entry.runtime_data.coordinator
    await coordinator.async_refresh()  # Mode 3 was read at setup: not due again yet
    charging_sim.reset_counters()
    await coordinator.async_refresh()
    assert charging_sim.request_count == 3


async def test_fast_poll_without_ems_control_costs_four(
    hass: HomeAssistant, charging_sim: EnovatesSimulator
) -> None:
    """Without EMS control the token cannot be read, so 400 and 417 are read apart."""
    entry = await setup_entry(hass, entry_for(charging_sim, ems_control=False))
    coordinator = entry.runtime_data.coordinator
    await coordinator.async_refresh()
    charging_sim.reset_counters()
    await coordinator.async_refresh()
    assert charging_sim.request_count == 4


async def test_daily_read_picks_up_a_firmware_update(
    hass: HomeAssistant, charging_sim: EnovatesSimulator
) -> None:
    """API version and diagnostics are re-read once a day, not every poll."""
    entry = await setup_entry(hass, entry_for(charging_sim))
    backend = entry.runtime_data.backend
    charging_sim.set_value(1, "firmware_version", "2.16.0.0@3.3.0.1.4")
    now = time.monotonic()
    await backend.async_fetch(now + 3600)
    assert backend.chargers["EN1A2401000123"].firmware == "2.15.1.0@3.3.0.1.3"
    await backend.async_fetch(now + 86401)
    assert backend.chargers["EN1A2401000123"].firmware == "2.16.0.0@3.3.0.1.4"


async def test_charger_without_serial_is_refused(
    hass: HomeAssistant, idle_sim: EnovatesSimulator
) -> None:
    """A charger that reports no serial cannot get stable ids: setup does not proceed."""
    idle_sim.set_value(1, "serial_nr", "")
    entry = entry_for(idle_sim)
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
