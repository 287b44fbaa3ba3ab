"""Every ENO one entity against the simulator's idle and charging profiles."""

from __future__ import annotations

from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest

from custom_components.ev_charging.const import DOMAIN
from tests.conftest import SimulatorFactory
from tests.simulators.enovates import EnovatesSimulator

from .conftest import SERIAL, entry_for, setup_entry

CHARGING = {
    "sensor.eno_one_status": "charging",
    "sensor.eno_one_power": "10871.0",
    "sensor.eno_one_current_l1": "15.82",
    "sensor.eno_one_current_l2": "15.76",
    "sensor.eno_one_current_l3": "15.89",
    "sensor.eno_one_voltage_l1": "229.0",
    "sensor.eno_one_voltage_l2": "228.0",
    "sensor.eno_one_voltage_l3": "230.0",
    "sensor.eno_one_power_l1": "3623.0",
    "sensor.eno_one_power_l2": "3593.0",
    "sensor.eno_one_power_l3": "3655.0",
    "sensor.eno_one_current_offered": "16.0",
    "sensor.eno_one_lifetime_energy": "1241.893",
    "sensor.eno_one_rfid_tag": "04A1B2C3D4E580",
    "sensor.eno_one_vendor_status": "C2",
    "sensor.eno_one_firmware": "2.15.1.0@3.3.0.1.3",
    "sensor.eno_one_serial_number": SERIAL,
    "sensor.eno_one_model": "ENO one 3x32A S",
    "sensor.eno_one_api_version": "1.2",
    "sensor.eno_one_cable_lock": "locked",
    "sensor.eno_one_led_colour": "blue",
    "sensor.eno_one_control_pilot_state": "c2",
    "sensor.eno_one_pilot_current": "16.0",
    "sensor.eno_one_pilot_duty_cycle": "26.7",
    "sensor.eno_one_cable_rating": "32",
    "sensor.eno_one_pilot_voltage_positive": "6",
    "sensor.eno_one_pilot_voltage_negative": "-12",
    "sensor.eno_one_phases": "3",
    "sensor.eno_one_maximum_current_per_phase": "16",
    "sensor.eno_one_installation_current_l1": "11.87",
    "sensor.eno_one_installation_current_l2": "12.04",
    "sensor.eno_one_installation_current_l3": "11.92",
    "binary_sensor.eno_one_plugged_in": STATE_ON,
    "binary_sensor.eno_one_charging": STATE_ON,
    "binary_sensor.eno_one_problem": STATE_OFF,
    "binary_sensor.eno_one_connection": STATE_ON,
    "binary_sensor.eno_one_cable_locked": STATE_ON,
    "binary_sensor.eno_one_power_applied": STATE_ON,
    "binary_sensor.eno_one_ocpp_backend": STATE_ON,
    "binary_sensor.eno_one_load_shedding_device": STATE_ON,
    "switch.eno_one_charging": STATE_ON,
    "switch.eno_one_current_limit": STATE_ON,
    "number.eno_one_charging_current": "16.0",
    "button.eno_one_refresh": STATE_UNKNOWN,
}

