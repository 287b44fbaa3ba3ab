"""The balancer in a running Home Assistant, driving an ENO one on the simulator.

The meter is an entity the test sets (house load plus what the simulated car draws);
the car draws what the charger offers as soon as the EMS limit is written. The clock
is frozen and moved by hand.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant
import pytest

from tests.enovates.conftest import SERIAL
from tests.simulators.enovates import EnovatesSimulator

from .conftest import PORT2, Site, attrs, controller_of, start_balancer, state, writes

pytestmark = pytest.mark.usefixtures("unload_all")


async def test_follows_the_house_load(
    hass: HomeAssistant, site: Site, eno: EnovatesSimulator
) -> None:
    """Down at once on a meter event, up after the hold and in steps, per phase."""
    await start_balancer(hass)
    site.report(5, 5, 5)  # 16 A fits: nothing to change
    await site.settle()
    assert writes(eno) == []
    assert state(hass, "sensor.load_balancer_state") == "active"

    site.report(12, 5, 5)  # L1: 12 + 16 > 24 -> 12 A on the event, no tick needed
    await site.settle()
    assert writes(eno) == [12000]
    assert state(hass, "sensor.load_balancer_eno_one_allocated_current") == "12.0"

    site.report(2, 2, 2)  # room again: the increase waits for the hold (15 s)
    await site.run(14)
    assert writes(eno) == [12000]
    assert state(hass, "sensor.load_balancer_state") == "ramp_hold"
    await site.run(2)
    assert writes(eno) == [12000, 16000]
    assert eno.value(1, "current_l1") == 16000


async def test_meter_unavailable_falls_back_and_recovers(
    hass: HomeAssistant, site: Site, eno: EnovatesSimulator
) -> None:
    """Unavailable: the fallback current at once; back: ramp up from there."""
    entry = await start_balancer(hass)
    site.report(5, 5, 5)
    await site.settle()
    site.unavailable()
    await site.settle()
    assert writes(eno) == [6000]
    assert controller_of(entry).snapshot.fallback
    assert state(hass, "binary_sensor.load_balancer_fallback_active") == "on"
    assert state(hass, "binary_sensor.load_balancer_meter") == "off"
    assert state(hass, "sensor.load_balancer_state") == "fallback"
    await site.run(5, report=False)
    assert writes(eno) == [6000]

    site.report(5, 5, 5)
    await site.run(14)
    assert writes(eno) == [6000]  # held
    await site.run(2)
    assert writes(eno) == [6000, 10000]  # +4 A steps
    await site.run(10)
    assert writes(eno) == [6000, 10000, 14000]
    await site.run(10)
    assert writes(eno) == [6000, 10000, 14000, 16000]
    assert state(hass, "binary_sensor.load_balancer_meter") == "on"


async def test_restart_sends_nothing_before_a_fresh_reading(
    hass: HomeAssistant, site: Site, eno: EnovatesSimulator
) -> None:
    """Reloaded: the charger keeps its 12 A until the meter reports, then ramps from 12."""
    entry = await start_balancer(hass)
    site.report(12, 5, 5)
    await site.settle()
    assert writes(eno) == [12000]

    assert await hass.config_entries.async_unload(entry.entry_id)
    site.report(0, 0, 0)  # the house load fell while the balancer was away
    site.freezer.tick(1)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await site.run(5, report=False)  # the meter stays silent: nothing is sent
    assert writes(eno) == [12000]
    assert state(hass, "sensor.load_balancer_state") == "starting"
    assert state(hass, "sensor.load_balancer_eno_one_allocated_current") == "unknown"

    await site.run(14)  # fresh readings: seeded from the 12 A the charger offers
    assert writes(eno) == [12000]
    assert state(hass, "sensor.load_balancer_eno_one_allocated_current") == "12.0"
    await site.run(2)
    assert writes(eno) == [12000, 16000]


async def test_restart_with_a_dead_meter_falls_back_after_stale_after(
    hass: HomeAssistant, site: Site, eno: EnovatesSimulator
) -> None:
    """A meter that never reports after the start: the fallback after 30 s, not before."""
    await start_balancer(hass)
    await site.run(29, report=False)
    assert writes(eno) == []
    await site.run(1, report=False)
    assert writes(eno) == [6000]


async def test_overload_is_cut_on_the_meter_event(
    hass: HomeAssistant, site: Site, eno: EnovatesSimulator
) -> None:
    """An oven on L2 takes the phase over its limit: the cut comes with the reading."""
    await start_balancer(hass)
    site.report(3, 3, 3)
    await site.settle()
    site.report(3, 17, 3)  # L2: 17 + 16 = 33 A > 25 A
    await site.settle()
    assert writes(eno) == [7000]  # 24 - 17
    assert state(hass, "sensor.load_balancer_state") == "overload"
    assert state(hass, "sensor.load_balancer_available_current_l2") == "7.0"
    site.report(3, 20, 3)  # no room for the minimum: paused
    await site.settle()
    assert writes(eno) == [7000, 0]
    await site.tick()
    assert state(hass, "sensor.load_balancer_state") == "paused"
    assert attrs(hass, "sensor.load_balancer_eno_one_allocated_current") == {
        "reason": "paused",
        "share": 0.0,
        "phases": 3,
        "state_class": "measurement",
        "unit_of_measurement": "A",
        "device_class": "current",
        "friendly_name": "Load balancer ENO one allocated current",
    }


async def test_two_ports_share_by_priority(
    hass: HomeAssistant, site: Site, dual: EnovatesSimulator
) -> None:
    """The higher priority is served first; the other resumes when there is room."""
    await start_balancer(
        hass,
        chargers=[
            {"charger_id": SERIAL, "phases": 3, "priority": 1},
            {"charger_id": PORT2, "phases": 3, "priority": 0},
        ],
    )
    site.report(10, 10, 10)  # 14 A for two cars of 16 A
    await site.settle()
    assert writes(dual, 1) == [14000]
    assert writes(dual, 2) == [0]
    site.report(0, 0, 0)  # 24 A: port 1 back to 16 after the hold, port 2 resumes at 6
    await site.run(14)
    assert writes(dual, 1) == [14000]
    assert writes(dual, 2) == [0]
    await site.run(2)
    assert writes(dual, 1) == [14000, 16000]
    await site.run(15)
    assert writes(dual, 2) == [0, 6000]
    await site.run(16)
    assert writes(dual, 2) == [0, 6000, 8000]  # 24 - 16
    assert state(hass, "sensor.load_balancer_eno_one_port_2_allocated_current") == "8.0"
