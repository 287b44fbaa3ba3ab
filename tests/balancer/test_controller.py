"""The controller's actuation: retries, rate limits, chargers that come and go."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
import pytest

from tests.conftest import SimulatorFactory
from tests.enovates.conftest import SERIAL, entry_for
from tests.simulators.enovates import FULL_CONTROL, MONITORING_ONLY, EnovatesSimulator

from .conftest import (
    Site,
    attrs,
    controller_of,
    setup_charger,
    start_balancer,
    state,
    with_timers,
    writes,
)

pytestmark = pytest.mark.usefixtures("unload_all")


async def test_failed_stop_is_retried_with_back_off_until_delivered(
    hass: HomeAssistant, site: Site, eno: EnovatesSimulator
) -> None:
    """The charger refuses the stop; newer readings do not drop it, back-off spaces it."""
    entry = await start_balancer(hass)
    actuator = controller_of(entry).actuators[SERIAL]
    site.report(3, 3, 3)
    await site.settle()
    eno.set_ems_mode(MONITORING_ONLY)  # writes are acknowledged and ignored
    site.report(3, 21, 3)  # no room: pause
    await site.settle()
    assert actuator.failures == 1
    assert actuator.last_error
    site.report(3, 21.5, 3)  # a newer reading within the back-off: no new attempt
    await site.settle()
    assert actuator.failures == 1
    await site.tick()  # 1 s later: second attempt, then 2 s of back-off
    assert actuator.failures == 2
    await site.tick()
    assert actuator.failures == 2
    eno.set_ems_mode(FULL_CONTROL)
    await site.tick()
    assert writes(eno) == [0]
    assert actuator.failures == 0
    assert actuator.last_error is None
    assert actuator.accepted == 0.0
    await site.run(3)
    assert writes(eno) == [0]


async def test_a_value_the_charger_does_not_show_is_reasserted_slowly(
    hass: HomeAssistant, site: Site, eno: EnovatesSimulator
) -> None:
    """A 13 A cable caps the offer below the 16 A target: re-sent every 30 s, no storm."""
    await start_balancer(hass)
    site.report(12, 3, 3)
    await site.settle()
    assert writes(eno) == [12000]
    eno.set_value(1, "pp", 13)  # the cable allows 13 A
    site.report(1, 1, 1)
    await site.run(16)
    assert writes(eno) == [12000, 16000]
    assert eno.value(1, "active_current_offered") == 13000
    await site.run(50)
    assert writes(eno) == [12000, 16000, 16000]
    await site.run(20)  # the car draws 13 A for 60 s: the offer is capped at 13 + 2
    assert writes(eno) == [12000, 16000, 16000, 15000]


async def test_charger_that_loads_later_is_followed(
    hass: HomeAssistant, site: Site, enovates_factory: SimulatorFactory
) -> None:
    """Balanced from the moment its entry loads; left alone while it is unloaded."""
    sim = await enovates_factory(units={1: "charging_3p_16a"})
    site.sims.append(sim)
    charger = entry_for(sim)
    entry = await start_balancer(hass)
    site.report(12, 3, 3)
    await site.run(3)
    assert writes(sim) == []
    assert controller_of(entry).snapshot.chargers[SERIAL].reason == "offline"

    await setup_charger(hass, charger)
    await site.tick()
    assert writes(sim) == [12000]

    assert await hass.config_entries.async_unload(charger.entry_id)
    site.report(16, 3, 3)
    await site.run(2)
    assert writes(sim) == [12000]
    assert controller_of(entry).snapshot.chargers[SERIAL].reason == "offline"
    assert await with_timers(hass, hass.config_entries.async_setup(charger.entry_id))
    await site.tick()
    assert writes(sim) == [12000, 8000]
    assert charger.state is ConfigEntryState.LOADED

    # Restarted before its charger: named after the charger's device, not its id.
    assert await hass.config_entries.async_unload(charger.entry_id)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    allocated = "sensor.load_balancer_en1a2401000123_allocated_current"
    assert attrs(hass, allocated)["friendly_name"] == "Load balancer ENO one allocated current"


async def test_disabled_sends_nothing_and_resumes_from_what_the_charger_does(
    hass: HomeAssistant, site: Site, eno: EnovatesSimulator
) -> None:
    """The enable switch: off leaves the chargers alone; on balances again at once."""
    await start_balancer(hass)
    site.report(3, 3, 3)
    await site.settle()
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.load_balancer_enabled"}, blocking=True
    )
    await site.settle()
    assert state(hass, "switch.load_balancer_enabled") == "off"
    site.report(12, 3, 3)
    await site.run(2)
    assert writes(eno) == []
    assert state(hass, "sensor.load_balancer_state") == "disabled"
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.load_balancer_enabled"}, blocking=True
    )
    await site.settle()
    assert writes(eno) == [12000]
    assert state(hass, "switch.load_balancer_enabled") == "on"


async def test_no_car_nothing_is_sent_a_new_car_starts_at_its_minimum(
    hass: HomeAssistant, site: Site, eno: EnovatesSimulator
) -> None:
    """An empty charger is left alone; a car that plugs in starts at 6 A and ramps."""
    await start_balancer(hass)
    site.report(3, 3, 3)
    await site.settle()
    eno.unplug()
    await site.run(3)
    assert writes(eno) == []
    assert attrs(hass, "sensor.load_balancer_eno_one_allocated_current")["reason"] == "idle"
    eno.plug_in()  # it offers its old 16 A limit until told otherwise
    await site.tick()
    assert writes(eno) == [6000]
    await site.run(15)
    assert writes(eno) == [6000, 10000]


async def test_unload_with_a_command_in_flight(
    hass: HomeAssistant, site: Site, eno: EnovatesSimulator
) -> None:
    """The command in flight completes before the entry is gone; nothing is left running."""
    entry = await start_balancer(hass)
    site.report(3, 3, 3)
    await site.settle()
    site.report(12, 3, 3)  # the write starts; the entry unloads before it ends
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert writes(eno) == [12000]
    await site.run(2)
    assert writes(eno) == [12000]


async def test_solar_mode_follows_the_grid_power_entity(
    hass: HomeAssistant, site: Site, eno: EnovatesSimulator
) -> None:
    """Importing: the solar car drops to its minimum, then pauses after the disable delay."""
    grid = "sensor.grid_power"
    hass.states.async_set(grid, "-2.5", {"unit_of_measurement": "kW"})
    entry = await start_balancer(
        hass,
        grid_power_entity=grid,
        chargers=[{"charger_id": SERIAL, "phases": 3, "mode": "solar"}],
    )
    site.report(1, 1, 1)
    await site.run(2)
    assert writes(eno) == []  # 2.5 kW export + 11 kW of the car: it keeps 16 A
    assert controller_of(entry).snapshot.surplus is not None
    hass.states.async_set(grid, "8000", {"unit_of_measurement": "W"})  # 3 kW left
    await site.run(6)
    assert writes(eno) == [6000]
    await site.run(180)
    assert writes(eno) == [6000, 0]
    assert attrs(hass, "sensor.load_balancer_state")["surplus"] is not None


async def test_meter_without_the_chargers(
    hass: HomeAssistant, site: Site, eno: EnovatesSimulator
) -> None:
    """A meter on the house circuits only: the cars come on top; the site power adds them."""
    await start_balancer(hass, meter_includes_chargers=False)
    site.includes_cars = False
    site.report(12, 3, 3)  # 12 + 16 A through the main breaker of L1
    await site.settle()
    assert writes(eno) == [12000]
    await site.tick()
    power = float(state(hass, "sensor.load_balancer_site_power"))
    charger = float(state(hass, "sensor.eno_one_power"))
    assert power == pytest.approx(18 * 230 + charger)