IDLE = CHARGING | {
    "sensor.eno_one_status": "available",
    "sensor.eno_one_power": "0.0",
    "sensor.eno_one_current_l1": "0.0",
    "sensor.eno_one_current_l2": "0.0",
    "sensor.eno_one_current_l3": "0.0",
    "sensor.eno_one_voltage_l1": "233.0",
    "sensor.eno_one_voltage_l2": "234.0",
    "sensor.eno_one_voltage_l3": "232.0",
    "sensor.eno_one_power_l1": "0.0",
    "sensor.eno_one_power_l2": "0.0",
    "sensor.eno_one_power_l3": "0.0",
    "sensor.eno_one_current_offered": "0.0",
    "sensor.eno_one_lifetime_energy": "1234.567",
    "sensor.eno_one_rfid_tag": STATE_UNKNOWN,
    "sensor.eno_one_vendor_status": "A1",
    "sensor.eno_one_cable_lock": "unlocked",
    "sensor.eno_one_led_colour": "green",
    "sensor.eno_one_control_pilot_state": "a1",
    "sensor.eno_one_pilot_current": "0.0",
    "sensor.eno_one_pilot_duty_cycle": "100.0",
    "sensor.eno_one_cable_rating": "0",
    "sensor.eno_one_pilot_voltage_positive": "12",
    "sensor.eno_one_pilot_voltage_negative": "12",
    "sensor.eno_one_installation_current_l1": "-4.21",
    "sensor.eno_one_installation_current_l2": "-3.98",
    "sensor.eno_one_installation_current_l3": "-4.105",
    "binary_sensor.eno_one_plugged_in": STATE_OFF,
    "binary_sensor.eno_one_charging": STATE_OFF,
    "binary_sensor.eno_one_cable_locked": STATE_OFF,
    "binary_sensor.eno_one_power_applied": STATE_OFF,
    "switch.eno_one_current_limit": STATE_OFF,
    # No limit: the number shows the charger maximum, the switch above says "off".
    "number.eno_one_charging_current": "16.0",
}


def _states(hass: HomeAssistant) -> dict[str, str]:
    return {
        state.entity_id: state.state
        for state in hass.states.async_all()
        if state.entity_id.split(".")[1].startswith("eno_one")
    }


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize(("profile", "expected"), [("charging_3p_16a", CHARGING), ("idle", IDLE)])
async def test_every_entity_matches_the_profile(
    hass: HomeAssistant,
    enovates_factory: SimulatorFactory,
    profile: str,
    expected: dict[str, str],
) -> None:
    """Each entity shows the register value of the profile, converted to SI units."""
    simulator = await enovates_factory(units={1: profile})
    await setup_entry(hass, entry_for(simulator))
    assert _states(hass) == expected


async def test_energy_sensor_fits_the_energy_panel(
    hass: HomeAssistant, charging_sim: EnovatesSimulator
) -> None:
    """Lifetime energy: kWh, total_increasing, numeric and rising while charging."""
    entry = await setup_entry(hass, entry_for(charging_sim))
    state = hass.states.get("sensor.eno_one_lifetime_energy")
    assert state is not None
    assert state.attributes["device_class"] == "energy"
    assert state.attributes["unit_of_measurement"] == "kWh"
    assert state.attributes["state_class"] == "total_increasing"
    charging_sim.tick(3600)  # one hour at 10 871 W
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    assert float(hass.states.get("sensor.eno_one_lifetime_energy").state) == pytest.approx(
        1241.893 + 10.871, abs=0.002
    )


async def test_disabled_by_default(hass: HomeAssistant, charging_sim: EnovatesSimulator) -> None:
    """Noisy and rarely used entities start disabled."""
    await setup_entry(hass, entry_for(charging_sim))
    registry = er.async_get(hass)
    disabled = {
        e.entity_id
        for e in registry.entities.values()
        if e.platform == DOMAIN and e.disabled_by is not None
    }
    assert disabled == {
        "sensor.eno_one_power_l1",
        "sensor.eno_one_power_l2",
        "sensor.eno_one_power_l3",
        "sensor.eno_one_vendor_status",
        "sensor.eno_one_serial_number",
        "sensor.eno_one_model",
        "sensor.eno_one_api_version",
        "sensor.eno_one_control_pilot_state",
        "sensor.eno_one_pilot_current",
        "sensor.eno_one_pilot_duty_cycle",
        "sensor.eno_one_cable_rating",
        "sensor.eno_one_pilot_voltage_positive",
        "sensor.eno_one_pilot_voltage_negative",
        "button.eno_one_refresh",
    }


