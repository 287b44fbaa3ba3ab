"""The balancer's runtime entities (mode, limits, margin), its sensors and diagnostics."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest

from custom_components.ev_charging.const import DOMAIN
from custom_components.ev_charging.diagnostics import async_get_config_entry_diagnostics
from tests.enovates.conftest import SERIAL
from tests.simulators.enovates import EnovatesSimulator

from .conftest import Site, attrs, controller_of, start_balancer, state, writes

pytestmark = pytest.mark.usefixtures("unload_all")


async def _call(
    hass: HomeAssistant, domain: str, service: str, entity_id: str, **data: object
) -> None:
    await hass.services.async_call(domain, service, {"entity_id": entity_id, **data}, blocking=True)
    await hass.async_block_till_done()


async def test_sensors_show_the_decision(
    hass: HomeAssistant, site: Site, eno: EnovatesSimulator
) -> None:
    """State, headroom per phase, site power, the allocation; all on the balancer device."""
    entry = await start_balancer(hass)
    assert state(hass, "sensor.load_balancer_state") == "starting"
    assert state(hass, "binary_sensor.load_balancer_meter") == "off"
    site.report(4, 5, 6)
    await site.settle()
    assert state(hass, "sensor.load_balancer_state") == "active"
    assert state(hass, "sensor.load_balancer_available_current_l1") == "20.0"
    assert state(hass, "sensor.load_balancer_available_current_l3") == "18.0"
    # (4 + 15.82) + (5 + 15.76) + (6 + 15.89) A at 230 V
    assert state(hass, "sensor.load_balancer_site_power") == "14368.1"
    assert attrs(hass, "sensor.load_balancer_state")["non_ev_load"] == [4.0, 5.0, 6.0]
    assert attrs(hass, "sensor.load_balancer_state")["surplus"] is None
    assert state(hass, "binary_sensor.load_balancer_meter") == "on"
    assert state(hass, "binary_sensor.load_balancer_fallback_active") == "off"
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, "load_balancer")})
    assert device is not None
    assert device.name == "Load balancer"
    entities = er.async_entries_for_device(er.async_get(hass), device.id)
    assert {e.config_entry_id for e in entities} == {entry.entry_id}
    assert len(entities) == 19


async def test_mode_select_turns_a_charger_off_and_on(
    hass: HomeAssistant, site: Site, eno: EnovatesSimulator
) -> None:
    """Off: 0 A although a car waits; fast: it starts at its minimum and ramps."""
    entry = await start_balancer(hass)
    site.report(3, 3, 3)
    await site.settle()
    select = "select.load_balancer_eno_one_mode"
    await _call(hass, "select", "select_option", select, option="off")
    assert state(hass, select) == "off"
    assert writes(eno) == [0]
    assert entry.options["chargers"][0]["mode"] == "off"
    await site.tick()
    assert controller_of(entry).snapshot.chargers[SERIAL].reason == "idle"
    await _call(hass, "select", "select_option", select, option="fast")
    assert writes(eno) == [0]  # 5 s between two commands that are not reductions
    await site.run(5)
    assert writes(eno) == [0, 6000]
    await site.run(11)
    assert writes(eno) == [0, 6000, 10000]


async def test_limit_and_margin_numbers(
    hass: HomeAssistant, site: Site, eno: EnovatesSimulator
) -> None:
    """A lower phase limit cuts at once; the margin moves the headroom; both are kept."""
    entry = await start_balancer(hass)
    site.report(3, 3, 3)
    await site.settle()
    await _call(hass, "number", "set_value", "number.load_balancer_limit_l2", value=15)
    assert state(hass, "number.load_balancer_limit_l2") == "15.0"
    assert writes(eno) == [11000]
    await _call(hass, "number", "set_value", "number.load_balancer_margin", value=3)
    assert state(hass, "number.load_balancer_margin") == "3.0"
    assert writes(eno) == [11000, 9000]
    assert entry.options["phase_limits"] == [25.0, 15.0, 25.0]
    assert entry.options["margin"] == 3.0

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert state(hass, "number.load_balancer_limit_l2") == "15.0"


async def test_diagnostics_number_the_chargers(
    hass: HomeAssistant, site: Site, eno: EnovatesSimulator
) -> None:
    """Settings, the last decision and each command path; no serial number."""
    entry = await start_balancer(hass)
    site.report(12, 3, 3)
    await site.settle()
    data = await async_get_config_entry_diagnostics(hass, entry)
    assert data["operating_state"] == "overload"  # 12 + 16 A > 25 A, cut by this cycle
    assert data["settings"]["chargers"][0]["charger_id"] == "charger_1"
    charger = data["chargers"]["charger_1"]
    assert charger["loaded"] is True
    assert charger["commands"] == 1
    assert charger["accepted"] == 12.0
    assert charger["runtime"]["target"] == 12.0
    assert charger["config"]["max_current"] == 16.0
    assert SERIAL not in str(data)