async def test_without_ems_control(hass: HomeAssistant, charging_sim: EnovatesSimulator) -> None:
    """Monitoring only: a read-only limit sensor, no number, no switches, no RFID."""
    await setup_entry(hass, entry_for(charging_sim, ems_control=False))
    states = _states(hass)
    assert states["sensor.eno_one_current_limit"] == "16.0"
    assert hass.states.get("sensor.eno_one_current_limit").attributes["limited"] is True
    for absent in (
        "number.eno_one_charging_current",
        "switch.eno_one_charging",
        "switch.eno_one_current_limit",
        "sensor.eno_one_rfid_tag",
    ):
        assert absent not in states


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_dual_port(hass: HomeAssistant, enovates_factory: SimulatorFactory) -> None:
    """Two devices; port 2 hangs off port 1; device-wide values only on port 1."""
    simulator = await enovates_factory(units={1: "charging_3p_16a", 2: "idle"})
    await setup_entry(hass, entry_for(simulator, dual_port=True))
    devices = dr.async_get(hass)
    port1 = devices.async_get_device(identifiers={(DOMAIN, SERIAL)})
    port2 = devices.async_get_device(identifiers={(DOMAIN, f"{SERIAL}_2")})
    assert port1 is not None
    assert port2 is not None
    assert (port1.name, port2.name) == ("ENO one port 1", "ENO one port 2")
    assert port2.via_device_id == port1.id
    assert port1.serial_number == SERIAL
    assert port1.sw_version == "2.15.1.0@3.3.0.1.3"
    states = _states(hass)
    assert states["sensor.eno_one_port_1_status"] == "charging"
    assert states["sensor.eno_one_port_2_status"] == "available"
    assert states["sensor.eno_one_port_1_power"] == "10871.0"
    assert states["sensor.eno_one_port_2_power"] == "0.0"
    assert "sensor.eno_one_port_1_installation_current_l1" in states
    assert "sensor.eno_one_port_2_installation_current_l1" not in states
    assert "binary_sensor.eno_one_port_2_ocpp_backend" not in states
    registry = er.async_get(hass)
    assert registry.async_get("sensor.eno_one_port_2_status").unique_id == f"{SERIAL}_2_status"


async def test_plug_in_and_unplug_follow_within_one_poll(
    hass: HomeAssistant, idle_sim: EnovatesSimulator
) -> None:
    """An edge in the fast registers re-reads the Mode 3 block at once."""
    entry = await setup_entry(hass, entry_for(idle_sim))
    coordinator = entry.runtime_data.coordinator
    idle_sim.plug_in()
    await coordinator.async_refresh()
    assert hass.states.get("sensor.eno_one_status").state == "charging"
    assert hass.states.get("binary_sensor.eno_one_plugged_in").state == STATE_ON
    idle_sim.car_full()
    await coordinator.async_refresh()
    assert hass.states.get("sensor.eno_one_status").state == "suspended_ev"
    idle_sim.unplug()
    await coordinator.async_refresh()
    assert hass.states.get("sensor.eno_one_status").state == "available"
    assert hass.states.get("binary_sensor.eno_one_plugged_in").state == STATE_OFF


async def test_connection_loss_and_recovery(
    hass: HomeAssistant, charging_sim: EnovatesSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    """Entities go unavailable (connectivity reads off), one log line, then recover."""
    entry = await setup_entry(hass, entry_for(charging_sim))
    coordinator = entry.runtime_data.coordinator
    await charging_sim.pause()
    for _ in range(3):
        await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get("sensor.eno_one_power").state == STATE_UNAVAILABLE
    assert hass.states.get("binary_sensor.eno_one_connection").state == STATE_OFF
    assert caplog.text.count("Error fetching ev_charging") == 1
    await charging_sim.resume()
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get("sensor.eno_one_power").state == "10871.0"
    assert hass.states.get("binary_sensor.eno_one_connection").state == STATE_ON
    assert "Fetching ev_charging" in caplog.text
    assert "recovered" in caplog.text


async def test_dropped_connection_is_reopened(
    hass: HomeAssistant, charging_sim: EnovatesSimulator
) -> None:
    """A connection dropped by the charger costs one failed poll at most."""
    entry = await setup_entry(hass, entry_for(charging_sim))
    coordinator = entry.runtime_data.coordinator
    await charging_sim.drop_connections()
    await coordinator.async_refresh()
    await coordinator.async_refresh()
    assert coordinator.last_update_success
    assert hass.states.get("sensor.eno_one_status").state == "charging"
